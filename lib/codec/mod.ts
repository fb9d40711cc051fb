/**
 * Codecs: fixed-size binary layouts for BPF map keys and values. Pure code, no system calls.
 *
 * ```ts
 * import { struct, u32, u64 } from "@tsbpf/core";
 * const Stats = struct({ pkts: u64, bytes: u64 });
 * const view = new DataView(new ArrayBuffer(Stats.size));
 * Stats.encode({ pkts: 3n, bytes: 120n }, view, 0);
 * Stats.decode(view, 0); // { pkts: 3n, bytes: 120n }
 * ```
 *
 * @module
 */
export {
  type BtfShape,
  type Codec,
  CodecError,
  type CodecValue,
  describeValue,
  type StructFieldInfo,
} from "./codec.ts";
export { bool, f32, f64, i16, i32, i64, i8, u16, u32, u64, u8 } from "./int.ts";
export { bytes, cstring, isPadding, pad } from "./bytes.ts";
export { freshBytes } from "./fresh.ts";
export {
  array,
  type FieldAt,
  struct,
  type StructCodec,
  type StructFields,
  type StructFieldValue,
  type StructHiddenKeys,
  type StructOptions,
  type StructValue,
} from "./compound.ts";
export { codecFromBtf } from "./from_btf.ts";
export { fd32, fd64, type FdLike, type LpmKey, lpmKey, spinLock } from "./special.ts";
