/**
 * `BpfToken`: delegated BPF rights inside a user namespace (`BPF_TOKEN_CREATE`, Linux 6.9+).
 *
 * @module
 */
import { TOKEN_CREATE_ATTR } from "../types/attr.ts";
import { BpfCmd } from "../types/cmd.ts";
import { Errno } from "../types/errno.ts";
import { OpenFlag } from "../types/os.ts";
import { Attr } from "./attr.ts";
import { BpfError } from "./errors.ts";
import { FdHandle } from "./fd.ts";
import { tokenCreate } from "./sys/bpf_cmds.ts";
import { cString, retain } from "./sys/memory.ts";
import { sys } from "./sys/mod.ts";

/** `O_RDONLY | O_CLOEXEC` (the same on x86_64 and aarch64). */
const OPEN_DIR = BigInt(OpenFlag.RDONLY | OpenFlag.CLOEXEC);
const AT_FDCWD = -100n;

function explainToken(errno: number): string | undefined {
  switch (errno) {
    case Errno.EOPNOTSUPP:
      return "tokens are made inside a user namespace; in the initial one a token would grant " +
        "nothing (this process is there)";
    case Errno.EPERM:
      return "the BPF filesystem must belong to this process's user namespace (created there " +
        "with fsopen) and the process hold CAP_BPF in it";
    case Errno.EINVAL:
      return "not the root of a BPF filesystem, or this kernel has no BPF tokens (Linux 6.9+)";
    case Errno.ENOENT:
      return "the BPF filesystem delegates nothing: it must be set up with delegate_cmds, " +
        "delegate_maps, delegate_progs or delegate_attachs";
    default:
      return undefined;
  }
}

/**
 * Opens `target` (a path, or a directory fd resolved with `openat(fd, ".")`, which also turns an
 * `O_PATH` fd such as `fsmount(2)`'s into one the kernel accepts) as a directory.
 */
function openDir(target: string | number): number {
  const s = sys();
  const name = cString(typeof target === "string" ? target : ".");
  const r = s.syscall(
    s.nr.openat,
    typeof target === "string" ? AT_FDCWD : BigInt(target),
    s.addressOf(name),
    OPEN_DIR,
    0n,
  );
  retain(name);
  if (r < 0n) {
    throw new BpfError("openat", Number(-r), typeof target === "string" ? target : `fd ${target}`);
  }
  return Number(r);
}

/**
 * A BPF token: the rights a BPF filesystem mounted with delegation options (`delegate_cmds`,
 * `delegate_maps`, `delegate_progs`, `delegate_attachs`) grants to a process of the user
 * namespace that owns that filesystem. Pass it as `token` to `BpfMap.create` and `Program.load`:
 * the kernel then checks capabilities in that user namespace instead of the initial one, and
 * allows what the mount delegates. The mount is made in two steps, as the kernel wants: the
 * namespace's process opens the filesystem (`fsopen("bpf")`), a privileged process sets the
 * delegation options on that fs context and creates it (`fsconfig`), and the namespace's process
 * mounts it (`fsmount`) and makes the token here.
 *
 * @example
 * ```ts ignore
 * import { BpfMap, BpfToken, u32, u64 } from "@tsbpf/core";
 * // inside the user namespace, with a delegating bpffs at /run/bpf (or its fsmount fd)
 * using token = BpfToken.create("/run/bpf");
 * using map = BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 1, token });
 * ```
 */
export class BpfToken {
  readonly #handle: FdHandle;

  /** Takes ownership of a token fd. Prefer {@link BpfToken.create}. */
  constructor(fd: number) {
    this.#handle = new FdHandle(fd, "token");
  }

  /**
   * Creates a token from the root of a BPF filesystem: a path, or a file descriptor of it (an
   * `fsmount(2)` fd works).
   *
   * @throws {BpfError} from `openat` (e.g. `ENOENT`) or `BPF_TOKEN_CREATE`, with the reason:
   *   `EOPNOTSUPP` in the initial user namespace, `EPERM` for a filesystem of another user
   *   namespace, `ENOENT` for one that delegates nothing, `EINVAL` for no BPF filesystem root.
   * @example
   * ```ts
   * import { BpfToken } from "@tsbpf/core";
   * try {
   *   using token = BpfToken.create("/sys/fs/bpf");
   * } catch (e) {
   *   console.log((e as Error).message); // EOPNOTSUPP here: the host's namespace needs no token
   * }
   * ```
   */
  static create(bpffs: string | number): BpfToken {
    if (typeof bpffs === "number" && (!Number.isInteger(bpffs) || bpffs < 0)) {
      throw new RangeError(`BpfToken.create: ${bpffs} is not a file descriptor`);
    }
    const dir = openDir(bpffs);
    try {
      const attr = new Attr(TOKEN_CREATE_ATTR).set("bpffs_fd", dir);
      const fd = tokenCreate(attr);
      if (fd < 0) {
        const where = typeof bpffs === "string" ? bpffs : `fd ${bpffs}`;
        const why = explainToken(-fd);
        throw new BpfError(BpfCmd.TOKEN_CREATE, -fd, why ? `${where}: ${why}` : where);
      }
      return new this(fd);
    } finally {
      sys().close(dir);
    }
  }

  /** The file descriptor. @throws {Error} once closed. */
  get fd(): number {
    return this.#handle.fd;
  }

  /** Whether {@link BpfToken.close} has run. */
  get closed(): boolean {
    return this.#handle.closed;
  }

  /** Closes the token; maps and programs made with it keep working. */
  close(): void {
    this.#handle.close();
  }

  /** Closes the token at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}
