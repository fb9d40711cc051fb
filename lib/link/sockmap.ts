/**
 * Socket-map programs: `sk_msg` and `sk_skb` (stream parser, stream verdict, skb verdict) on a
 * sockmap or sockhash, through a sockmap link (Linux 6.10+) or `BPF_PROG_ATTACH`.
 *
 * @module
 */
import { AttachType, attachTypeName } from "../../types/attach_type.ts";
import { LINK_CREATE_ATTR, PROG_ATTACH_ATTR, PROG_DETACH_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { MapType, mapTypeName } from "../../types/map_type.ts";
import { ProgType } from "../../types/prog_type.ts";
import { Attr } from "../attr.ts";
import { openById } from "../ids.ts";
import { linkCreate, progAttach, progDetach } from "../sys/bpf_cmds.ts";
import { AttachError } from "./errors.ts";
import { Link, type LinkInfo } from "./link.ts";
import { LinkType } from "../../types/link_type.ts";
import { type AttachableProgram, closeQuietly, programFd } from "./os.ts";

/**
 * Where on a socket map a program goes:
 * - `"msg_verdict"`: an `sk_msg` program judging each `sendmsg` (`BPF_SK_MSG_VERDICT`);
 * - `"stream_parser"`: an `sk_skb` program returning the length of the next message in a TCP
 *   stream (`BPF_SK_SKB_STREAM_PARSER`);
 * - `"stream_verdict"`: an `sk_skb` program judging each parsed message
 *   (`BPF_SK_SKB_STREAM_VERDICT`);
 * - `"skb_verdict"`: an `sk_skb` program judging each received skb, without a parser
 *   (`BPF_SK_SKB_VERDICT`, 5.13+; excludes `"stream_verdict"`).
 *
 * An `AttachType` number is accepted as well.
 */
export type SockMapAttachType =
  | "msg_verdict"
  | "stream_parser"
  | "stream_verdict"
  | "skb_verdict"
  | number;

/** A sockmap or sockhash: a `BpfMap` fits. */
export interface SockMapLike {
  /** The map's file descriptor. */
  readonly fd: number;
  /** The map's id. */
  readonly id: number;
  /** Its `MapType` number, when known: checked before attaching. */
  readonly type?: number;
  /** Whether the map's fd is closed. */
  readonly closed?: boolean;
}

/** Options of {@link attachSockMap}. */
export interface SockMapOptions {
  /**
   * `"link"`: a sockmap link (6.10+); `"prog_attach"`: `BPF_PROG_ATTACH` (any kernel); `"auto"`
   * (default): the link, falling back to `BPF_PROG_ATTACH` where the kernel has no sockmap links.
   */
  mode?: "auto" | "link" | "prog_attach";
}

const ATTACH_TYPES: Readonly<Record<string, number>> = {
  msg_verdict: AttachType.SK_MSG_VERDICT,
  stream_parser: AttachType.SK_SKB_STREAM_PARSER,
  stream_verdict: AttachType.SK_SKB_STREAM_VERDICT,
  skb_verdict: AttachType.SK_SKB_VERDICT,
};

function progTypeFor(attachType: number): number | undefined {
  switch (attachType) {
    case AttachType.SK_MSG_VERDICT:
      return ProgType.SK_MSG;
    case AttachType.SK_SKB_STREAM_PARSER:
    case AttachType.SK_SKB_STREAM_VERDICT:
    case AttachType.SK_SKB_VERDICT:
      return ProgType.SK_SKB;
    default:
      return undefined;
  }
}

function explainSockMap(errno: number): string | undefined {
  switch (errno) {
    case Errno.EINVAL:
      return "the map must be a sockmap or sockhash and the program fit the attach type " +
        "(sk_msg for msg_verdict, sk_skb for the others)";
    case Errno.EBUSY:
      return "a program is attached already at this point of the map (and stream_verdict and " +
        "skb_verdict exclude each other)";
    case Errno.EOPNOTSUPP:
      return "this kernel does not support this attach type on socket maps";
    default:
      return undefined;
  }
}

/**
 * An `sk_msg` or `sk_skb` program attached to a sockmap or sockhash: through a sockmap link
 * ({@link SockMapAttachment.link}: info, pin, update, detach) or, on kernels before 6.10, with
 * `BPF_PROG_ATTACH` (then `close()` runs `BPF_PROG_DETACH`). `close()` (or `using`) detaches.
 *
 * @example
 * ```ts
 * import { asm, BpfMap, fd64, Program, u32 } from "@tsbpf/core";
 * import { attachSockMap } from "@tsbpf/core/link";
 * using sockmap = BpfMap.create({ type: "sockmap", key: u32, value: fd64, maxEntries: 8 });
 * using verdict = Program.load({ type: "sk_skb", license: "GPL", insns: asm`r0 = 1\nexit` });
 * using a = attachSockMap(verdict, sockmap, "stream_verdict");
 * console.log(a.method, a.info().sockmap); // "link" { mapId: …, attachType: 5 }
 * ```
 */
export class SockMapAttachment implements Disposable {
  /** The sockmap link, when attached through one. */
  readonly link: Link | undefined;
  /** How the program was attached. */
  readonly method: "link" | "prog_attach";
  /** The `AttachType` number. */
  readonly attachType: number;
  /** Id of the map. */
  readonly mapId: number;
  #progId: number;
  #closed = false;

  /** Wraps what {@link attachSockMap} made. */
  constructor(link: Link | undefined, attachType: number, mapId: number, progId: number) {
    this.link = link;
    this.method = link === undefined ? "prog_attach" : "link";
    this.attachType = attachType;
    this.mapId = mapId;
    this.#progId = progId;
  }

  /** Whether {@link SockMapAttachment.close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Id of the attached program. */
  get progId(): number {
    return this.#progId;
  }

  /**
   * The link's information, or for a `BPF_PROG_ATTACH` attachment the same facts in the same
   * shape (type `sockmap`, id 0).
   *
   * @example
   * ```ts
   * import { asm, BpfMap, fd64, Program, u32 } from "@tsbpf/core";
   * import { attachSockMap } from "@tsbpf/core/link";
   * using map = BpfMap.create({ type: "sockmap", key: u32, value: fd64, maxEntries: 8 });
   * using prog = Program.load({ type: "sk_msg", license: "GPL", insns: asm`r0 = 1\nexit` });
   * using a = attachSockMap(prog, map, "msg_verdict");
   * a.info().sockmap; // { mapId, attachType: 7 }
   * ```
   */
  info(): LinkInfo {
    if (this.link !== undefined) return this.link.info();
    return {
      type: LinkType.SOCKMAP,
      typeName: "sockmap",
      id: 0,
      progId: this.#progId,
      sockmap: { mapId: this.mapId, attachType: this.attachType },
    };
  }

  /**
   * Replaces the program: `BPF_LINK_UPDATE` on a link, `BPF_PROG_ATTACH` again otherwise. As
   * with the attach itself, sockets already in the map keep the program they had.
   *
   * @throws {BpfError} from the kernel, e.g. `EINVAL` for a program of another type.
   * @example
   * ```ts
   * import { asm, BpfMap, fd64, Program, u32 } from "@tsbpf/core";
   * import { attachSockMap } from "@tsbpf/core/link";
   * using map = BpfMap.create({ type: "sockmap", key: u32, value: fd64, maxEntries: 8 });
   * using verdict = Program.load({ type: "sk_skb", license: "GPL", insns: asm`r0 = 1\nexit` });
   * using newVerdict = Program.load({ type: "sk_skb", license: "GPL", insns: asm`r0 = 0\nexit` });
   * using attachment = attachSockMap(verdict, map, "stream_verdict");
   * attachment.update(newVerdict);
   * ```
   */
  update(program: AttachableProgram): void {
    const target = `SockMapAttachment.update(map ${this.mapId})`;
    if (this.#closed) throw new AttachError(target, "update", Errno.EBADF, "closed");
    const expected = progTypeFor(this.attachType);
    const fd = programFd(program, target, expected === undefined ? [] : [expected]);
    if (this.link !== undefined) {
      this.link.update(program);
    } else {
      const mapFd = openById(BpfCmd.MAP_GET_FD_BY_ID, this.mapId, "map");
      try {
        const attr = new Attr(PROG_ATTACH_ATTR)
          .set("target_fd", mapFd)
          .set("attach_bpf_fd", fd)
          .set("attach_type", this.attachType);
        const r = progAttach(attr);
        if (r < 0) {
          throw new AttachError(target, BpfCmd.PROG_ATTACH, -r, explainSockMap(-r));
        }
      } finally {
        closeQuietly(mapFd);
      }
    }
    this.#progId = program.id;
  }

  /**
   * Detaches the program from the map: new sockets added to the map no longer get it.
   * Idempotent. A `BPF_PROG_ATTACH` attachment whose map or program is gone has nothing left to
   * detach.
   *
   * @throws {AttachError} when `BPF_PROG_DETACH` fails otherwise.
   * @example
   * ```ts
   * import { asm, BpfMap, fd64, Program, u32 } from "@tsbpf/core";
   * import { attachSockMap } from "@tsbpf/core/link";
   * using map = BpfMap.create({ type: "sockmap", key: u32, value: fd64, maxEntries: 8 });
   * using verdict = Program.load({ type: "sk_skb", license: "GPL", insns: asm`r0 = 1\nexit` });
   * const attachment = attachSockMap(verdict, map, "stream_verdict");
   * attachment.close();
   * attachment.close(); // idempotent
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.link !== undefined) {
      this.link.close();
      return;
    }
    let mapFd = -1;
    let progFd = -1;
    try {
      // The map holds the program while it is attached: both reopen by id unless gone.
      try {
        mapFd = openById(BpfCmd.MAP_GET_FD_BY_ID, this.mapId, "map");
        progFd = openById(BpfCmd.PROG_GET_FD_BY_ID, this.#progId, "program");
      } catch {
        return;
      }
      const attr = new Attr(PROG_DETACH_ATTR)
        .set("target_fd", mapFd)
        .set("attach_bpf_fd", progFd)
        .set("attach_type", this.attachType);
      const r = progDetach(attr);
      if (r < 0 && -r !== Errno.ENOENT) {
        throw new AttachError(`detachSockMap(map ${this.mapId})`, BpfCmd.PROG_DETACH, -r);
      }
    } finally {
      closeQuietly(progFd);
      closeQuietly(mapFd);
    }
  }

  /** Detaches at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Attaches an `sk_msg` or `sk_skb` program to a sockmap or sockhash. The program applies to the
 * sockets added to the map after the attach (the kernel copies a map's programs into each socket
 * when it is added): attach first, then insert the sockets.
 *
 * @param attachType `"msg_verdict"` (`sk_msg`), `"stream_parser"`, `"stream_verdict"` or
 *   `"skb_verdict"` (`sk_skb`), or an `AttachType` number.
 * @throws {TypeError} for a program or map of the wrong type (when their types are known).
 * @throws {AttachError} from the kernel with the reason, e.g. `EBUSY` when a program holds that
 *   attach point already.
 * @example
 * ```ts
 * import { asm, BpfMap, fd64, Program, u32 } from "@tsbpf/core";
 * import { attachSockMap } from "@tsbpf/core/link";
 * using sockets = BpfMap.create({ type: "sockmap", key: u32, value: fd64, maxEntries: 8 });
 * using verdict = Program.load({ type: "sk_skb", license: "GPL", insns: asm`r0 = 1\nexit` });
 * using attachment = attachSockMap(verdict, sockets, "stream_verdict");
 * console.log(attachment.method); // "link" (6.10+) or "prog_attach"
 * // now sockets.set(0, tcpSocketFd): its received data goes through the program (SK_PASS)
 * ```
 */
export function attachSockMap(
  program: AttachableProgram,
  map: SockMapLike,
  attachType: SockMapAttachType,
  options: SockMapOptions = {},
): SockMapAttachment {
  const type = typeof attachType === "number" ? attachType : ATTACH_TYPES[attachType];
  const label = typeof attachType === "number"
    ? (attachTypeName(attachType) ?? `attach type ${attachType}`)
    : attachType;
  const target = `attachSockMap(map ${map.closed === true ? "(closed)" : map.fd}, ${label})`;
  const progType = type === undefined ? undefined : progTypeFor(type);
  if (type === undefined || progType === undefined) {
    throw new RangeError(
      `${target}: attach type must be "msg_verdict", "stream_parser", "stream_verdict" or ` +
        `"skb_verdict"`,
    );
  }
  const mode = options.mode ?? "auto";
  if (mode !== "auto" && mode !== "link" && mode !== "prog_attach") {
    throw new RangeError(`${target}: mode must be "auto", "link" or "prog_attach"`);
  }
  if (map.closed === true) {
    throw new AttachError(target, "attach", Errno.EBADF, "the map is closed");
  }
  if (map.type !== undefined && map.type !== MapType.SOCKMAP && map.type !== MapType.SOCKHASH) {
    throw new TypeError(
      `${target}: needs a sockmap or sockhash, got ${mapTypeName(map.type) ?? `type ${map.type}`}`,
    );
  }
  const progFd = programFd(program, target, [progType]);
  if (mode !== "prog_attach") {
    const attr = new Attr(LINK_CREATE_ATTR)
      .set("prog_fd", progFd)
      .set("target_fd", map.fd)
      .set("attach_type", type);
    const fd = linkCreate(attr);
    if (fd >= 0) return new SockMapAttachment(new Link(fd), type, map.id, program.id);
    // Before 6.10 BPF_LINK_CREATE knows no sk_msg/sk_skb programs: EINVAL.
    if (mode === "link" || -fd !== Errno.EINVAL) {
      throw new AttachError(target, BpfCmd.LINK_CREATE, -fd, explainSockMap(-fd));
    }
  }
  const attr = new Attr(PROG_ATTACH_ATTR)
    .set("target_fd", map.fd)
    .set("attach_bpf_fd", progFd)
    .set("attach_type", type);
  const r = progAttach(attr);
  if (r < 0) throw new AttachError(target, BpfCmd.PROG_ATTACH, -r, explainSockMap(-r));
  return new SockMapAttachment(undefined, type, map.id, program.id);
}
