// SPDX-License-Identifier: GPL-2.0
/* examples/firewall.ts: a cgroup egress firewall. Packets that processes of the cgroup send to a
 * TCP or UDP destination port listed in `blocked` are dropped (and counted there); everything
 * else passes. Rebuild with ./build.sh. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);   /* destination port, host byte order */
	__type(value, __u64); /* packets dropped */
} blocked SEC(".maps");

SEC("cgroup_skb/egress")
int egress(struct __sk_buff *skb)
{
	struct iphdr ip;
	__u16 ports[2]; /* source, destination: the first 4 bytes of TCP and UDP headers */
	__u16 dport;
	__u64 *drops;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return 1;
	if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0)
		return 1;
	if (ip.protocol != IPPROTO_TCP && ip.protocol != IPPROTO_UDP)
		return 1;
	if (bpf_skb_load_bytes(skb, ip.ihl * 4, ports, sizeof(ports)) < 0)
		return 1;
	dport = bpf_ntohs(ports[1]);
	drops = bpf_map_lookup_elem(&blocked, &dport);
	if (!drops)
		return 1; /* allow */
	__sync_fetch_and_add(drops, 1);
	return 0; /* drop */
}

char LICENSE[] SEC("license") = "GPL";
