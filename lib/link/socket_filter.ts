/**
 * Socket filters (`SO_ATTACH_BPF`): a legacy attachment without a link.
 *
 * @module
 */
import { readLink } from "../host_fs.ts";
import { alloc, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { ProgType } from "../../types/prog_type.ts";
import { AttachError } from "./errors.ts";
import { type AttachableProgram, programFd } from "./os.ts";
import { Errno } from "../../types/errno.ts";
import { SocketOption } from "../../types/os.ts";

const SOL_SOCKET = BigInt(SocketOption.SOL_SOCKET);
const SO_ATTACH_BPF = BigInt(SocketOption.SO_ATTACH_BPF);
const SO_DETACH_BPF = BigInt(SocketOption.SO_DETACH_BPF);
/** `ENOENT`: no filter attached. */
const ENOENT = Errno.ENOENT;

function setsockoptInt(fd: number, option: bigint, value: number): bigint {
  const s = sys();
  const buf = alloc(4);
  new DataView(buf.buffer).setInt32(0, value, true);
  const r = s.syscall(s.nr.setsockopt, BigInt(fd), SOL_SOCKET, option, s.addressOf(buf), 4n);
  retain(buf);
  return r;
}

/** What `/proc/self/fd/N` names the open file (`socket:[inode]`), or `undefined` once closed. */
function fileIdentity(fd: number): string | undefined {
  try {
    return readLink(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/** The attachment tsbpf made last on each socket (by identity), to know when one replaces another. */
const current = new Map<string, WeakRef<SocketFilterAttachment>>();

/**
 * A socket filter attached with {@link attachSocketFilter}. `close()` detaches it
 * (`SO_DETACH_BPF`); the socket itself stays open and is not owned.
 *
 * @example
 * ```ts
 * import type { Program } from "@tsbpf/core";
 * import { attachSocketFilter } from "@tsbpf/core/link";
 * declare const sockFd: number, prog: Program; // a socket and a socket_filter program
 * using attachment = attachSocketFilter(sockFd, prog);
 * ```
 */
export class SocketFilterAttachment {
  /** The socket the filter is attached to. */
  readonly socketFd: number;
  /** `/proc/self/fd` name of the socket (`socket:[inode]`) when the filter was attached. */
  readonly #identity: string | undefined;
  #attached = true;

  /** Records an attachment made on `socketFd`. Prefer {@link attachSocketFilter}. */
  constructor(socketFd: number) {
    this.socketFd = socketFd;
    this.#identity = fileIdentity(socketFd);
    if (this.#identity !== undefined) {
      const previous = current.get(this.#identity)?.deref();
      if (previous !== undefined) previous.#replaced();
      current.set(this.#identity, new WeakRef(this));
    }
  }

  /** Another tsbpf attachment replaced this one on the same socket: nothing left to detach. */
  #replaced(): void {
    this.#attached = false;
  }

  /**
   * Whether the filter is no longer attached through this object: {@link
   * SocketFilterAttachment.close} ran, or another `attachSocketFilter` replaced it.
   */
  get closed(): boolean {
    return !this.#attached;
  }

  /**
   * Detaches the filter from the socket. Idempotent. Does nothing when another
   * `attachSocketFilter` replaced this filter, or when the socket was closed (even if its fd
   * number now names another socket). A filter that something outside tsbpf attached to the same
   * socket afterwards cannot be told apart and is detached.
   *
   * @throws {AttachError} when `setsockopt` fails otherwise.
   */
  close(): void {
    if (!this.#attached) return;
    this.#attached = false;
    const identity = this.#identity;
    if (identity !== undefined) {
      if (current.get(identity)?.deref() === this) current.delete(identity);
      // The socket was closed, and the number may name another file now: not ours to touch.
      if (fileIdentity(this.socketFd) !== identity) return;
    }
    const r = setsockoptInt(this.socketFd, SO_DETACH_BPF, 0);
    if (r < 0n && Number(-r) !== ENOENT) {
      throw new AttachError(
        `detachSocketFilter(socket ${this.socketFd})`,
        "setsockopt(SO_DETACH_BPF)",
        Number(-r),
      );
    }
  }

  /** Detaches at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Attaches a `socket_filter` program to a socket (`setsockopt(SOL_SOCKET, SO_ATTACH_BPF)`),
 * replacing any filter it had. The program's return value is how many bytes of each packet to
 * keep; 0 drops the packet.
 *
 * @throws {AttachError} `EBADF`/`ENOTSOCK` for a bad socket, `EINVAL` for a program of another
 *   type.
 * @example
 * ```ts
 * import type { Program } from "@tsbpf/core";
 * import { attachSocketFilter } from "@tsbpf/core/link";
 * declare const sockFd: number, prog: Program; // a socket and a socket_filter program
 * using attachment = attachSocketFilter(sockFd, prog);
 * ```
 */
export function attachSocketFilter(
  socketFd: number,
  program: AttachableProgram,
): SocketFilterAttachment {
  const target = `attachSocketFilter(socket ${socketFd})`;
  if (!Number.isInteger(socketFd) || socketFd < 0) {
    throw new RangeError(`${target}: not a file descriptor`);
  }
  const r = setsockoptInt(
    socketFd,
    SO_ATTACH_BPF,
    programFd(program, target, [ProgType.SOCKET_FILTER]),
  );
  if (r < 0n) throw new AttachError(target, "setsockopt(SO_ATTACH_BPF)", Number(-r));
  return new SocketFilterAttachment(socketFd);
}
