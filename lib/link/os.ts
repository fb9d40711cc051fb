/**
 * Small system-call wrappers the attach functions share (not exported from the package).
 *
 * @module
 */
import { readDirNames, readFileText } from "../host_fs.ts";
import { cString, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { AttachError } from "./errors.ts";
import { requireObject } from "../args.ts";
import { progTypeName } from "../../types/prog_type.ts";
import { progTypes } from "../progtype/registry.ts";
import { Errno } from "../../types/errno.ts";
import { OpenFlag } from "../../types/os.ts";

/** `AT_FDCWD`. */
const AT_FDCWD = -100n;
/** `O_RDONLY | O_CLOEXEC` (the same on x86_64 and aarch64). */
const O_RDONLY_CLOEXEC = BigInt(OpenFlag.RDONLY | OpenFlag.CLOEXEC);
/** `ENODEV`. */
const ENODEV = Errno.ENODEV;
/** `EBADF`. */
const EBADF = Errno.EBADF;

/** Opens `path` read-only with `openat(AT_FDCWD, …)`; throws {@link AttachError} on failure. */
export function openReadOnly(path: string, target: string): number {
  const s = sys();
  const name = cString(path);
  const r = s.syscall(s.nr.openat, AT_FDCWD, s.addressOf(name), O_RDONLY_CLOEXEC, 0n);
  retain(name);
  if (r < 0n) throw new AttachError(target, "openat", Number(-r), path);
  return Number(r);
}

/** Closes an fd this module opened, ignoring errors (used on cleanup paths). */
export function closeQuietly(fd: number): void {
  if (fd >= 0) sys().close(fd);
}

/**
 * What the attach functions need of a program: a `Program` from `@tsbpf/core` fits.
 *
 * @example
 * ```ts
 * import { asm, Program } from "@tsbpf/core";
 * import type { AttachableProgram } from "@tsbpf/core/link";
 * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
 * const p: AttachableProgram = prog; // or prog.fd, or { fd, type }
 * ```
 */
export interface AttachableProgram {
  /** The program's file descriptor (throws once closed). */
  readonly fd: number;
  /** Whether the program's fd is closed. */
  readonly closed: boolean;
  /** The kernel's id of the program. */
  readonly id: number;
  /** The program type number, when known (a `Program` has it): checked before attaching. */
  readonly type?: number;
}

/**
 * The fd of `program`, or an {@link AttachError} (`EBADF`) when it is closed. With `accepted`
 * program types, a program of another (known) type is refused before any system call with a
 * `TypeError` that names both, where the kernel would only say `EINVAL`.
 */
export function programFd(
  program: AttachableProgram,
  target: string,
  accepted?: readonly number[],
): number {
  requireObject(target, "program", program);
  if (program.closed) {
    throw new AttachError(target, "attach", EBADF, "the program is closed");
  }
  const type = program.type;
  if (accepted !== undefined && accepted.length > 0 && type !== undefined) {
    if (!accepted.includes(type)) {
      const names = accepted.map((t) => progTypeName(t) ?? `type ${t}`).join(" or ");
      throw new TypeError(
        `${target}: needs a program of type ${names}, got ${progTypeName(type) ?? `type ${type}`}`,
      );
    }
  }
  return program.fd;
}

/**
 * Program types whose registry entry lists `attachType` among the attach types they accept
 * (e.g. `cgroup_skb` for `CGROUP_INET_EGRESS`); empty when none does.
 */
export function progTypesForAttach(attachType: number): number[] {
  return progTypes().filter((d) => d.expectedAttachTypes.some((a) => a.type === attachType))
    .map((d) => d.type);
}

/**
 * Resolves an interface given by index or name (through `/sys/class/net/<name>/ifindex`).
 *
 * @throws {AttachError} `ENODEV` when no interface has that name.
 * @throws {RangeError} for an index that is not a positive integer.
 */
export function resolveIfindex(iface: number | string, fn: string): number {
  if (typeof iface === "number") {
    if (!Number.isInteger(iface) || iface <= 0 || iface > 0x7fffffff) {
      throw new RangeError(`${fn}: ifindex ${iface} is not a positive integer`);
    }
    return iface;
  }
  if (!/^[^/\s]{1,15}$/.test(iface)) {
    throw new RangeError(`${fn}: "${iface}" is not a valid interface name`);
  }
  try {
    return Number(readFileText(`/sys/class/net/${iface}/ifindex`).trim());
  } catch {
    throw new AttachError(
      `${fn}(${iface})`,
      "if_nametoindex",
      ENODEV,
      `no interface named ${iface} in /sys/class/net`,
    );
  }
}

/**
 * For a failed link on an interface: says so when no interface of this network namespace has
 * `ifindex` (the kernel answers `EINVAL` or `ENODEV` then).
 */
export function explainIfindex(ifindex: number): (errno: number) => string | undefined {
  return (errno) => {
    if (errno !== 22 /* EINVAL */ && errno !== ENODEV) return undefined;
    try {
      for (const name of readDirNames("/sys/class/net")) {
        const i = Number(readFileText(`/sys/class/net/${name}/ifindex`).trim());
        if (i === ifindex) return undefined;
      }
    } catch {
      return undefined;
    }
    return `no interface has ifindex ${ifindex} in this network namespace`;
  };
}
