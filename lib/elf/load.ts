/**
 * `loadObject`: the load half of the object loader. It turns an `ObjectSpec` into kernel objects —
 * BTF, maps, global data, programs — and owns their file descriptors. On any failure everything
 * created so far is closed before the error propagates.
 *
 * @module
 */
import { readFileBytes } from "../host_fs.ts";
import type { Btf } from "../btf/btf.ts";
import type { Codec } from "../codec/codec.ts";
import { codecFromBtf } from "../codec/from_btf.ts";
import type { FdHandle } from "../fd.ts";
import { loadBtf } from "../map/btf_load.ts";
import { BpfMap } from "../map/map.ts";
import { Program } from "../program/program.ts";
import { VerifierError } from "../errors.ts";
import { applyCoreRelocations, type CoreResult } from "./core.ts";
import { fixupBtf } from "../btf/elf_fixup.ts";
import { ObjectError } from "./error.ts";
import { ObjectSpec, type ProgramSpec } from "./spec.ts";
import { kernelBtf } from "./vmlinux.ts";
import { PSEUDO_MAP_FD, PSEUDO_MAP_VALUE } from "../insn/opcodes.ts";

/**
 * Options of `loadObject`.
 *
 * @example
 * ```ts
 * import type { LoadObjectOptions } from "@tsbpf/core/elf";
 * const o: LoadObjectOptions = { constants: { scale: 3 }, logLevel: 1, typed: true };
 * ```
 */
export interface LoadObjectOptions {
  /**
   * Values for `const volatile` globals (in `.rodata*`), by variable name, set before the
   * programs are verified: a number or bigint (written little-endian in the variable's size) or
   * exactly the variable's bytes.
   */
  constants?: Record<string, number | bigint | Uint8Array>;
  /** Verifier log level for every program; with it the log is kept in `Program.verifierLog`. */
  logLevel?: number;
  /** First verifier log buffer size. Default 64 KiB (it grows on `ENOSPC`). */
  logSize?: number;
  /** Target BTF for CO-RE. Default: the running kernel's (`/sys/kernel/btf/vmlinux`, cached). */
  targetBtf?: Btf;
  /**
   * Give each map whose definition names BTF types (`__type(key, …)`, `__type(value, …)`) key and
   * value codecs built from those types by `codecFromBtf`, so that `get`, `set` and iteration take
   * and return numbers, bigints, strings, arrays and objects instead of `Uint8Array`s (a per-CPU
   * map's value is then an array of decoded values, one per CPU). A side without a BTF type, legacy
   * maps and global data (`.rodata`, `.data`, `.bss`) stay raw bytes. A type with no codec (a
   * struct with bitfields) is an `ObjectError` naming the map, before anything is created.
   *
   * `LoadedObject.maps` keeps its static type `Record<string, BpfMap>`; cast a typed map to its
   * codecs' types, e.g. `obj.maps.calls as BpfMap<unknown, unknown> as BpfMap<number, bigint>`.
   * Default `false`.
   */
  typed?: boolean;
}

/**
 * A loaded object: its maps (including global data, by section name such as `.rodata`) and
 * programs by name. `close()` closes them all.
 *
 * @example
 * ```ts
 * import { loadObject } from "@tsbpf/core/elf";
 * using obj = loadObject("prog.bpf.o");
 * obj.programs.count_packets.testRun({ data: new Uint8Array(64) });
 * ```
 */
export interface LoadedObject {
  /** The spec it was loaded from. */
  readonly spec: ObjectSpec;
  /** Maps by name; global data sections by section name (`.rodata`, `.data`, `.bss`). */
  readonly maps: Record<string, BpfMap>;
  /** Programs by function name. */
  readonly programs: Record<string, Program>;
  /** CO-RE relocation outcomes, by program name. */
  readonly core: Record<string, readonly CoreResult[]>;
  /** Why the object's BTF was not loaded (then programs load without func_info/line_info). */
  readonly btfError: Error | undefined;
  /** Closes every program and map. */
  close(): void;
  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void;
}

function constantBytes(
  spec: ObjectSpec,
  constants: Record<string, number | bigint | Uint8Array>,
): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [name, value] of Object.entries(constants)) {
    const sym = spec.elf.symbols.find((s) =>
      s.name === name && spec.elf.sections[s.section]?.name.startsWith(".rodata")
    );
    if (sym === undefined) {
      throw new ObjectError(
        `constant ${name}: no such variable in .rodata (is it const volatile?)`,
      );
    }
    const secName = spec.elf.sections[sym.section].name;
    let data = out.get(secName);
    if (data === undefined) {
      const g = spec.globals.find((m) => m.name === secName)!;
      out.set(secName, data = new Uint8Array(g.valueSize));
      if (g.data !== undefined) data.set(g.data);
    }
    let bytes: Uint8Array;
    if (value instanceof Uint8Array) bytes = value;
    else {
      bytes = new Uint8Array(sym.size);
      let n = BigInt.asUintN(sym.size * 8, BigInt(value));
      for (let i = 0; i < sym.size; i++, n >>= 8n) bytes[i] = Number(n & 0xffn);
    }
    if (bytes.length !== sym.size) {
      throw new RangeError(
        `constant ${name}: ${bytes.length} bytes given, the variable has ${sym.size}`,
      );
    }
    data.set(bytes, sym.value);
  }
  return out;
}

/**
 * Loads a BPF object: parses it (`ObjectSpec.parse`), loads its BTF (DATASEC sizes and offsets
 * fixed up), creates its maps (with BTF key/value types when BTF loaded) and global-data maps
 * (filled; `.rodata` frozen), points map references at them, applies CO-RE relocations against the
 * kernel's BTF and loads every program with func_info/line_info. With `typed: true`, BTF-defined
 * maps get key and value codecs from their BTF types (see {@link LoadObjectOptions.typed}).
 *
 * CO-RE relocations that cannot be resolved are poisoned as libbpf does (the instruction becomes
 * `call 0xbad2310`); if the verifier then refuses the program, the `ObjectError` names the
 * relocation, with the `VerifierError` as `cause`. On any failure everything created so far is
 * closed.
 *
 * @throws {ElfError | ObjectError} for an object that cannot be parsed or used.
 * @throws {VerifierError} when the verifier refuses a program (log with C source lines).
 * @throws {BpfError} for other kernel refusals.
 * @example
 * ```ts
 * import { loadObject } from "@tsbpf/core/elf";
 * using obj = loadObject("sockfilter_count.bpf.o");
 * const r = obj.programs.count_packets.testRun({ data: new Uint8Array(64) });
 * console.log(r.retval, [...obj.maps.counts.entries()]);
 *
 * ```
 *
 * With `{ typed: true }`, keys and values are decoded with codecs from the object's BTF:
 *
 * ```ts
 * import { type BpfMap, loadObject } from "@tsbpf/core/elf";
 * using obj = loadObject("sockfilter_count.bpf.o", { typed: true }); // counts: __u32 -> __u64
 * const counts = obj.maps.counts as BpfMap<unknown, unknown> as BpfMap<number, bigint>;
 * counts.get(0); // 0n
 * ```
 */
export function loadObject(
  source: Uint8Array | string | ObjectSpec,
  options: LoadObjectOptions = {},
): LoadedObject {
  const spec = source instanceof ObjectSpec
    ? source
    : ObjectSpec.parse(typeof source === "string" ? readFileBytes(source) : source);
  const constants = options.constants ? constantBytes(spec, options.constants) : undefined;
  const codecs = options.typed ? typedCodecs(spec) : new Map<string, MapCodecPair>();
  const maps: Record<string, BpfMap> = {};
  const programs: Record<string, Program> = {};
  const core: Record<string, CoreResult[]> = {};
  let btf: FdHandle | undefined;
  let btfError: Error | undefined;
  const closeAll = (): void => {
    for (const p of Object.values(programs)) p.close();
    for (const m of Object.values(maps)) m.close();
    btf?.close();
    btf = undefined;
  };
  try {
    if (spec.btf !== undefined) {
      try {
        btf = loadBtf(fixupBtf(spec.btf, spec.elf));
      } catch (e) {
        btfError = e as Error;
      }
    }
    for (const m of [...spec.maps, ...spec.globals]) {
      const name = m.name.slice(0, 15).replace(/[^A-Za-z0-9_.]/g, "_");
      const withBtf = btf !== undefined && ((m.keyTypeId ?? 0) !== 0 || (m.valueTypeId ?? 0) !== 0);
      // Typed maps hold decoded values; `maps` stays `Record<string, BpfMap>` (see `typed`).
      const create = (useBtf: boolean): BpfMap =>
        BpfMap.create<unknown, unknown>({
          type: m.type,
          keySize: m.keySize,
          valueSize: m.valueSize,
          maxEntries: m.maxEntries,
          flags: m.flags,
          name,
          ...(m.numaNode !== undefined ? { numaNode: m.numaNode } : {}),
          ...(m.mapExtra !== undefined ? { mapExtra: m.mapExtra } : {}),
          btf: useBtf
            ? { fd: btf!, keyTypeId: m.keyTypeId ?? 0, valueTypeId: m.valueTypeId ?? 0 }
            : false,
          ...codecs.get(m.name),
        }) as BpfMap;
      let map: BpfMap;
      try {
        map = create(withBtf);
      } catch (e) {
        if (!withBtf) throw new ObjectError(`map ${m.name}: ${(e as Error).message}`, { cause: e });
        try {
          map = create(false); // as libbpf: retry without BTF types
        } catch {
          throw new ObjectError(`map ${m.name}: ${(e as Error).message}`, { cause: e });
        }
      }
      maps[m.name] = map;
      if (m.kind === "global") {
        const data = constants?.get(m.name) ?? m.data;
        if (data !== undefined) map.set(new Uint8Array(4), data);
        if (m.readonly) map.freeze();
      }
    }
    for (const p of spec.programs) {
      if (p.needsAttachBtf) {
        throw new ObjectError(
          `program ${p.name} (section "${p.section}"): sections that need attach_btf_id ` +
            `(fentry, fexit, lsm, tp_btf, iter, struct_ops…) are not supported by loadObject`,
        );
      }
      if (programs[p.name] !== undefined) throw new ObjectError(`two programs are named ${p.name}`);
      const insns = relocateMaps(p, maps);
      let results: CoreResult[] = [];
      if (p.btfExt.coreRelos.length > 0) {
        if (spec.types === undefined) {
          throw new ObjectError(`program ${p.name}: CO-RE without .BTF`);
        }
        results = applyCoreRelocations(
          insns,
          p.btfExt.coreRelos,
          spec.types,
          options.targetBtf ?? kernelBtf(),
        );
        core[p.name] = results;
      }
      try {
        const withBtf = btf !== undefined;
        programs[p.name] = Program.load({
          type: p.type,
          insns,
          license: p.license,
          // The kernel keeps 15 characters of [A-Za-z0-9_.]; C names may be longer.
          name: p.name.slice(0, 15).replace(/[^A-Za-z0-9_.]/g, "_"),
          expectedAttachType: p.expectedAttachType,
          flags: p.flags,
          btfFd: btf?.fd,
          funcInfo: withBtf ? p.btfExt.funcInfo : undefined,
          lineInfo: withBtf ? p.btfExt.lineInfo : undefined,
          logLevel: options.logLevel,
          logSize: options.logSize,
        });
      } catch (e) {
        const poisoned = results.filter((r) => r.poisoned);
        if (e instanceof VerifierError && poisoned.length > 0) {
          throw new ObjectError(
            `program ${p.name}: the verifier refused it after ${poisoned.length} CO-RE ` +
              `relocation(s) could not be resolved: ${
                poisoned.map((r) => r.description).join("; ")
              }`,
            { cause: e },
          );
        }
        throw e;
      }
    }
  } catch (e) {
    closeAll();
    throw e;
  }
  // Maps and programs hold their own references to the BTF object.
  const btfHandle = btf;
  btf = undefined;
  btfHandle?.close();
  return {
    spec,
    maps,
    programs,
    core,
    btfError,
    close: closeAll,
    [Symbol.dispose]: closeAll,
  };
}

interface MapCodecPair {
  key?: Codec<unknown>;
  value?: Codec<unknown>;
}

/** Key/value codecs from BTF for every BTF-defined map (global data and legacy maps stay raw). */
function typedCodecs(spec: ObjectSpec): Map<string, MapCodecPair> {
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

function relocateMaps(p: ProgramSpec, maps: Record<string, BpfMap>): Uint8Array {
  const insns = p.insns.slice();
  const v = new DataView(insns.buffer);
  for (const r of p.relocations) {
    const map = maps[r.map];
    if (map === undefined) throw new ObjectError(`program ${p.name}: no map named ${r.map}`);
    const at = r.insn * 8;
    const pseudo = r.offset === undefined ? PSEUDO_MAP_FD : PSEUDO_MAP_VALUE;
    insns[at + 1] = (insns[at + 1] & 0x0f) | (pseudo << 4);
    v.setInt32(at + 4, map.fd, true);
    v.setInt32(at + 12, r.offset ?? 0, true);
  }
  return insns;
}
