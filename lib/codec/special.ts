/**
 * Codecs for kernel-defined values: LPM trie keys, file descriptors stored in fd maps, and the
 * `bpf_spin_lock` placeholder.
 *
 * @module
 */
import { checkSpan } from "./span.ts";
import { type Codec, CodecError, describeValue } from "./codec.ts";
import { ArgumentError } from "../errors.ts";

/**
 * An LPM trie key (`struct bpf_lpm_trie_key_u8`): a prefix length in bits and the address bytes,
 * most significant byte first.
 *
 * @example
 * ```ts
 * import type { LpmKey } from "@tsbpf/core";
 * const tenSlash8: LpmKey = { prefixLen: 8, data: new Uint8Array([10, 0, 0, 0]) };
 * ```
 */
export interface LpmKey {
  /** Number of leading bits of `data` that count. */
  prefixLen: number;
  /** The address, network byte order. */
  data: Uint8Array;
}

/**
 * Codec of LPM trie keys with `dataSize` address bytes (4 for IPv4, 16 for IPv6); the key size
 * is `4 + dataSize`. Also accepts `"a.b.c.d/len"` strings when `dataSize` is 4.
 *
 * @example
 * ```ts
 * import { lpmKey } from "@tsbpf/core";
 * const ipv4 = lpmKey(4);
 * ipv4.size; // 8
 * ```
 */
export function lpmKey(dataSize: number): Codec<LpmKey> {
  if (!Number.isInteger(dataSize) || dataSize < 1 || dataSize > 256) {
    throw new ArgumentError(
      "dataSize",
      `LPM key data size must be 1..256 bytes, got ${String(dataSize)}`,
    );
  }
  const bits = dataSize * 8;
  const name = `lpm_key<${dataSize}>`;
  return {
    size: 4 + dataSize,
    align: 4,
    name,
    btf: { kind: "bytes" },
    encode(value: LpmKey | string, view: DataView, offset: number): void {
      checkSpan(view, offset, 4 + dataSize, name);
      const key = typeof value === "string" ? parseCidr(value, dataSize) : value;
      if (typeof key !== "object" || key === null) {
        throw new CodecError(`${name} needs { prefixLen, data }, got ${describeValue(value)}`);
      }
      const { prefixLen, data } = key;
      if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > bits) {
        throw new CodecError(`prefix length ${prefixLen} is not in 0..${bits}`, "prefixLen");
      }
      if (!(data instanceof Uint8Array) || data.length !== dataSize) {
        throw new CodecError(
          `needs a Uint8Array of exactly ${dataSize} bytes, got ${describeValue(data)}`,
          "data",
        );
      }
      view.setUint32(offset, prefixLen, true);
      new Uint8Array(view.buffer, view.byteOffset + offset + 4, dataSize).set(data);
    },
    decode(view: DataView, offset: number): LpmKey {
      checkSpan(view, offset, 4 + dataSize, name);
      const start = view.byteOffset + offset + 4;
      return {
        prefixLen: view.getUint32(offset, true),
        data: new Uint8Array(view.buffer.slice(start, start + dataSize)),
      };
    },
  };
}

function parseCidr(text: string, dataSize: number): LpmKey {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text);
  if (m === null || dataSize !== 4) {
    throw new CodecError(
      dataSize === 4
        ? `"${text}" is not an IPv4 prefix such as "10.0.0.0/8"`
        : `strings are accepted only for 4-byte (IPv4) LPM keys; give { prefixLen, data }`,
    );
  }
  const octets = [m[1], m[2], m[3], m[4]].map(Number);
  if (octets.some((o) => o > 255)) throw new CodecError(`"${text}" has an octet above 255`);
  const prefixLen = m[5] === undefined ? 32 : Number(m[5]);
  return { prefixLen, data: new Uint8Array(octets) };
}

/** Anything that owns a file descriptor: a `BpfMap`, a `Program`, or a raw number. */
export type FdLike = number | { readonly fd: number };

function fdOf(value: FdLike): number {
  const fd = typeof value === "number" ? value : value?.fd;
  if (!Number.isInteger(fd) || (fd as number) < 0) {
    throw new CodecError(
      `needs a file descriptor (a number, or an object with .fd such as a BpfMap or Program), got ${
        describeValue(value)
      }`,
    );
  }
  return fd as number;
}

/**
 * The 4-byte value of fd maps (`prog_array`, `array_of_maps`, `hash_of_maps`, `perf_event_array`,
 * `cgroup_array`, `xskmap`, and 4-byte `sockmap`/`sockhash`/`reuseport_sockarray`): written as a
 * file descriptor (a number or anything with `.fd`), read back as what the kernel reports, the
 * object's id (program id, inner map id).
 *
 * @example
 * ```ts
 * import { asm, BpfMap, fd32, Program, u32 } from "@tsbpf/core";
 * using prog = Program.load({ type: "socket_filter", insns: asm`r0 = 0\nexit`, license: "GPL" });
 * using jumps = BpfMap.create({ type: "prog_array", key: u32, value: fd32, maxEntries: 4 });
 * jumps.set(0, prog);       // stores the program
 * jumps.get(0);             // its id
 * ```
 */
export const fd32: Codec<FdLike> = {
  size: 4,
  align: 4,
  name: "fd",
  btf: { kind: "int", signed: false },
  encode(value: FdLike, view: DataView, offset: number): void {
    checkSpan(view, offset, 4, "fd");
    view.setUint32(offset, fdOf(value), true);
  },
  decode(view: DataView, offset: number): number {
    checkSpan(view, offset, 4, "fd");
    return view.getUint32(offset, true);
  },
};

/**
 * The 8-byte value of `sockmap`, `sockhash` and `reuseport_sockarray`: written as a socket file
 * descriptor, read back as the socket's cookie (a bigint).
 *
 * @example
 * ```ts ignore
 * import { BpfMap, fd64, u32 } from "@tsbpf/core";
 * using socks = BpfMap.create({ type: "sockmap", key: u32, value: fd64, maxEntries: 8 });
 * socks.set(0, socketFd);
 * socks.get(0); // the socket cookie, e.g. 4097n
 * ```
 */
export const fd64: Codec<FdLike | bigint> = {
  size: 8,
  align: 8,
  name: "fd64",
  btf: { kind: "int", signed: false },
  encode(value: FdLike | bigint, view: DataView, offset: number): void {
    checkSpan(view, offset, 8, "fd64");
    if (typeof value === "bigint") {
      // A value read back (an id or cookie) written again as it came.
      if (value < 0n || value > 0xffff_ffff_ffff_ffffn) {
        throw new CodecError(`fd64: ${value}n does not fit 64 bits`);
      }
      view.setBigUint64(offset, value, true);
      return;
    }
    view.setBigUint64(offset, BigInt(fdOf(value)), true);
  },
  decode(view: DataView, offset: number): bigint {
    checkSpan(view, offset, 8, "fd64");
    return view.getBigUint64(offset, true);
  },
};

/**
 * A `struct bpf_spin_lock` (4 bytes) inside a map value. The kernel owns the lock word: it is
 * written as zero and left out of decoded objects (like padding), and a map whose value codec
 * contains it gets the BTF that `BPF_F_LOCK` needs. Put it in a struct:
 * `struct({ lock: spinLock, count: u32, total: u64 })`, whose values are `{ count, total }`.
 *
 * @example
 * ```ts
 * import { spinLock, struct, u32, u64 } from "@tsbpf/core";
 * const Counter = struct({ lock: spinLock, hits: u32, total: u64 });
 * Counter.size; // 16
 * ```
 */
export const spinLock: Codec<undefined> = {
  size: 4,
  align: 4,
  name: "bpf_spin_lock",
  btf: { kind: "spin_lock" },
  encode(_value: undefined, view: DataView, offset: number): void {
    checkSpan(view, offset, 4, "bpf_spin_lock");
    view.setUint32(offset, 0, true);
  },
  decode(): undefined {
    return undefined;
  },
};
