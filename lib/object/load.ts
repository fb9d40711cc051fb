/**
 * `loadObject`: the load half of the object loader. It turns an `ObjectSpec` into kernel objects —
 * BTF, maps, global data, programs — and owns their file descriptors. On any failure everything
 * created so far is closed before the error propagates.
 *
 * @module
 */
import { pathExists, readFileBytes } from "../host_fs.ts";
import type { Btf } from "../btf/btf.ts";
import type { FdHandle } from "../fd.ts";
import { loadBtf } from "../map/btf_load.ts";
import { BpfMap } from "../map/map.ts";
import { Program } from "../program/program.ts";
import { applyCoreRelocations, type CoreResult } from "../elf/core.ts";
import { fixupBtf } from "../btf/elf_fixup.ts";
import { ObjectError } from "../elf/error.ts";
import { type MapSpec, ObjectSpec } from "../elf/spec.ts";
import { kernelBtf } from "../elf/vmlinux.ts";
import { attachBtfTarget } from "../elf/attach_btf.ts";
import { fillKconfig } from "../elf/kconfig.ts";
import { relocateExterns, resolveKsyms } from "../elf/ksyms.ts";
import { type StructOpsSlot, structOpsSlot } from "../elf/struct_ops.ts";
import { createStructOpsMap } from "./struct_ops.ts";
import { ModuleBtfs, programBtf } from "./btf_objects.ts";
import { uprobeMultiLinks } from "./features.ts";
import { AttachType } from "../../types/attach_type.ts";
import { kallsymsAddress, kernelRelease, kprobesAvailable, readKernelConfig } from "./host.ts";
import { attachObject, type ObjectLinks } from "./attach.ts";
import {
  checkCompatible,
  effectiveMaxEntries,
  fillInitialValues,
  kernelMapName,
  type MapCodecPair,
  PIN_BY_NAME,
  relocateMaps,
  typedCodecs,
} from "./object_maps.ts";
import { constantBytes } from "./constants.ts";
import { explainLoadError, where, withSourceLine } from "./load_errors.ts";
import { describeForCheck, sourceLines } from "./check_input.ts";

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
