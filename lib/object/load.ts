/**
 * `loadObject`: the load half of the object loader. It turns an `ObjectSpec` into kernel objects —
 * BTF, maps, global data, programs — and owns their file descriptors. On any failure everything
 * created so far is closed before the error propagates.
 *
 * @module
 */
import { pathExists, readFileBytes } from "../host_fs.ts";
import { MapType } from "../../types/map_type.ts";
import { MapFlag } from "../../types/flags.ts";
import { Errno } from "../../types/errno.ts";
import { PSEUDO_MAP_FD, PSEUDO_MAP_VALUE } from "../insn/opcodes.ts";
import type { Btf } from "../btf/btf.ts";
import type { SourceLine } from "../check/types.ts";
import type { MapDescription } from "../verifier/maps.ts";
import type { Codec } from "../codec/codec.ts";
import { codecFromBtf } from "../codec/from_btf.ts";
import type { FdHandle } from "../fd.ts";
import { loadBtf } from "../map/btf_load.ts";
import { BpfMap } from "../map/map.ts";
import { possibleCpus } from "../map/cpus.ts";
import { Program } from "../program/program.ts";
import { BpfError, VerifierError } from "../errors.ts";
import { applyCoreRelocations, type CoreResult } from "../elf/core.ts";
import { fixupBtf } from "../btf/elf_fixup.ts";
import { ObjectError } from "../elf/error.ts";
import { internalMapName, type MapSpec, ObjectSpec, type ProgramSpec } from "../elf/spec.ts";
import { kernelBtf } from "../elf/vmlinux.ts";
import { attachBtfTarget } from "../elf/attach_btf.ts";
import { fillKconfig } from "../elf/kconfig.ts";
import { relocateExterns, resolveKsyms } from "../elf/ksyms.ts";
import { type StructOpsSlot, structOpsSlot } from "../elf/struct_ops.ts";
import { createStructOpsMap } from "./struct_ops.ts";
import { ModuleBtfs, programBtf } from "./btf_objects.ts";
import { uprobeMultiLinks } from "./features.ts";
import { AttachType } from "../../types/attach_type.ts";
import {
  kallsymsAddress,
  kernelRelease,
  kprobesAvailable,
  pageSize,
  readKernelConfig,
} from "./host.ts";
import { attachObject, type ObjectLinks } from "./attach.ts";

const PIN_BY_NAME = 1;
const TRAMPOLINE_SECTIONS = /^(fentry|fexit|fmod_ret|lsm|lsm_cgroup|freplace)(\.s)?$/;

/** libbpf's ring buffer size: a power-of-2 number of pages, at least the size asked for. */
function ringbufSize(size: number, page: number): number {
  if (size === 0) return 0;
  let n = page;
  while (n < size) n *= 2;
  return n;
}

/** max_entries the kernel gets for `m`, with libbpf's fix-ups. */
function effectiveMaxEntries(m: MapSpec): number {
  if (m.type === MapType.PERF_EVENT_ARRAY && m.maxEntries === 0) return possibleCpus();
  if (m.type === MapType.RINGBUF || m.type === MapType.USER_RINGBUF) {
    return ringbufSize(m.maxEntries, pageSize());
  }
  return m.maxEntries;
}

/** The kernel name of a map: libbpf's `<object>.rodata` rule for internal maps. */
function kernelMapName(spec: ObjectSpec, m: MapSpec): string {
  if (m.kind === "global" || m.kind === "kconfig") return internalMapName(spec.name, m.section);
  return m.name.slice(0, 15).replace(/[^A-Za-z0-9_.]/g, "_");
}

function where(p: ProgramSpec): string {
  return `program ${p.name} (section "${p.section}")`;
}

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
  /**
   * Pre-load check depth for every program (`Program.load`'s `checkDepth`). With `"deep"`, the
   * object's maps are described to the checker and its BTF line info names the C line of each
   * finding. Default: the structural check only.
   */
  checkDepth?: "basic" | "deep";
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
  /**
   * Existing maps to use instead of creating the object's maps of these names (map reuse, as
   * libbpf's `bpf_map__reuse_fd` and cilium's `MapReplacements`). Each must have the spec's type,
   * key size, value size and max_entries. They are not closed by `LoadedObject.close()`.
   */
  mapReplacements?: Record<string, BpfMap>;
  /**
   * Directory where maps with `__uint(pinning, LIBBPF_PIN_BY_NAME)` are pinned by name (a
   * compatible map already pinned there is reused). Default `/sys/fs/bpf`.
   */
  pinRoot?: string;
  /**
   * Load `usdt` programs with `expected_attach_type` `BPF_TRACE_UPROBE_MULTI` where the kernel
   * has uprobe_multi links that filter by process (6.6+), as libbpf 1.3 and later do: their
   * translated instructions then equal libbpf's (helpers such as `bpf_get_attach_cookie` take
   * their uprobe_multi form), and they attach only through uprobe_multi links
   * (`attachUprobeMulti`), not per-site uprobes. Default `false`.
   */
  usdtUprobeMulti?: boolean;
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
  /**
   * Attaches every program whose section says where (tracepoint/, raw_tracepoint/, tp_btf/,
   * iter/, uprobe/<path>:<func>…), as libbpf skeletons do, and registers struct_ops maps. Programs
   * whose sections name no target (socket, xdp, tc…) are left alone. The links close together.
   */
  attach(): ObjectLinks;
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
    const g = spec.globals.find((m) => m.name === secName);
    if (g === undefined || sym.size === 0 || sym.value + sym.size > g.valueSize) {
      throw new ObjectError(
        `constant ${name}: the symbol (${sym.size} bytes at offset ${sym.value}) is not inside ` +
          `section ${secName} (${g?.valueSize ?? 0} bytes)`,
      );
    }
    let data = out.get(secName);
    if (data === undefined) {
      out.set(secName, data = new Uint8Array(g.valueSize));
      if (g.data !== undefined) data.set(g.data);
    }
    let bytes: Uint8Array;
    if (value instanceof Uint8Array) bytes = value;
    else bytes = constantValue(spec, name, secName, sym.size, value);
    if (bytes.length !== sym.size) {
      throw new ObjectError(
        `constant ${name}: ${bytes.length} bytes given, the variable has ${sym.size}`,
      );
    }
    data.set(bytes, sym.value);
  }
  return out;
}

/**
 * The bytes of number or bigint `value` for constant `name` of `size` bytes, checked against the
 * variable's BTF type (integer-ness, sign, range; floats for FLOAT types). Without BTF the value
 * must fit `size` bytes as a signed or unsigned integer.
 */
function constantValue(
  spec: ObjectSpec,
  name: string,
  section: string,
  size: number,
  value: unknown,
): Uint8Array {
  const fail = (why: string): never => {
    throw new ObjectError(`constant ${name}: ${why}`);
  };
  // The variable's type, through the section's DATASEC.
  let kind: "int" | "float" | "other" = "int";
  let signed: boolean | undefined;
  let typeName = `${size}-byte integer`;
  const btf = spec.types;
  const datasec = btf?.find("datasec", section);
  if (btf !== undefined && datasec !== undefined) {
    for (const v of datasec.vars) {
      const vt = btf.typeById(v.type);
      if (vt?.kind !== "var" || vt.name !== name) continue;
      const t = btf.resolve(vt.type);
      if (t.kind === "int") {
        signed = (t.encoding & 1) !== 0;
        typeName = t.name;
      } else if (t.kind === "enum" || t.kind === "enum64") {
        signed = t.signed;
        typeName = `enum ${t.name}`;
      } else if (t.kind === "float") {
        kind = "float";
        typeName = t.name;
      } else {
        kind = "other";
        typeName = t.kind;
      }
      break;
    }
  }
  if (typeof value !== "number" && typeof value !== "bigint") {
    return fail(`a number, bigint or Uint8Array is needed, got ${typeof value}`);
  }
  const out = new Uint8Array(size);
  if (kind === "float" && typeof value === "number" && (size === 4 || size === 8)) {
    const v = new DataView(out.buffer);
    if (size === 4) v.setFloat32(0, value, true);
    else v.setFloat64(0, value, true);
    return out;
  }
  if (kind === "other") {
    return fail(`the variable is a ${typeName}: give its ${size} bytes as a Uint8Array`);
  }
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    return fail(
      `${value} is not ${
        Number.isInteger(value) ? "a safe integer (give a bigint)" : "an integer"
      }, and the variable is ${typeName}`,
    );
  }
  const n = BigInt(value);
  const bits = BigInt(size * 8);
  const min = signed === false ? 0n : -(1n << (bits - 1n));
  const max = signed === true ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (n < min || n > max) {
    return fail(`${value} does not fit the variable, ${typeName} (${min}..${max})`);
  }
  let u = BigInt.asUintN(size * 8, n);
  for (let i = 0; i < size; i++, u >>= 8n) out[i] = Number(u & 0xffn);
  return out;
}

/**
 * Loads a BPF object: parses it (`ObjectSpec.parse`), loads its BTF (DATASEC sizes and offsets
 * fixed up), creates its maps (with BTF key/value types when BTF loaded) and global-data maps
 * (filled; `.rodata` frozen), points map references at them, resolves kconfig, ksym and kfunc
 * externs, applies CO-RE relocations against the kernel's BTF, finds `attach_btf_id` for
 * tp_btf/iter/fentry/lsm/struct_ops programs and loads every program whose `autoload` is on
 * with func_info/line_info. Map-in-map and program-array initial values are filled after the
 * programs load. With `typed: true`, BTF-defined maps get key and value codecs from their BTF
 * types (see {@link LoadObjectOptions.typed}).
 *
 * As libbpf: a perf event array without max_entries gets one slot per possible CPU, ring buffer
 * sizes are rounded up to a power-of-2 number of pages, global data maps are `BPF_F_MMAPABLE`
 * and named `<object>.rodata`, maps pinned by name are reused or pinned, an object without a
 * license loads with an empty license.
 *
 * CO-RE relocations that cannot be resolved are poisoned as libbpf does (the instruction becomes
 * `call 0xbad2310`); if the verifier then refuses the program, the `ObjectError` names the
 * relocation, with the `VerifierError` as `cause`. On any failure everything created so far is
 * closed (and maps pinned by this load unpinned).
 *
 * @throws {ElfError | ObjectError} for an object that cannot be parsed or used; every error
 * before load names the program or map and its section.
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
 *
 * A mutable spec, shaped before load (libbpf's open/load split):
 *
 * ```ts
 * import { loadObject, ObjectSpec } from "@tsbpf/core/elf";
 * const spec = ObjectSpec.parse(Deno.readFileSync("execsnoop.bpf.o"), { name: "execsnoop" });
 * spec.program("handle_exit").autoload = false;
 * spec.map("execs").maxEntries = 1024;
 * spec.setVariable("targ_uid", 1000);
 * using obj = loadObject(spec);
 * using links = obj.attach();
 * ```
 */
export function loadObject(
  source: Uint8Array | string | ObjectSpec,
  options: LoadObjectOptions = {},
): LoadedObject {
  const spec = source instanceof ObjectSpec
    ? source
    : ObjectSpec.parse(typeof source === "string" ? readFileBytes(source) : source, {
      name: typeof source === "string" ? (source.split("/").pop() ?? "").split(".")[0] : "",
    });
  const constants = options.constants ? constantBytes(spec, options.constants) : undefined;
  const codecs = options.typed ? typedCodecs(spec) : new Map<string, MapCodecPair>();
  const kernel = (): Btf => options.targetBtf ?? kernelBtf();
  const maps: Record<string, BpfMap> = {};
  const programs: Record<string, Program> = {};
  const core: Record<string, CoreResult[]> = {};
  const borrowed = new Set<BpfMap>();
  const pinnedHere: string[] = [];
  let btf: FdHandle | undefined;
  let btfError: Error | undefined;
  // Kernel modules' BTF objects, opened only when vmlinux lacks a kfunc, ksym or attach target.
  const moduleBtfs = new ModuleBtfs();
  const inModules = (kind: "func" | "var" | "typedef", name: string) => {
    const m = moduleBtfs.find(kind, name);
    return m === undefined
      ? undefined
      : { btfId: m.type.id, fd: m.fd, module: m.module, btf: m.btf };
  };
  const closeAll = (): void => {
    for (const p of Object.values(programs)) p.close();
    for (const m of Object.values(maps)) if (!borrowed.has(m)) m.close();
    btf?.close();
    btf = undefined;
  };
  try {
    // Decide what loads before creating anything, so that errors name the program first.
    const loading = spec.programs.filter((p) => p.autoload);
    const seen = new Set<string>();
    for (const p of loading) {
      if (seen.has(p.name)) throw new ObjectError(`two programs are named ${p.name}`);
      seen.add(p.name);
      if (p.typeName === "ext" && p.attachProgram === undefined) {
        throw new ObjectError(
          `${where(p)}: an freplace program replaces a function of a loaded program: set ` +
            "ProgramSpec.attachProgram (and attachTarget, the function) before load, or turn it " +
            "off (autoload = false)",
        );
      }
    }
    const slots = new Map<string, StructOpsSlot>();
    for (const p of loading) {
      if (p.typeName !== "struct_ops") continue;
      const slot = structOpsSlot(spec, p, kernel());
      if (slot !== undefined) slots.set(p.name, slot);
    }
    const resolvedKsyms = resolveKsyms(
      spec.externs,
      spec.types,
      kernel,
      kallsymsAddress,
      inModules,
    );
    if (spec.btf !== undefined) {
      try {
        btf = loadBtf(fixupBtf(spec.btf, spec.elf, spec.externs));
      } catch (e) {
        btfError = e as Error;
      }
    }
    const pinRoot = options.pinRoot ?? "/sys/fs/bpf";
    const createMap = (m: MapSpec, maxEntries: number, innerMap?: BpfMap): BpfMap => {
      if (m.kind === "struct_ops") {
        return createStructOpsMap(m, kernel(), kernelMapName(spec, m), btf?.fd, btfError);
      }
      const withBtf = btf !== undefined && ((m.keyTypeId ?? 0) !== 0 || (m.valueTypeId ?? 0) !== 0);
      // Typed maps hold decoded values; `maps` stays `Record<string, BpfMap>` (see `typed`).
      const create = (useBtf: boolean): BpfMap =>
        BpfMap.create<unknown, unknown>({
          type: m.type,
          keySize: m.keySize,
          valueSize: m.valueSize,
          maxEntries,
          flags: m.flags,
          name: kernelMapName(spec, m),
          ...(innerMap !== undefined ? { innerMap } : {}),
          ...(m.numaNode !== undefined ? { numaNode: m.numaNode } : {}),
          ...(m.mapExtra !== undefined ? { mapExtra: m.mapExtra } : {}),
          btf: useBtf
            ? { fd: btf!, keyTypeId: m.keyTypeId ?? 0, valueTypeId: m.valueTypeId ?? 0 }
            : false,
          ...codecs.get(m.name),
        }) as BpfMap;
      const what = `map ${m.name} (section "${m.section}")`;
      try {
        return create(withBtf);
      } catch (e) {
        if (!withBtf) throw new ObjectError(`${what}: ${(e as Error).message}`, { cause: e });
        try {
          return create(false); // as libbpf: retry without BTF types
        } catch {
          throw new ObjectError(`${what}: ${(e as Error).message}`, { cause: e });
        }
      }
    };
    let kconfigData: Uint8Array | undefined;
    for (const m of [...spec.maps, ...spec.globals]) {
      const what = `map ${m.name} (section "${m.section}")`;
      const maxEntries = effectiveMaxEntries(m);
      const replacement = options.mapReplacements?.[m.name];
      if (replacement !== undefined) {
        checkCompatible(replacement, m, maxEntries, `${what}: the replacement map`);
        maps[m.name] = replacement;
        borrowed.add(replacement);
        continue;
      }
      const pinPath = m.pinning === PIN_BY_NAME
        ? `${pinRoot.replace(/\/+$/, "")}/${m.name}`
        : undefined;
      if (pinPath !== undefined && pathExists(pinPath)) {
        const pinned = BpfMap.fromPin(pinPath, codecs.get(m.name) ?? {}) as BpfMap;
        maps[m.name] = pinned;
        checkCompatible(pinned, m, maxEntries, `${what}: the map pinned at ${pinPath}`);
        continue;
      } else if (m.pinning !== undefined && m.pinning !== 0 && m.pinning !== PIN_BY_NAME) {
        throw new ObjectError(`${what}: pinning ${m.pinning} is not LIBBPF_PIN_NONE or BY_NAME`);
      }
      let inner: BpfMap | undefined;
      try {
        if (m.inner !== undefined) inner = createMap(m.inner, effectiveMaxEntries(m.inner));
        maps[m.name] = createMap(m, maxEntries, inner);
      } finally {
        inner?.close();
      }
      const map = maps[m.name];
      if (pinPath !== undefined) {
        try {
          map.pin(pinPath);
        } catch (e) {
          throw new ObjectError(`${what}: cannot pin it at ${pinPath}: ${(e as Error).message}`, {
            cause: e,
          });
        }
        pinnedHere.push(pinPath);
      }
      if (m.kind === "global") {
        let data = constants?.get(m.name) ?? m.data;
        if (data !== undefined && data.length !== m.valueSize) {
          // Resized before load (as libbpf's bpf_map__set_value_size): zero-filled or cut.
          const sized = new Uint8Array(m.valueSize);
          sized.set(data.subarray(0, m.valueSize));
          data = sized;
        }
        if (data !== undefined) map.set(new Uint8Array(4), data);
        if (m.readonly) map.freeze();
      } else if (m.kind === "kconfig") {
        kconfigData = fillKconfig(
          spec.externs,
          m.valueSize,
          spec.types,
          kernel,
          readKernelConfig,
          kernelRelease(),
          kprobesAvailable,
        );
        map.set(new Uint8Array(4), kconfigData);
        map.freeze();
      }
    }
    const kconfigFd = maps[".kconfig"]?.fd;
    // LINUX_HAS_* externs that are false guard code this kernel lacks (usdt.bpf.h's
    // bpf_get_attach_cookie before 5.15): the verifier drops that branch (.kconfig is frozen), the
    // pre-load checker cannot, so programs reading one are judged by the verifier alone.
    const falseGuards = new Set(
      spec.externs.filter((e) =>
        e.kind === "kconfig" && e.name.startsWith("LINUX_HAS_") && kconfigData?.[e.offset] === 0
      ).map((e) => e.name),
    );
    for (const p of loading) {
      let attachBtfId: number | undefined;
      let attachBtfObjFd: number | undefined;
      let expectedAttachType = p.expectedAttachType;
      if (
        options.usdtUprobeMulti === true && expectedAttachType === undefined &&
        /^usdt(\.s)?(\/|$)/.test(p.section.replace(/^\?/, "")) &&
        uprobeMultiLinks()
      ) {
        // As libbpf (1.3 on): usdt programs attach through uprobe_multi links where the kernel
        // has them, so they load with that attach type (and its helpers).
        expectedAttachType = AttachType.TRACE_UPROBE_MULTI;
      }
      if (p.typeName === "struct_ops") {
        const slot = slots.get(p.name);
        if (slot === undefined) continue; // as libbpf: a struct_ops program no map uses stays out
        attachBtfId = slot.structId;
        expectedAttachType = slot.memberIndex;
      } else if (p.attachProgram !== undefined) {
        // freplace, or fentry/fexit of a BPF function: a function in the target program's BTF.
        if (p.attachTarget === undefined || p.attachTarget === "") {
          throw new ObjectError(
            `${where(p)}: attachProgram is set but attachTarget names no function of it`,
          );
        }
        const targetBtf = programBtf(p.attachProgram.fd, `the target program of ${p.name}`);
        const f = targetBtf.find("func", p.attachTarget);
        if (f === undefined) {
          throw new ObjectError(
            `${where(p)}: the target program (fd ${p.attachProgram.fd}) has no function ` +
              `${p.attachTarget} in its BTF`,
          );
        }
        attachBtfId = f.id;
        attachBtfObjFd = p.attachProgram.fd;
      } else if (p.needsAttachBtf) {
        const prefix = p.section.replace(/^\?/, "").split("/")[0];
        const t = attachBtfTarget(prefix, p.attachTarget, kernel(), p.name, inModules);
        attachBtfId = t.btfId;
        if (t.btfObjFd) attachBtfObjFd = t.btfObjFd;
      }
      const fdArray: number[] = [];
      const insns = relocateMaps(p, maps);
      // The pre-load checker does not know libbpf's kfunc poison; the verifier judges it.
      let poisonedKfunc = false;
      if (p.externRelocations.length > 0) {
        poisonedKfunc = relocateExterns(
          insns,
          p.externRelocations,
          spec.externs,
          resolvedKsyms,
          kconfigFd,
          p.name,
          fdArray,
        );
      }
      let results: CoreResult[] = [];
      if (p.btfExt.coreRelos.length > 0) {
        if (spec.types === undefined) {
          throw new ObjectError(`${where(p)}: CO-RE without .BTF`);
        }
        results = applyCoreRelocations(
          insns,
          p.btfExt.coreRelos,
          spec.types,
          kernel(),
          // Only the running kernel has modules: not with an explicit targetBtf.
          options.targetBtf === undefined ? () => moduleBtfs.all() : undefined,
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
          expectedAttachType,
          ...(attachBtfId !== undefined ? { attachBtfId } : {}),
          ...(attachBtfObjFd !== undefined ? { attachBtfObjFd } : {}),
          ...(fdArray.length > 0 ? { fdArray } : {}),
          flags: p.flags,
          btfFd: btf?.fd,
          funcInfo: withBtf ? p.btfExt.funcInfo : undefined,
          lineInfo: withBtf ? p.btfExt.lineInfo : undefined,
          logLevel: options.logLevel,
          logSize: options.logSize,
          ...(options.checkDepth === "deep"
            ? {
              checkDepth: "deep" as const,
              maps: describeForCheck(spec, maps),
              ...(spec.types !== undefined
                ? { sourceLines: sourceLines(p.btfExt.lineInfo, spec.types) }
                : {}),
            }
            : {}),
          ...(poisonedKfunc || p.externRelocations.some((r) => falseGuards.has(r.name))
            ? { check: false }
            : {}),
        });
      } catch (e) {
        throw explainLoadError(withSourceLine(e, p, spec), p, results);
      }
    }
    fillInitialValues(spec, maps, programs, codecs);
  } catch (e) {
    moduleBtfs.close();
    closeAll();
    for (const path of pinnedHere) {
      try {
        BpfMap.unpin(path);
      } catch {
        // already gone
      }
    }
    throw e;
  }
  // Maps and programs hold their own references to the BTF objects.
  moduleBtfs.close();
  const btfHandle = btf;
  btf = undefined;
  btfHandle?.close();
  return {
    spec,
    maps,
    programs,
    core,
    btfError,
    attach: () => attachObject(spec, maps, programs, kernel),
    close: closeAll,
    [Symbol.dispose]: closeAll,
  };
}

/**
 * A verifier refusal with the C source line of the refused instruction, from the program's
 * line_info, when the kernel's log does not show it (older kernels print the line without
 * ` @ file:line`, some print no source at all).
 */
function withSourceLine(e: unknown, p: ProgramSpec, spec: ObjectSpec): unknown {
  if (!(e instanceof VerifierError) || e.insn === undefined || spec.types === undefined) return e;
  let best: ProgramSpec["btfExt"]["lineInfo"][number] | undefined;
  for (const l of p.btfExt.lineInfo) {
    if (l.insn <= e.insn && (!best || l.insn >= best.insn)) best = l;
  }
  if (best === undefined) return e;
  try {
    const source = {
      file: spec.types.string(best.fileNameOff).split("/").pop()!,
      line: best.line,
      column: best.column,
      text: spec.types.string(best.lineOff),
    };
    return new VerifierError(e.errno, e.log, e.truncated, source);
  } catch {
    return e; // a line_info string offset outside the object's BTF: no source to show
  }
}

/** The error of a program load, with what the kernel's refusal means for this program. */
function explainLoadError(e: unknown, p: ProgramSpec, results: readonly CoreResult[]): unknown {
  const poisoned = results.filter((r) => r.poisoned);
  if (e instanceof VerifierError && poisoned.length > 0) {
    return new ObjectError(
      `program ${p.name}: the verifier refused it after ${poisoned.length} CO-RE ` +
        `relocation(s) could not be resolved: ${poisoned.map((r) => r.description).join("; ")}`,
      { cause: e },
    );
  }
  if (p.license === "" && e instanceof Error && /GPL/.test(e.message)) {
    return new ObjectError(
      `${where(p)}: it calls a GPL-only helper or kfunc, and the object has no "license" ` +
        "section, so its license is empty (not GPL-compatible); add char LICENSE[] " +
        'SEC("license") = "GPL"; if the code is GPL',
      { cause: e },
    );
  }
  const section = p.section.replace(/^\?/, "").split("/")[0];
  if (e instanceof BpfError && e.errno === Errno.EPERM && TRAMPOLINE_SECTIONS.test(section)) {
    return new ObjectError(
      `${where(p)}: this kernel refuses BPF trampolines (EPERM): ${section} programs attach ` +
        "through a trampoline, which it does not allow; turn the program off (autoload = false) " +
        "to load the rest of the object",
      { cause: e },
    );
  }
  if (
    (e instanceof BpfError || e instanceof VerifierError) && p.typeName === "struct_ops" &&
    (e as BpfError).errno === Errno.ENOTSUPP
  ) {
    return new ObjectError(
      `${where(p)}: this kernel refuses struct_ops programs (ENOTSUPP): struct_ops runs through ` +
        "a BPF trampoline, which it does not support",
      { cause: e },
    );
  }
  return e;
}

function checkCompatible(map: BpfMap, m: MapSpec, maxEntries: number, what: string): void {
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
function fillInitialValues(
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
    if (map === undefined) throw new ObjectError(`${where(p)}: no map named ${r.map}`);
    const at = r.insn * 8;
    const pseudo = r.offset === undefined ? PSEUDO_MAP_FD : PSEUDO_MAP_VALUE;
    insns[at + 1] = (insns[at + 1] & 0x0f) | (pseudo << 4);
    v.setInt32(at + 4, map.fd, true);
    v.setInt32(at + 12, r.offset ?? 0, true);
  }
  return insns;
}

/** BTF line info with its strings resolved (records whose strings do not resolve are left out). */
function sourceLines(
  lines: readonly {
    insn: number;
    fileNameOff: number;
    lineOff: number;
    line: number;
    column: number;
  }[],
  btf: Btf,
): SourceLine[] {
  const out: SourceLine[] = [];
  for (const l of lines) {
    try {
      out.push({
        insn: l.insn,
        file: btf.string(l.fileNameOff),
        line: l.line,
        column: l.column,
        text: btf.string(l.lineOff),
      });
    } catch {
      // an offset outside the string section: no source for these instructions
    }
  }
  return out;
}

/** Struct types the verifier treats as special fields of a map value. */
const SPECIAL_STRUCTS = new Set([
  "bpf_res_spin_lock",
  "bpf_timer",
  "bpf_wq",
  "bpf_task_work",
  "bpf_list_head",
  "bpf_list_node",
  "bpf_rb_root",
  "bpf_rb_node",
  "bpf_refcount",
  "bpf_workqueue",
]);

/**
 * Where the value type holds special fields: `{ lock }` for a single `struct bpf_spin_lock` and
 * nothing else special, `"plain"` for none, `"special"` otherwise (timers, kptrs, lists…).
 */
function valueFields(btf: Btf, id: number): { lock: number } | "plain" | "special" {
  let lock = -1;
  let special = false;
  const walk = (tid: number, base: number, depth: number): void => {
    if (special || depth > 32) {
      special = true;
      return;
    }
    let t = btf.typeById(tid);
    for (let k = 0; k < 32; k++) {
      if (t.kind === "type_tag") {
        if (/kptr|percpu|rcu/.test(t.name)) special = true;
        t = btf.typeById(t.type);
      } else if (
        t.kind === "const" || t.kind === "volatile" || t.kind === "restrict" || t.kind === "typedef"
      ) {
        t = btf.typeById(t.type);
      } else break;
    }
    if (t.kind === "ptr") {
      // A pointer is a plain scalar unless tagged (kptr): its tags are on the pointee chain.
      let p = btf.typeById(t.type);
      for (let k = 0; k < 32 && p.kind === "type_tag"; k++) {
        if (/kptr|percpu|rcu/.test(p.name)) special = true;
        p = btf.typeById(p.type);
      }
      return;
    }
    if (t.kind === "struct" || t.kind === "union") {
      if (t.name === "bpf_spin_lock") {
        if (lock >= 0) special = true;
        lock = base;
        return;
      }
      if (SPECIAL_STRUCTS.has(t.name)) {
        special = true;
        return;
      }
      for (const m of t.members) walk(m.type, base + Math.floor(m.bitOffset / 8), depth + 1);
      return;
    }
    if (t.kind === "array") {
      const before = lock;
      walk(t.type, base, depth + 1);
      if (lock !== before) special = true; // a lock in an array is not one lock
    }
  };
  try {
    walk(id, 0, 0);
  } catch {
    return "special";
  }
  if (special) return "special";
  return lock >= 0 ? { lock } : "plain";
}

/** The object's maps as the deep checker's data, with what their value BTF holds. */
function describeForCheck(
  spec: ObjectSpec,
  maps: Record<string, BpfMap>,
): Record<number, MapDescription> {
  const out: Record<number, MapDescription> = {};
  for (const m of spec.maps) {
    const map = maps[m.name];
    if (map === undefined) continue;
    const d = map.describe();
    const vt = m.valueTypeId ?? 0;
    if (spec.types !== undefined && vt !== 0) {
      const f = valueFields(spec.types, vt);
      if (f === "plain") {
        delete d.btf;
        delete d.spinLock;
      } else if (f === "special") {
        d.btf = {};
        delete d.spinLock;
      } else {
        d.btf = {};
        d.spinLock = f.lock;
      }
    }
    out[map.fd] = d;
  }
  return out;
}
