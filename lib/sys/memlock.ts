/**
 * `RLIMIT_MEMLOCK` on kernels that charge BPF maps, programs and BTF to it. Linux 5.11 moved that
 * memory to memory-cgroup accounting; before it, the default limit (often 64 KiB) makes map
 * creation fail with `EPERM`. As libbpf and cilium/ebpf do, tsbpf raises the limit to infinity
 * once, before the first object is created, on those kernels only.
 *
 * Deciding needs no syscall on a kernel whose release is 5.11 or later. On an older release the
 * kernel is asked once, because distributions backport memcg accounting: the helper
 * `bpf_ktime_get_coarse_ns` came with it in 5.11, so a kernel whose verifier knows that helper
 * accounts BPF memory to the memory cgroup.
 *
 * @module
 */
import { BpfCmd } from "../../types/cmd.ts";
import { HelperId } from "../../types/helpers.ts";
import { readFileText } from "../host_fs.ts";
import { alloc } from "./memory.ts";
import { sys } from "./mod.ts";

/** `RLIMIT_MEMLOCK` (asm-generic/resource.h). */
const RLIMIT_MEMLOCK = 8n;
/** `RLIM_INFINITY` as a 64-bit limit. */
const RLIM_INFINITY = 0xffffffffffffffffn;

let state: "unknown" | "probing" | "decided" = "unknown";
let charged: boolean | undefined;
let raised = false;

/**
 * Whether the running kernel charges BPF memory to `RLIMIT_MEMLOCK` (no memcg accounting): decided
 * once per process; `undefined` while it cannot tell (the probe was refused).
 *
 * @example
 * ```ts
 * import { memlockChargedKernel } from "./memlock.ts";
 * memlockChargedKernel(); // false on 5.11 and later
 * ```
 */
export function memlockChargedKernel(): boolean | undefined {
  if (state === "unknown") decide();
  return charged;
}

/**
 * Raises `RLIMIT_MEMLOCK` to infinity once, when the kernel charges BPF memory to it (kernels
 * before 5.11 without a backport). Called by the `bpf_cmds` wrappers that create maps, programs
 * and BTF objects; a process that may not raise the limit keeps it, and a later `EPERM` is then
 * reported as the limit (`ResourceError`).
 *
 * @example
 * ```ts
 * import { raiseMemlockIfCharged } from "./memlock.ts";
 * raiseMemlockIfCharged(); // nothing to do on 5.11 and later
 * ```
 */
export function raiseMemlockIfCharged(): void {
  if (state === "decided" && (raised || charged !== true)) return;
  if (state === "probing") return; // the probe's own load
  if (state === "unknown") decide();
  if (charged !== true || raised) return;
  raised = true;
  const s = sys();
  const next = alloc(16);
  const view = new DataView(next.buffer);
  view.setBigUint64(0, RLIM_INFINITY, true);
  view.setBigUint64(8, RLIM_INFINITY, true);
  // prlimit64(0, RLIMIT_MEMLOCK, &next, NULL); without CAP_SYS_RESOURCE it may fail: keep the limit.
  s.syscall(s.nr.prlimit64, 0n, RLIMIT_MEMLOCK, s.addressOf(next), 0n);
}

function decide(): void {
  let release = "";
  try {
    release = readFileText("/proc/sys/kernel/osrelease");
  } catch {
    // unknown release: ask the kernel
  }
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (m !== null && (Number(m[1]) > 5 || (Number(m[1]) === 5 && Number(m[2]) >= 11))) {
    charged = false;
    state = "decided";
    return;
  }
  state = "probing";
  try {
    const known = knowsHelper(HelperId.ktime_get_coarse_ns);
    charged = known === undefined ? undefined : !known;
  } finally {
    state = "decided";
  }
}

/**
 * Whether the verifier knows helper `id`: a socket filter calling it is loaded with a log;
 * `invalid func` (or, before 5.19, `unknown func`) means it does not. `undefined` when the kernel
 * refused without a log.
 */
function knowsHelper(id: number): boolean | undefined {
  const s = sys();
  const insns = alloc(16);
  const iv = new DataView(insns.buffer);
  insns[0] = 0x85; // call id
  iv.setInt32(4, id, true);
  insns[8] = 0x95; // exit (R0 unread: refused later, which is enough)
  const license = alloc(4);
  license.set([0x47, 0x50, 0x4c, 0]); // "GPL"
  const log = alloc(4096);
  const attr = alloc(128);
  const av = new DataView(attr.buffer);
  av.setUint32(0, 1, true); // prog_type: socket filter
  av.setUint32(4, 2, true); // insn_cnt
  av.setBigUint64(8, s.addressOf(insns), true); // insns
  av.setBigUint64(16, s.addressOf(license), true); // license
  av.setUint32(24, 1, true); // log_level
  av.setUint32(28, log.length, true); // log_size
  av.setBigUint64(32, s.addressOf(log), true); // log_buf
  const fd = s.bpf(BpfCmd.PROG_LOAD, attr, 48, insns, log);
  if (fd >= 0) {
    s.close(fd);
    return true;
  }
  const text = new TextDecoder().decode(log.subarray(0, log.indexOf(0) < 0 ? 0 : log.indexOf(0)));
  if (/invalid func|unknown func/.test(text)) return false;
  return text.trim() === "" ? undefined : true;
}
