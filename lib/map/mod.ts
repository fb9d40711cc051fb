/**
 * BPF maps: `BpfMap` (create, read, write, iterate, batch, pin), the map type table, per-CPU
 * helpers, and the minimal BTF encoder that local storage and spin-lock values need.
 *
 * ```ts
 * import { BpfMap, struct, u32, u64 } from "@tsbpf/core";
 * using counts = BpfMap.create({
 *   type: "hash",
 *   key: u32,
 *   value: struct({ pkts: u64, bytes: u64 }),
 *   maxEntries: 1024,
 * });
 * counts.set(42, { pkts: 3n, bytes: 120n });
 * counts.get(42); // { pkts: 3n, bytes: 120n }
 * ```
 *
 * @module
 */
export {
  type BatchOptions,
  BpfMap,
  type IterateOptions,
  type MapBtfRef,
  type MapCodecs,
  type MapCreateOptions,
  type MapValue,
  type PerCpuMapType,
} from "./map.ts";
export { BpfMapBase } from "./map_base.ts";
export { BpfMapElements } from "./map_elements.ts";
export { BpfMapIteration } from "./map_iteration.ts";
export { BpfMapBatch } from "./map_batch.ts";
export { BatchReader, type BatchSource, type EntryDecoder, TypedBatchReader } from "./batch.ts";
export { MapClosedError, MapOpNotSupportedError } from "./errors.ts";
export { type MapInfo, readMapInfo } from "./info.ts";
export {
  MAP_OPS,
  MAP_TYPES,
  type MapIteration,
  type MapKeyKind,
  type MapOp,
  type MapTypeInfo,
  mapTypeInfo,
  type MapTypeInput,
  type MapValueKind,
  type Refusal,
  resolveMapType,
} from "./map_types.ts";
export { parseCpuList, possibleCpus } from "./cpus.ts";
export type { FdHandle } from "../fd.ts";
export {
  BtfBuilder,
  type BtfMemberSpec,
  hasSpinLock,
  type MapBtf,
  mapBtf,
} from "../btf/builder.ts";
export { loadBtf } from "./btf_load.ts";
