/**
 * Multi-uprobes: many functions of one executable or library through one link
 * (`BPF_LINK_CREATE`, `BPF_TRACE_UPROBE_MULTI`, 6.6+).
 *
 * @module
 */
import { AttachType } from "../../types/attach_type.ts";
import { LINK_CREATE_UPROBE_MULTI_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { ProgType } from "../../types/prog_type.ts";
import { Attr } from "../attr.ts";
import { alloc, cString, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { linkCreate } from "../sys/bpf_cmds.ts";
import { AttachError } from "./errors.ts";
import { Link } from "./link.ts";
import { type AttachableProgram, programFd } from "./os.ts";
import { resolveLibraryPath, symbolOffset } from "./uprobe.ts";

/** `BPF_F_UPROBE_MULTI_RETURN`. */
const UPROBE_MULTI_RETURN = 1;

/**
 * What {@link attachUprobeMulti} probes: functions (by name) or file offsets of one file, with
 * one cookie per probe and, for USDT-style probes, semaphore (reference counter) offsets.
 *
 * @example
 * ```ts
 * import type { UprobeMultiTarget } from "@tsbpf/core/link";
 * const t: UprobeMultiTarget = { path: "libc.so.6", symbols: ["malloc", "free"], cookies: [1n, 2n] };
 * ```
 */
export interface UprobeMultiTarget {
  /** The executable or library: a path, or the file name of a library mapped into this process. */
  path: string;
  /** Function names (as {@link attachUprobe} takes them). */
  symbols?: readonly string[];
  /** File offsets (instead of `symbols`). */
  offsets?: readonly number[];
  /** One `bpf_get_attach_cookie()` value per probe. */
  cookies?: readonly bigint[];
  /** One semaphore file offset per probe (0 for none): the kernel counts attached probes there. */
  refCtrOffsets?: readonly number[];
  /** Only this process; -1 (default) for all. */
  pid?: number;
  /** Fire on return. */
  retprobe?: boolean;
}

/**
 * Attaches a `kprobe` program (loaded with `expectedAttachType: "trace_uprobe_multi"`) to many
 * places of one file through a single link.
 *
 * @throws {AttachError} for a missing file or unknown symbol (as {@link attachUprobe}), or the
 *   kernel's refusal (`EOPNOTSUPP` before 6.6, `EINVAL` for a program loaded without the attach
 *   type).
 * @throws {RangeError} when the per-probe arrays differ in length, or nothing is given.
 * @example
 * ```ts
 * import type { Program } from "@tsbpf/core";
 * import { attachUprobeMulti } from "@tsbpf/core/link";
 * declare const prog: Program; // loaded, of the type this attach point takes
 * using link = attachUprobeMulti(prog, { path: "libc.so.6", symbols: ["malloc", "free"] });
 * ```
 */
export function attachUprobeMulti(program: AttachableProgram, what: UprobeMultiTarget): Link {
  const { pid = -1, retprobe = false } = what;
  const label = `attachUprobeMulti(${retprobe ? "return " : ""}${what.path}:${
    what.symbols?.join(",") ?? what.offsets?.map((o) => `0x${o.toString(16)}`).join(",") ?? ""
  }${pid === -1 ? "" : `, pid ${pid}`})`;
  if ((what.symbols === undefined) === (what.offsets === undefined)) {
    throw new RangeError(`${label}: give symbols or offsets`);
  }
  const progFd = programFd(program, label, [ProgType.KPROBE]);
  const path = resolveLibraryPath(what.path);
  const offsets = what.symbols !== undefined
    ? what.symbols.map((sym) => symbolOffset(path, sym, label))
    : [...what.offsets!];
  const cnt = offsets.length;
  if (cnt === 0) throw new RangeError(`${label}: no probe given`);
  for (const [name, arr] of [["cookies", what.cookies], ["refCtrOffsets", what.refCtrOffsets]]) {
    if (arr !== undefined && (arr as readonly unknown[]).length !== cnt) {
      throw new RangeError(
        `${label}: ${(arr as readonly unknown[]).length} ${name} for ${cnt} probes`,
      );
    }
  }
  if (!Number.isSafeInteger(pid) || pid < -1) throw new RangeError(`${label}: bad pid ${pid}`);
  const s = sys();
  const keep: Uint8Array[] = [];
  const u64s = (values: readonly (bigint | number)[]): bigint => {
    const b = alloc(values.length * 8);
    const v = new DataView(b.buffer);
    values.forEach((x, i) => v.setBigUint64(i * 8, BigInt(x), true));
    keep.push(b);
    return s.addressOf(b);
  };
  const name = cString(path);
  keep.push(name);
  const attr = new Attr(LINK_CREATE_UPROBE_MULTI_ATTR)
    .set("prog_fd", progFd)
    .set("attach_type", AttachType.TRACE_UPROBE_MULTI)
    .setU64("uprobe_multi.path", s.addressOf(name))
    .setU64("uprobe_multi.offsets", u64s(offsets))
    .set("uprobe_multi.cnt", cnt)
    .set("uprobe_multi.flags", retprobe ? UPROBE_MULTI_RETURN : 0);
  if (pid !== -1) attr.set("uprobe_multi.pid", pid);
  if (what.cookies !== undefined) attr.setU64("uprobe_multi.cookies", u64s(what.cookies));
  if (what.refCtrOffsets !== undefined) {
    attr.setU64("uprobe_multi.ref_ctr_offsets", u64s(what.refCtrOffsets));
  }
  const fd = linkCreate(attr);
  retain(...keep);
  if (fd < 0) {
    const errno = -fd;
    throw new AttachError(
      label,
      BpfCmd.LINK_CREATE,
      errno,
      errno === Errno.EOPNOTSUPP
        ? "the kernel has no multi-uprobes (6.6+, CONFIG_UPROBES)"
        : errno === Errno.ESRCH
        ? `no process ${pid}`
        : undefined,
    );
  }
  return new Link(fd);
}
