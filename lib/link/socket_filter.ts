/**
 * Socket filters (`SO_ATTACH_BPF`): a legacy attachment without a link.
 *
 * @module
 */
import { alloc, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { AttachError } from "./errors.ts";
import { type AttachableProgram, programFd } from "./os.ts";

/** `SOL_SOCKET`. */
const SOL_SOCKET = 1n;
/** `SO_ATTACH_BPF`. */
const SO_ATTACH_BPF = 50n;
/** `SO_DETACH_BPF` (= `SO_DETACH_FILTER`). */
const SO_DETACH_BPF = 27n;
/** `ENOENT`: no filter attached. */
const ENOENT = 2;

function setsockoptInt(fd: number, option: bigint, value: number): bigint {
  const s = sys();
  const buf = alloc(4);
  new DataView(buf.buffer).setInt32(0, value, true);
  const r = s.syscall(s.nr.setsockopt, BigInt(fd), SOL_SOCKET, option, s.addressOf(buf), 4n);
  retain(buf);
  return r;
}

/**
 * A socket filter attached with {@link attachSocketFilter}. `close()` detaches it
 * (`SO_DETACH_BPF`); the socket itself stays open and is not owned.
 *
 * @example
 * ```ts ignore
 * using attachment = attachSocketFilter(sockFd, prog);
 * ```
 */
export class SocketFilterAttachment {
  /** The socket the filter is attached to. */
  readonly socketFd: number;
  #attached = true;

  /** Records an attachment made on `socketFd`. Prefer {@link attachSocketFilter}. */
  constructor(socketFd: number) {
    this.socketFd = socketFd;
  }

  /** Whether {@link SocketFilterAttachment.close} has run. */
  get closed(): boolean {
    return !this.#attached;
  }

  /**
   * Detaches the filter from the socket. Idempotent; a socket that already has no filter is not
   * an error.
   *
   * @throws {AttachError} when `setsockopt` fails otherwise (e.g. `EBADF`: the socket was closed).
   */
  close(): void {
    if (!this.#attached) return;
    this.#attached = false;
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
 * ```ts ignore
 * import { attachSocketFilter } from "@tsbpf/core/link";
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
  const r = setsockoptInt(socketFd, SO_ATTACH_BPF, programFd(program, target));
  if (r < 0n) throw new AttachError(target, "setsockopt(SO_ATTACH_BPF)", Number(-r));
  return new SocketFilterAttachment(socketFd);
}
