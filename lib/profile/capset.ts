/**
 * The calling thread's capability sets through capget(2)/capset(2), and running a function with
 * fewer effective capabilities. Capabilities belong to a thread, and bpf(2) checks the caller's:
 * FFI calls run on the JavaScript thread, so lowering that thread's effective set and calling
 * bpf(2) asks the kernel what a less privileged process would get — without a child process. The
 * permitted set is kept, so the effective set can be restored afterwards.
 *
 * @module
 */
import { alloc } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";

/** `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set. */
const VERSION_3 = 0x20080522;

let header: Uint8Array<ArrayBuffer> | undefined;
let data: Uint8Array<ArrayBuffer> | undefined;

function buffers(): [DataView, DataView, Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>] {
  header ??= alloc(8);
  data ??= alloc(24);
  const h = new DataView(header.buffer);
  h.setUint32(0, VERSION_3, true);
  h.setInt32(4, 0, true); // 0: the calling thread
  return [h, new DataView(data.buffer), header, data];
}

/**
 * The calling thread's effective and permitted capability sets (bit N = capability N), or
 * `undefined` when capget(2) fails.
 *
 * @example
 * ```ts
 * import { threadCapabilities } from "@tsbpf/core/profile";
 * const caps = threadCapabilities();
 * caps !== undefined && (caps.effective >> 39n & 1n) === 1n; // holds CAP_BPF
 * ```
 */
export function threadCapabilities():
  | { effective: bigint; permitted: bigint; inheritable: bigint }
  | undefined {
  const s = sys();
  const [, d, h, b] = buffers();
  if (s.syscall(s.nr.capget, s.addressOf(h), s.addressOf(b)) !== 0n) return undefined;
  const word = (o: number) =>
    BigInt(d.getUint32(o, true)) | (BigInt(d.getUint32(o + 12, true)) << 32n);
  return { effective: word(0), permitted: word(4), inheritable: word(8) };
}

function setSets(effective: bigint, permitted: bigint, inheritable: bigint): number {
  const s = sys();
  const [, d, h, b] = buffers();
  d.setUint32(0, Number(effective & 0xffff_ffffn), true);
  d.setUint32(4, Number(permitted & 0xffff_ffffn), true);
  d.setUint32(8, Number(inheritable & 0xffff_ffffn), true);
  d.setUint32(12, Number(effective >> 32n), true);
  d.setUint32(16, Number(permitted >> 32n), true);
  d.setUint32(20, Number(inheritable >> 32n), true);
  return Number(s.syscall(s.nr.capset, s.addressOf(h), s.addressOf(b)));
}

/**
 * Runs `fn` with the calling thread's effective capabilities lowered to `mask` (intersected with
 * what it holds), then restores them, also when `fn` throws. The permitted and inheritable sets
 * are not changed.
 *
 * @throws {Error} when capset(2) refuses, or when the set cannot be restored (then the process
 * keeps the lowered set, which the message says).
 * @example
 * ```ts
 * import { withEffectiveCapabilities } from "@tsbpf/core/profile";
 * // Ask the kernel as a process with CAP_BPF only (bit 39):
 * withEffectiveCapabilities(1n << 39n, () => 0);
 * ```
 */
export function withEffectiveCapabilities<T>(mask: bigint, fn: () => T): T {
  const now = threadCapabilities();
  if (now === undefined) {
    throw new Error("capget(2) failed: cannot read this thread's capabilities");
  }
  const r = setSets(now.effective & mask, now.permitted, now.inheritable);
  if (r !== 0) throw new Error(`capset(2) failed with errno ${-r}`);
  try {
    return fn();
  } finally {
    const back = setSets(now.effective, now.permitted, now.inheritable);
    if (back !== 0) {
      // deno-lint-ignore no-unsafe-finally
      throw new Error(
        `capset(2) could not restore the effective capabilities (errno ${-back}); ` +
          "this thread now runs with fewer capabilities",
      );
    }
  }
}
