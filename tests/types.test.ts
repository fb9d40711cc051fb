import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ATTACH_TYPE_COUNT,
  AttachFlag,
  AttachType,
  attachTypeByName,
  attachTypeName,
  BPF_CMD_COUNT,
  BpfCmd,
  bpfCmdName,
  ElemFlag,
  ERRNO_MESSAGES,
  ERRNO_NAMES,
  errnoName,
  HELPER_COUNT,
  HELPER_NAMES,
  HelperId,
  helperIdByName,
  helperName,
  LINK_TYPE_COUNT,
  LinkType,
  linkTypeByName,
  linkTypeName,
  MAP_TYPE_COUNT,
  MapFlag,
  MapType,
  mapTypeByName,
  mapTypeName,
  PROG_TYPE_COUNT,
  ProgLoadFlag,
  ProgType,
  progTypeByName,
  progTypeName,
} from "../types/mod.ts";

test("bpf_cmd: numbers, aliases and names", () => {
  assert.equal(BpfCmd.MAP_CREATE, 0);
  assert.equal(BpfCmd.PROG_LOAD, 5);
  assert.equal(BpfCmd.PROG_RUN, BpfCmd.PROG_TEST_RUN);
  assert.equal(bpfCmdName(0), "BPF_MAP_CREATE");
  assert.equal(bpfCmdName(10), "BPF_PROG_TEST_RUN");
  assert.equal(bpfCmdName(BPF_CMD_COUNT), `BPF_CMD_${BPF_CMD_COUNT}`);
  assert.equal(bpfCmdName(-1), "BPF_CMD_-1");
});

test("prog types: names both ways, sentinel excluded", () => {
  assert.equal(ProgType.SOCKET_FILTER, 1);
  assert.equal(progTypeName(ProgType.XDP), "xdp");
  assert.equal(progTypeName(0), "unspec");
  assert.equal(progTypeName(PROG_TYPE_COUNT), undefined);
  assert.equal(progTypeByName("socket_filter"), 1);
  assert.equal(progTypeByName("SOCKET_FILTER"), 1);
  assert.equal(progTypeByName("BPF_PROG_TYPE_SOCKET_FILTER"), 1);
  assert.equal(progTypeByName("nope"), undefined);
  assert.equal(progTypeByName("toString"), undefined);
  assert.ok(!("__MAX_BPF_PROG_TYPE" in ProgType) && !("MAX_BPF_PROG_TYPE" in ProgType));
  for (let i = 0; i < PROG_TYPE_COUNT; i++) assert.equal(progTypeByName(progTypeName(i)!), i);
});

test("map types: canonical names for aliases, both accepted", () => {
  assert.equal(MapType.CGROUP_STORAGE, MapType.CGROUP_STORAGE_DEPRECATED);
  assert.equal(mapTypeName(MapType.CGROUP_STORAGE), "cgroup_storage");
  assert.equal(mapTypeName(MapType.PERCPU_CGROUP_STORAGE), "percpu_cgroup_storage");
  assert.equal(mapTypeByName("cgroup_storage_deprecated"), MapType.CGROUP_STORAGE);
  assert.equal(mapTypeByName("cgroup_storage"), MapType.CGROUP_STORAGE);
  for (let i = 0; i < MAP_TYPE_COUNT; i++) assert.equal(mapTypeByName(mapTypeName(i)!), i);
});

test("attach and link types", () => {
  assert.equal(AttachType.CGROUP_INET_INGRESS, 0);
  assert.equal(attachTypeName(AttachType.TRACE_FENTRY), "trace_fentry");
  assert.equal(attachTypeByName("BPF_TRACE_FENTRY"), AttachType.TRACE_FENTRY);
  assert.equal(attachTypeName(ATTACH_TYPE_COUNT), undefined);
  assert.equal(LinkType.UNSPEC, 0);
  assert.equal(linkTypeName(LinkType.TRACING), "tracing");
  assert.equal(linkTypeByName("BPF_LINK_TYPE_XDP"), LinkType.XDP);
  assert.equal(linkTypeName(LINK_TYPE_COUNT), undefined);
});

test("helpers: ids and names", () => {
  assert.equal(HELPER_NAMES[0], "unspec");
  assert.equal(HELPER_NAMES[1], "map_lookup_elem");
  assert.equal(HELPER_NAMES.length, HELPER_COUNT);
  assert.equal(HelperId.trace_printk, 6);
  assert.equal(helperName(6), "trace_printk");
  assert.equal(helperName(HELPER_COUNT), undefined);
  assert.equal(helperIdByName("map_lookup_elem"), 1);
  assert.equal(helperIdByName("bpf_map_lookup_elem"), 1);
  assert.equal(helperIdByName("bpf_nope"), undefined);
});

test("flags", () => {
  assert.deepEqual(ElemFlag, { ANY: 0, NOEXIST: 1, EXIST: 2, LOCK: 4 });
  assert.equal(MapFlag.NO_PREALLOC, 1);
  assert.equal(MapFlag.MMAPABLE, 1 << 10);
  assert.equal(ProgLoadFlag.SLEEPABLE, 1 << 4);
  assert.equal(ProgLoadFlag.TOKEN_FD, MapFlag.TOKEN_FD);
  assert.equal(AttachFlag.LINK, MapFlag.LINK);
  assert.equal(AttachFlag.ALLOW_MULTI, 2);
});

test("errno names and messages", () => {
  assert.equal(ERRNO_NAMES[1], "EPERM");
  assert.equal(ERRNO_NAMES[13], "EACCES");
  assert.equal(ERRNO_NAMES[22], "EINVAL");
  assert.equal(ERRNO_NAMES[28], "ENOSPC");
  assert.equal(ERRNO_NAMES[95], "EOPNOTSUPP");
  assert.equal(ERRNO_NAMES[133], "EHWPOISON");
  assert.equal(ERRNO_NAMES[524], "ENOTSUPP");
  assert.equal(errnoName(7), "E2BIG");
  assert.equal(errnoName(-22), "EINVAL");
  assert.equal(errnoName(9999), "errno 9999");
  assert.equal(ERRNO_MESSAGES[1], "Operation not permitted");
  for (let i = 1; i <= 133; i++) {
    if (i === 41 || i === 58) continue; // unused numbers on Linux
    assert.ok(ERRNO_NAMES[i], `errno ${i} has a name`);
    assert.ok(ERRNO_MESSAGES[i], `errno ${i} has a message`);
  }
});
