/**
 * `struct bpf_prog_info`, read with `BPF_OBJ_GET_INFO_BY_FD`.
 *
 * @module
 */
import { OBJ_GET_INFO_BY_FD_ATTR } from "../../types/attr.ts";
import { PROG_INFO_LAYOUT } from "../../types/info.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Attr } from "../attr.ts";
import { BpfError } from "../errors.ts";
import { progTypeLabel } from "../progtype/type_names.ts";
import { alloc, readCString, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { objGetInfoByFd } from "../sys/bpf_cmds.ts";

/** What the kernel reports about a loaded program. */
export interface ProgramInfo {
  /** Program type number. */
  type: number;
  /** Program type name, e.g. `"xdp"`. */
  typeName: string;
  /** Kernel id. */
  id: number;
  /** Tag: hash of the instructions, 16 hex digits. */
  tag: string;
  /** Name given at load (up to 15 characters). */
  name: string;
  /** Size of the JIT-compiled code in bytes (0 when the caller may not see it). */
  jitedProgLen: number;
  /** Size of the instructions after the verifier's rewrites, in bytes. */
  xlatedProgLen: number;
  /** Load time, nanoseconds since boot. */
  loadTime: bigint;
  /** User id of the loader. */
  createdByUid: number;
  /** Ids of the maps the program uses. */
  mapIds: number[];
  /** Whether the license is GPL-compatible. */
  gplCompatible: boolean;
  /** BTF object id, 0 when none. */
  btfId: number;
  /** Instructions the verifier processed; `undefined` where the kernel does not say (before 5.16). */
  verifiedInsns: number | undefined;
  /** Total run time in ns (with `BPF_ENABLE_STATS`). */
  runTimeNs: bigint;
  /** Run count (with `BPF_ENABLE_STATS`). */
  runCnt: bigint;
  /**
   * Times the program was not run because it was already running on that CPU; `undefined` where
   * the kernel does not say (before 5.12).
   */
  recursionMisses: bigint | undefined;
  /** BTF object id of the attach target; `undefined` where the kernel does not say (before 6.0). */
  attachBtfObjId: number | undefined;
  /** BTF type id of the attach target; `undefined` where the kernel does not say (before 6.0). */
  attachBtfId: number | undefined;
}

/** Arrays that {@link readProgramInfoArrays} can fetch. */
export interface ProgramInfoArrays {
  /** Instructions after the verifier's rewrites. */
  xlated?: Uint8Array;
  /** JIT-compiled machine code. */
  jited?: Uint8Array;
}

/**
 * Fills `info` from the kernel; returns how many bytes of it the kernel wrote (its own
 * `sizeof(struct bpf_prog_info)` when smaller than ours: fields past it are ones that kernel
 * does not have).
 */
function fetchInfo(fd: number, info: Attr, array?: Uint8Array, array2?: Uint8Array): number {
  const attr = new Attr(OBJ_GET_INFO_BY_FD_ATTR)
    .set("bpf_fd", fd)
    .set("info_len", info.bytes.byteLength)
    .setU64("info", sys().addressOf(info.bytes));
  const r = objGetInfoByFd(attr, info.bytes, array);
  retain(array2);
  if (r < 0) throw new BpfError(BpfCmd.OBJ_GET_INFO_BY_FD, -r, `program fd ${fd}`);
  return attr.get("info_len");
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * Reads `struct bpf_prog_info` of a program file descriptor.
 *
 * @throws {BpfError} when `fd` is not a program.
 * @example
 * ```ts
 * import { asm, Program, readProgramInfo } from "@tsbpf/core";
 * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
 * readProgramInfo(prog.fd).verifiedInsns; // 2
 * ```
 */
export function readProgramInfo(fd: number): ProgramInfo {
  const info = new Attr(PROG_INFO_LAYOUT);
  const len = fetchInfo(fd, info);
  /** A field the kernel has (inside the part it wrote), else undefined. */
  const has = (f: keyof typeof PROG_INFO_LAYOUT.fields): boolean => {
    const field = info.layout.fields[f];
    return field.offset + field.size <= len;
  };
  const nrMaps = info.get("nr_map_ids");
  const mapIds: number[] = [];
  if (nrMaps > 0) {
    const ids = alloc(nrMaps * 4);
    const again = new Attr(PROG_INFO_LAYOUT).set("nr_map_ids", nrMaps).setU64(
      "map_ids",
      sys().addressOf(ids),
    );
    fetchInfo(fd, again, ids);
    const v = new DataView(ids.buffer);
    const n = Math.min(nrMaps, again.get("nr_map_ids"));
    for (let i = 0; i < n; i++) mapIds.push(v.getUint32(i * 4, true));
  }
  const type = info.get("type");
  return {
    type,
    typeName: progTypeLabel(type),
    id: info.get("id"),
    tag: hex(info.getBytes("tag")),
    name: readCString(info.getBytes("name")),
    jitedProgLen: info.get("jited_prog_len"),
    xlatedProgLen: info.get("xlated_prog_len"),
    loadTime: info.getU64("load_time"),
    createdByUid: info.get("created_by_uid"),
    mapIds,
    gplCompatible:
      (info.view.getUint32(info.layout.fields["gpl_compatible"].offset, true) & 1) === 1,
    btfId: info.get("btf_id"),
    verifiedInsns: has("verified_insns") ? info.get("verified_insns") : undefined,
    runTimeNs: info.getU64("run_time_ns"),
    runCnt: info.getU64("run_cnt"),
    recursionMisses: has("recursion_misses") ? info.getU64("recursion_misses") : undefined,
    attachBtfObjId: has("attach_btf_obj_id") ? info.get("attach_btf_obj_id") : undefined,
    attachBtfId: has("attach_btf_id") ? info.get("attach_btf_id") : undefined,
  };
}

/**
 * Reads the translated instructions and/or JIT image of a program.
 *
 * @example
 * ```ts
 * import { asm, Program, readProgramInfoArrays } from "@tsbpf/core";
 * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
 * const { xlated } = readProgramInfoArrays(prog.fd, { xlated: true });
 * ```
 */
export function readProgramInfoArrays(
  fd: number,
  want: { xlated?: boolean; jited?: boolean },
): ProgramInfoArrays {
  const first = new Attr(PROG_INFO_LAYOUT);
  fetchInfo(fd, first);
  const xlatedLen = first.get("xlated_prog_len");
  const jitedLen = first.get("jited_prog_len");
  const info = new Attr(PROG_INFO_LAYOUT);
  const xlated = want.xlated && xlatedLen > 0 ? alloc(xlatedLen) : undefined;
  const jited = want.jited && jitedLen > 0 ? alloc(jitedLen) : undefined;
  if (xlated) {
    info.set("xlated_prog_len", xlated.byteLength).setU64(
      "xlated_prog_insns",
      sys().addressOf(xlated),
    );
  }
  if (jited) {
    info.set("jited_prog_len", jited.byteLength).setU64("jited_prog_insns", sys().addressOf(jited));
  }
  fetchInfo(fd, info, xlated, jited);
  const out: ProgramInfoArrays = {};
  if (want.xlated) {
    out.xlated = xlated ? xlated.slice(0, info.get("xlated_prog_len")) : new Uint8Array(0);
  }
  if (want.jited) {
    out.jited = jited ? jited.slice(0, info.get("jited_prog_len")) : new Uint8Array(0);
  }
  return out;
}
