/**
 * `Link`: an owned `bpf_link` file descriptor. The attachment lasts as long as the link is open
 * (or pinned); closing the last reference detaches the program.
 *
 * @module
 */
import { LINK_DETACH_ATTR, LINK_UPDATE_ATTR, OBJ_GET_INFO_BY_FD_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { LinkType, linkTypeName } from "../../types/link_type.ts";
import { Attr } from "../attr.ts";
import { BpfError } from "../errors.ts";
import { bpfObjectKind, describeHandle, FdHandle, INSPECT_SYMBOLS } from "../fd.ts";
import { openPinned, unpinPath } from "../pin.ts";
import { listIds, openById } from "../ids.ts";
import type { AttachableProgram } from "./os.ts";
import { alloc, readCString } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { linkDetach, linkUpdate, objGetInfoByFd } from "../sys/bpf_cmds.ts";
import { AttachFlag } from "../../types/flags.ts";

/** Bytes of `struct bpf_link_info` that tsbpf reads (common part and the union's first 32 bytes). */
const LINK_INFO_SIZE = 48;
/** Room for a tracepoint or iterator target name. */
const NAME_SIZE = 256;

/** What {@link Link.info} reports. Type-specific parts are set for the link types that have them. */
export interface LinkInfo {
  /** `bpf_link_type` number (`LinkType`). */
  type: number;
  /** Its name, e.g. `"xdp"`, `"raw_tracepoint"`. */
  typeName: string;
  /** The link's id. */
  id: number;
  /** Id of the attached program. */
  progId: number;
  /** Raw tracepoint links (also BTF tracepoints attached as raw ones): the tracepoint's name. */
  tracepointName?: string;
  /** Tracing links (`tp_btf`, fentry…): attach type, target object id and BTF id. */
  tracing?: { attachType: number; targetObjId: number; targetBtfId: number };
  /** Cgroup links: the cgroup's id (its inode number) and the attach type. */
  cgroup?: { cgroupId: bigint; attachType: number };
  /** Iterator links: the target, e.g. `"task"`. */
  iterTarget?: string;
  /** XDP links: the interface (0 once the device is gone or the link detached). */
  xdp?: { ifindex: number };
  /** tcx links: interface and attach type (`TCX_INGRESS`/`TCX_EGRESS`). */
  tcx?: { ifindex: number; attachType: number };
  /** netns links (`sk_lookup`, flow dissector): namespace inode and attach type. */
  netns?: { netnsIno: number; attachType: number };
  /** Netfilter links: protocol family, hook, priority and flags. */
  netfilter?: { pf: number; hooknum: number; priority: number; flags: number };
  /** sockmap links: the sockmap or sockhash and the attach type (`SK_SKB_STREAM_VERDICT`…). */
  sockmap?: { mapId: number; attachType: number };
  /** netkit links: interface and attach type (`NETKIT_PRIMARY`/`NETKIT_PEER`). */
  netkit?: { ifindex: number; attachType: number };
  /** struct_ops links: the struct_ops map registered. */
  structOps?: { mapId: number };
  /**
   * perf-event links: `bpf_perf_event_type` (5 = tracepoint) and, for tracepoints, the name.
   * Absent when the kernel does not describe perf-event links (before 6.6 it leaves that part of
   * `bpf_link_info` zero, `BPF_PERF_EVENT_UNSPEC`).
   */
  perfEvent?: { type: number; tracepointName?: string };
}

function readLinkInfo(fd: number): LinkInfo {
  const s = sys();
  const info = alloc(LINK_INFO_SIZE);
  const name = alloc(NAME_SIZE);
  const dv = new DataView(info.buffer);
  const attr = new Attr(OBJ_GET_INFO_BY_FD_ATTR)
    .set("bpf_fd", fd)
    .set("info_len", LINK_INFO_SIZE)
    .setU64("info", s.addressOf(info));
  let r = objGetInfoByFd(attr, info);
  if (r < 0) throw new BpfError(BpfCmd.OBJ_GET_INFO_BY_FD, -r, "link");
  const type = dv.getUint32(0, true);
  // A second call for the types whose info carries a name: the kernel copies it into our buffer.
  const nameAt = type === LinkType.RAW_TRACEPOINT || type === LinkType.ITER
    ? 16
    : type === LinkType.PERF_EVENT && dv.getUint32(16, true) === 5
    ? 24
    : -1;
  let text: string | undefined;
  if (nameAt >= 0) {
    info.fill(0);
    dv.setBigUint64(nameAt, s.addressOf(name), true);
    dv.setUint32(nameAt + 8, NAME_SIZE, true);
    r = objGetInfoByFd(attr, info, name);
    if (r < 0) throw new BpfError(BpfCmd.OBJ_GET_INFO_BY_FD, -r, "link");
    text = readCString(name);
  }
  const u32 = (o: number): number => dv.getUint32(o, true);
  const out: LinkInfo = {
    type,
    typeName: linkTypeName(type) ?? `link type ${type}`,
    id: u32(4),
    progId: u32(8),
  };
  switch (type) {
    case LinkType.RAW_TRACEPOINT:
      out.tracepointName = text;
      break;
    case LinkType.TRACING:
      out.tracing = { attachType: u32(16), targetObjId: u32(20), targetBtfId: u32(24) };
      break;
    case LinkType.CGROUP:
      out.cgroup = { cgroupId: dv.getBigUint64(16, true), attachType: u32(24) };
      break;
    case LinkType.ITER:
      out.iterTarget = text;
      break;
    case LinkType.NETNS:
      out.netns = { netnsIno: u32(16), attachType: u32(20) };
      break;
    case LinkType.XDP:
      out.xdp = { ifindex: u32(16) };
      break;
    case LinkType.TCX:
      out.tcx = { ifindex: u32(16), attachType: u32(20) };
      break;
    case LinkType.NETFILTER:
      out.netfilter = {
        pf: u32(16),
        hooknum: u32(20),
        priority: dv.getInt32(24, true),
        flags: u32(28),
      };
      break;
    case LinkType.SOCKMAP:
      out.sockmap = { mapId: u32(16), attachType: u32(20) };
      break;
    case LinkType.NETKIT:
      out.netkit = { ifindex: u32(16), attachType: u32(20) };
      break;
    case LinkType.STRUCT_OPS:
      out.structOps = { mapId: u32(16) };
      break;
    case LinkType.PERF_EVENT:
      if (u32(16) === 0) break; // BPF_PERF_EVENT_UNSPEC: the kernel did not describe the link
      out.perfEvent = text === undefined
        ? { type: u32(16) }
        : { type: u32(16), tracepointName: text };
      break;
  }
  return out;
}

/**
 * An attachment made through a `bpf_link`. Closing it (or leaving a `using` block) detaches the
 * program unless the link is pinned; a link dropped without `close()` is closed after garbage
 * collection.
 *
 * @example
 * ```ts
 * import { asm, Program } from "@tsbpf/core";
 * import { attachRawTracepoint, Link } from "@tsbpf/core/link";
 * using prog = Program.load({ type: "raw_tracepoint", insns: asm`r0 = 0\nexit`, license: "GPL" });
 * using link = attachRawTracepoint(prog, "sys_enter");
 * console.log(link.info().typeName, Link.list().includes(link.id)); // "raw_tracepoint" true
 * ```
 */
export class Link {
  readonly #handle: FdHandle;
  #id: number | undefined;

  /** Takes ownership of a link file descriptor. Prefer the attach functions. */
  constructor(fd: number) {
    this.#handle = new FdHandle(fd, "link");
  }

  /**
   * Opens the link with the given id (`BPF_LINK_GET_FD_BY_ID`).
   *
   * @throws {BpfError} `ENOENT` when no link has that id.
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * import { attachRawTracepoint, Link } from "@tsbpf/core/link";
   * using prog = Program.load({ type: "raw_tracepoint", insns: asm`r0 = 0\nexit`, license: "GPL" });
   * using link = attachRawTracepoint(prog, "sys_enter");
   * using again = Link.fromId(link.id);
   * ```
   */
  static fromId(id: number): Link {
    return new this(openById(BpfCmd.LINK_GET_FD_BY_ID, id, "link"));
  }

  /**
   * Opens a link pinned in bpffs (`BPF_OBJ_GET`).
   *
   * @throws {TypeError} when the pinned object is not a link.
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * import { attachRawTracepoint, Link } from "@tsbpf/core/link";
   * using prog = Program.load({ type: "raw_tracepoint", insns: asm`r0 = 0\nexit`, license: "GPL" });
   * using link = attachRawTracepoint(prog, "sys_enter");
   * const path = `/sys/fs/bpf/doc_link_${Deno.pid}`;
   * link.pin(path);
   * using again = Link.fromPin(path);
   * Link.unpin(path);
   * ```
   */
  static fromPin(path: string): Link {
    const fd = openPinned(path);
    const kind = bpfObjectKind(fd);
    if (kind !== undefined && kind !== "link") {
      sys().close(fd);
      throw new TypeError(`${path} is a BPF ${kind}, not a link`);
    }
    return new this(fd);
  }

  /**
   * Removes a pin made with {@link Link.pin}; the link detaches once nothing else holds it.
   *
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * import { attachRawTracepoint, Link } from "@tsbpf/core/link";
   * using prog = Program.load({ type: "raw_tracepoint", insns: asm`r0 = 0\nexit`, license: "GPL" });
   * using link = attachRawTracepoint(prog, "sys_enter");
   * link.pin(`/sys/fs/bpf/doc_link_${Deno.pid}`);
   * Link.unpin(`/sys/fs/bpf/doc_link_${Deno.pid}`);
   * ```
   */
  static unpin(path: string): void {
    unpinPath(path);
  }

  /**
   * Ids of every link in the kernel (`BPF_LINK_GET_NEXT_ID`), ascending.
   *
   * @example
   * ```ts
   * import { Link } from "@tsbpf/core/link";
   * console.log(Link.list().length);
   * ```
   */
  static list(): number[] {
    return listIds(BpfCmd.LINK_GET_NEXT_ID);
  }

  /** The file descriptor. @throws {Error} once closed. */
  get fd(): number {
    return this.#handle.fd;
  }

  /** Whether {@link Link.close} has run. */
  get closed(): boolean {
    return this.#handle.closed;
  }

  /** The kernel's id of the link. */
  get id(): number {
    return this.#id ??= readLinkInfo(this.fd).id;
  }

  /**
   * Fresh information from `BPF_OBJ_GET_INFO_BY_FD`: type, id, program id and the type-specific
   * part (interface, cgroup, tracepoint or iterator name…).
   *
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * import { attachRawTracepoint, Link } from "@tsbpf/core/link";
   * using prog = Program.load({ type: "raw_tracepoint", insns: asm`r0 = 0\nexit`, license: "GPL" });
   * using link = attachRawTracepoint(prog, "sys_enter");
   * const { typeName, progId } = link.info(); // "raw_tracepoint", prog.id
   * ```
   */
  info(): LinkInfo {
    const info = readLinkInfo(this.fd);
    this.#id = info.id;
    return info;
  }

  /**
   * Pins the link in bpffs: the attachment then outlives this process until the pin is removed.
   *
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * import { attachRawTracepoint, Link } from "@tsbpf/core/link";
   * using prog = Program.load({ type: "raw_tracepoint", insns: asm`r0 = 0\nexit`, license: "GPL" });
   * using link = attachRawTracepoint(prog, "sys_enter");
   * link.pin(`/sys/fs/bpf/doc_link_${Deno.pid}`);
   * link.unpin();
   * ```
   */
  pin(path: string): void {
    this.#handle.pin(path);
  }

  /** Where {@link Link.pin} last pinned this link, until unpinned. */
  get pinnedPath(): string | undefined {
    return this.#handle.pinnedPath;
  }

  /**
   * Removes a pin: by default the one this handle made with `pin()`. The link lives on while
   * anything else holds it.
   *
   * @throws {Error} when no path is given and this handle pinned nothing.
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * import { attachRawTracepoint, Link } from "@tsbpf/core/link";
   * using prog = Program.load({ type: "raw_tracepoint", insns: asm`r0 = 0\nexit`, license: "GPL" });
   * using link = attachRawTracepoint(prog, "sys_enter");
   * link.pin(`/sys/fs/bpf/doc_link_${Deno.pid}`);
   * link.unpin();
   * ```
   */
  unpin(path?: string): void {
    this.#handle.unpin(path);
  }

  /**
   * Replaces the attached program atomically (`BPF_LINK_UPDATE`). With `expected`, the update
   * happens only if that program is the one attached (`BPF_F_REPLACE`), else `EPERM`. On a
   * struct_ops link (`attachStructOps`) both are struct_ops maps instead: `link.update(newMap)`.
   *
   * @throws {BpfError} e.g. `EINVAL` when the new program's type does not fit the link.
   * @example
   * ```ts
   * import { asm, AttachType, kernelBtf, Program } from "@tsbpf/core";
   * import { attachIter } from "@tsbpf/core/link";
   * const iterTask = {
   *   type: "tracing" as const,
   *   expectedAttachType: AttachType.TRACE_ITER,
   *   attachBtfId: kernelBtf().get("func", "bpf_iter_task").id,
   *   insns: asm`r0 = 0\nexit`,
   *   license: "GPL",
   * };
   * using prog = Program.load(iterTask);
   * using newProg = Program.load(iterTask);
   * using link = attachIter(prog);
   * link.update(newProg); // iterator links take a new program in place
   * ```
   */
  update(program: AttachableProgram, expected?: AttachableProgram): void {
    const attr = new Attr(LINK_UPDATE_ATTR).set("link_fd", this.fd).set("new_prog_fd", program.fd);
    if (expected !== undefined) {
      attr.set("flags", AttachFlag.REPLACE).set("old_prog_fd", expected.fd);
    }
    const r = linkUpdate(attr);
    if (r < 0) throw new BpfError(BpfCmd.LINK_UPDATE, -r, `link ${this.#id ?? this.fd}`);
  }

  /**
   * Detaches the program now (`BPF_LINK_DETACH`), even if the link is pinned or held elsewhere;
   * the link stays open but defunct until closed.
   *
   * @throws {BpfError} `EOPNOTSUPP` for link types that cannot be detached this way.
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * import { attachRawTracepoint, Link } from "@tsbpf/core/link";
   * using prog = Program.load({ type: "raw_tracepoint", insns: asm`r0 = 0\nexit`, license: "GPL" });
   * using link = attachRawTracepoint(prog, "sys_enter");
   * try {
   *   link.detach(); // cgroup, XDP, tcx, netns, netfilter links; raw tracepoints refuse
   * } catch (e) {
   *   console.log((e as Error).message); // … EOPNOTSUPP …
   * }
   * ```
   */
  detach(): void {
    const attr = new Attr(LINK_DETACH_ATTR).set("link_fd", this.fd);
    const r = linkDetach(attr);
    if (r < 0) throw new BpfError(BpfCmd.LINK_DETACH, -r, `link ${this.#id ?? this.fd}`);
  }

  /** Closes the file descriptor; the program detaches unless something else holds the link. */
  close(): void {
    this.#handle.close();
  }

  /** `console.log` rendering: Link { id, type, name }. */
  toString(): string {
    return describeHandle(
      "Link",
      () => this.closed ? undefined : { id: this.id, type: this.info().typeName, fd: this.fd },
    );
  }

  /** Closes the link at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

for (const symbol of INSPECT_SYMBOLS) {
  Object.defineProperty(Link.prototype, symbol, {
    value(this: Link): string {
      return this.toString();
    },
  });
}
