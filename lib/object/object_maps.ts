/**
 * How `loadObject` sizes, names, checks and fills an object's maps, libbpf's way: ring buffer and perf
 * array sizes, kernel names of internal maps, compatibility of reused (pinned or replacement) maps,
 * initial values of program arrays and maps of maps, typed codecs from BTF, and map references in
 * the code. Internal to `lib/object/`.
 *
 * @module
 */
import { MapType } from "../../types/map_type.ts";
import { MapFlag } from "../../types/flags.ts";
import { PSEUDO_MAP_FD, PSEUDO_MAP_VALUE } from "../insn/opcodes.ts";
import type { Codec } from "../codec/codec.ts";
import { codecFromBtf } from "../codec/from_btf.ts";
import type { BpfMap } from "../map/map.ts";
import { possibleCpus } from "../map/cpus.ts";
import type { Program } from "../program/program.ts";
import { ObjectError } from "../elf/error.ts";
import { internalMapName, type MapSpec, type ObjectSpec, type ProgramSpec } from "../elf/spec.ts";
import { pageSize } from "./host.ts";
import { where } from "./load_errors.ts";

export const PIN_BY_NAME = 1;

/** libbpf's ring buffer size: a power-of-2 number of pages, at least the size asked for. */
function ringbufSize(size: number, page: number): number {
  if (size === 0) return 0;
  let n = page;
  while (n < size) n *= 2;
  return n;
}

/** max_entries the kernel gets for `m`, with libbpf's fix-ups. */
export function effectiveMaxEntries(m: MapSpec): number {
  if (m.type === MapType.PERF_EVENT_ARRAY && m.maxEntries === 0) return possibleCpus();
  if (m.type === MapType.RINGBUF || m.type === MapType.USER_RINGBUF) {
    return ringbufSize(m.maxEntries, pageSize());
  }
  return m.maxEntries;
}

/** The kernel name of a map: libbpf's `<object>.rodata` rule for internal maps. */
export function kernelMapName(spec: ObjectSpec, m: MapSpec): string {
  if (m.kind === "global" || m.kind === "kconfig") return internalMapName(spec.name, m.section);
  return m.name.slice(0, 15).replace(/[^A-Za-z0-9_.]/g, "_");
}

export function checkCompatible(map: BpfMap, m: MapSpec, maxEntries: number, what: string): void {
  const info = map.info();
  const diffs: string[] = [];
  if (info.type !== m.type) diffs.push(`type ${info.type}, the spec ${m.type}`);
  if (info.keySize !== m.keySize) diffs.push(`key size ${info.keySize}, the spec ${m.keySize}`);
  if (info.valueSize !== m.valueSize && m.kind !== "struct_ops") {
    diffs.push(`value size ${info.valueSize}, the spec ${m.valueSize}`);
  }
  if (info.maxEntries !== maxEntries) {
    diffs.push(`max_entries ${info.maxEntries}, the spec ${maxEntries}`);
  }
  if ((info.flags & ~MapFlag.MMAPABLE) !== (m.flags & ~MapFlag.MMAPABLE)) {
    diffs.push(`flags 0x${info.flags.toString(16)}, the spec 0x${m.flags.toString(16)}`);
  }
  if (diffs.length > 0) throw new ObjectError(`${what} is not compatible: ${diffs.join("; ")}`);
}

/** Program arrays and maps of maps get their `__array(values, …)` entries. */
export function fillInitialValues(
  spec: ObjectSpec,
  maps: Record<string, BpfMap>,
  programs: Record<string, Program>,
  codecs: Map<string, MapCodecPair>,
): void {
  for (const m of spec.maps) {
    if (m.initValues === undefined || m.initValues.length === 0) continue;
    const map = maps[m.name];
    for (const { index, name } of m.initValues) {
      let fd: number;
      if (m.inner === undefined) {
        const prog = programs[name];
        if (prog === undefined) {
          const known = spec.programs.some((p) => p.name === name);
          if (known) continue; // not loaded (autoload off): the slot stays empty
          throw new ObjectError(
            `map ${m.name} (section ".maps"): no program ${name} for index ${index}`,
          );
        }
        fd = prog.fd;
      } else {
        const inner = maps[name];
        if (inner === undefined) {
          throw new ObjectError(
            `map ${m.name} (section ".maps"): no map ${name} for index ${index}`,
          );
        }
        fd = inner.fd;
      }
      const key = codecs.get(m.name)?.key !== undefined ? index : u32Bytes(index);
      try {
        map.set(key as never, u32Bytes(fd) as never);
      } catch (e) {
        throw new ObjectError(
          `map ${m.name} (section ".maps"): cannot set initial value ${name} at index ${index}: ${
            (e as Error).message
          }`,
          { cause: e },
        );
      }
    }
  }
}

function u32Bytes(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

export interface MapCodecPair {
  key?: Codec<unknown>;
  value?: Codec<unknown>;
}

/** Key/value codecs from BTF for every BTF-defined map (global data and legacy maps stay raw). */
export function typedCodecs(spec: ObjectSpec): Map<string, MapCodecPair> {
  const out = new Map<string, MapCodecPair>();
  const types = spec.types;
  if (types === undefined) return out;
  for (const m of spec.maps) {
    if (m.kind !== "btf") continue;
    const pair: MapCodecPair = {};
    for (const side of ["key", "value"] as const) {
      const id = side === "key" ? m.keyTypeId ?? 0 : m.valueTypeId ?? 0;
      if (id === 0) continue;
      let codec: Codec<unknown>;
      try {
        codec = codecFromBtf(types, id);
      } catch (e) {
        throw new ObjectError(
          `map ${m.name}: no ${side} codec for { typed: true }: ${(e as Error).message}`,
          { cause: e },
        );
      }
      const size = side === "key" ? m.keySize : m.valueSize;
      if (codec.size !== size) {
        throw new ObjectError(
          `map ${m.name}: the ${side} codec from BTF (${codec.name}) is ${codec.size} bytes, ` +
            `the map's ${side} ${size}`,
        );
      }
      pair[side] = codec;
    }
    out.set(m.name, pair);
  }
  return out;
}

export function relocateMaps(p: ProgramSpec, maps: Record<string, BpfMap>): Uint8Array {
  const insns = p.insns.slice();
  const v = new DataView(insns.buffer);
  for (const r of p.relocations) {
    const map = maps[r.map];
    if (map === undefined) throw new ObjectError(`${where(p)}: no map named ${r.map}`);
    const at = r.insn * 8;
    const pseudo = r.offset === undefined ? PSEUDO_MAP_FD : PSEUDO_MAP_VALUE;
    insns[at + 1] = (insns[at + 1] & 0x0f) | (pseudo << 4);
    v.setInt32(at + 4, map.fd, true);
    v.setInt32(at + 12, r.offset ?? 0, true);
  }
  return insns;
}
