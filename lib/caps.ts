/**
 * The process's effective capabilities, from `/proc/self/status`.
 *
 * @module
 */
import { readFileText } from "./host_fs.ts";

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
