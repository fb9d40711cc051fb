/**
 * The process's effective capabilities, from `/proc/self/status`.
 *
 * @module
 */
import { readFileText } from "./host_fs.ts";
import { memlockChargedKernel } from "./sys/memlock.ts";

/** Capability numbers that decide what BPF may do (`linux/capability.h`). */
export const Capability = {
  /** `CAP_NET_ADMIN`. */
  NET_ADMIN: 12,
  /** `CAP_SYS_ADMIN`. */
  SYS_ADMIN: 21,
  /** `CAP_PERFMON`. */
  PERFMON: 38,
  /** `CAP_BPF`. */
  BPF: 39,
} as const;

/**
 * The effective capability set of this process as a bit mask (bit N = capability N), or
 * `undefined` where `/proc` cannot be read (off Linux, or without read permission).
 *
 * @example
 * ```ts
 * import { effectiveCapabilities } from "@tsbpf/core";
 * const caps = effectiveCapabilities();
 * ```
 */
export function effectiveCapabilities(): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileText("/proc/self/status"));
    return m ? BigInt("0x" + m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the process holds what the kernel's `bpf_capable()` and `perfmon_capable()` ask for:
 * `CAP_BPF` (or `CAP_SYS_ADMIN`) and `CAP_PERFMON` (or `CAP_SYS_ADMIN`). Where capabilities cannot
 * be read, assumes a privileged loader.
 *
 * @example
 * ```ts
 * import { isBpfPrivileged } from "@tsbpf/core";
 * console.log(isBpfPrivileged());
 * ```
 */
export function isBpfPrivileged(caps: bigint | undefined = effectiveCapabilities()): boolean {
  if (caps === undefined) return true;
  const has = (c: number) => (caps >> BigInt(c)) & 1n;
  const admin = has(Capability.SYS_ADMIN) === 1n;
  return (admin || has(Capability.BPF) === 1n) && (admin || has(Capability.PERFMON) === 1n);
}

let memlockCache: boolean | undefined;

/**
 * Whether an `EPERM` from bpf(2) means the locked-memory limit: the running kernel is older than
 * 5.11 (it charges BPF maps and programs to `RLIMIT_MEMLOCK`) and the process is privileged (so
 * the refusal is not about capabilities). Read once.
 *
 * @example
 * ```ts
 * import { memlockCharged } from "./caps.ts";
 * memlockCharged(); // false on 5.11 and later
 * ```
 */
export function memlockCharged(): boolean {
  if (memlockCache === undefined) {
    // Asked of the kernel once (memcg accounting may be backported); the release decides when
    // the kernel cannot be asked.
    let old = memlockChargedKernel();
    if (old === undefined) {
      let release = "";
      try {
        release = readFileText("/proc/sys/kernel/osrelease");
      } catch {
        // unknown: assume a current kernel
      }
      const m = /^(\d+)\.(\d+)/.exec(release);
      old = m !== null && (Number(m[1]) < 5 || (Number(m[1]) === 5 && Number(m[2]) < 11));
    }
    memlockCache = old && isBpfPrivileged();
  }
  return memlockCache;
}
