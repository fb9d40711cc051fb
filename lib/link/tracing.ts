/**
 * Trampoline attachments: fentry, fexit, fmod_ret, lsm and freplace programs through
 * `BPF_LINK_CREATE` with their BTF targets.
 *
 * @module
 */
import { AttachType } from "../../types/attach_type.ts";
import { LINK_CREATE_TRACING_ATTR, RAW_TRACEPOINT_OPEN_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { ProgType } from "../../types/prog_type.ts";
import { Attr } from "../attr.ts";
import { isBpfPrivileged } from "../caps.ts";
import { kernelBtf } from "../elf/vmlinux.ts";
import { linkCreate, rawTracepointOpen } from "../sys/bpf_cmds.ts";
import { AttachError } from "./errors.ts";
import { Link } from "./link.ts";
import { type AttachableProgram, programFd } from "./os.ts";

/**
 * The kinds of trampoline attachment, with the attach type each program is loaded with.
 *
 * @example
 * ```ts
 * import { TRACING_ATTACH_TYPES } from "@tsbpf/core/link";
 * TRACING_ATTACH_TYPES.fentry; // 24 (BPF_TRACE_FENTRY)
 * ```
 */
export const TRACING_ATTACH_TYPES: Readonly<
  Record<"fentry" | "fexit" | "fmod_ret" | "lsm" | "freplace", number>
> = {
  fentry: AttachType.TRACE_FENTRY,
  fexit: AttachType.TRACE_FEXIT,
  fmod_ret: AttachType.MODIFY_RETURN,
  lsm: AttachType.LSM_MAC,
  freplace: 0,
};

/**
 * The BTF id of a kernel function in `/sys/kernel/btf/vmlinux`: the `attachBtfId` of fentry,
 * fexit and fmod_ret programs (and, for `bpf_lsm_<hook>`, of lsm programs).
 *
 * @throws {AttachError} `ENOENT` when vmlinux BTF has no such function.
 * @example
 * ```ts
 * import { kernelFunctionBtfId } from "@tsbpf/core/link";
 * kernelFunctionBtfId("do_sys_openat2"); // e.g. 12345
 * ```
 */
export function kernelFunctionBtfId(name: string): number {
  const t = kernelBtf().find("func", name);
  if (t === undefined) {
    throw new AttachError(
      `kernelFunctionBtfId(${name})`,
      "btf lookup",
      Errno.ENOENT,
      `no function ${name} in /sys/kernel/btf/vmlinux`,
    );
  }
  return t.id;
}

/**
 * What {@link attachTracing} attaches: the kind (the program's expected attach type), and for
 * freplace, optionally the target program and the BTF id of the function replaced (by default
 * the ones the program was loaded with).
 *
 * @example
 * ```ts
 * import type { TracingOptions } from "@tsbpf/core/link";
 * const o: TracingOptions = { kind: "fentry", cookie: 7n };
 * ```
 */
export interface TracingOptions {
  /** fentry, fexit, fmod_ret, lsm or freplace. */
  kind: keyof typeof TRACING_ATTACH_TYPES;
  /** freplace: the program whose function is replaced (default: the one given at load). */
  target?: AttachableProgram;
  /** With `target`: BTF id of the replaced function in the target's BTF. */
  targetBtfId?: number;
  /** `bpf_get_attach_cookie()` value (fentry/fexit/fmod_ret/lsm, 6.6+). */
  cookie?: bigint;
}

/**
 * Attaches a tracing (`fentry`/`fexit`/`fmod_ret`), `lsm` or `ext` (freplace) program, loaded
 * with its `attachBtfId` (and, for freplace, `attachBtfObjFd` = the target program), through a
 * BPF trampoline: `BPF_RAW_TRACEPOINT_OPEN` for the target the program was loaded with (any
 * kernel with trampolines), `BPF_LINK_CREATE` for another freplace target or with a cookie
 * (5.19+).
 *
 * @throws {AttachError} `EPERM` on kernels that refuse trampolines to a privileged process, with
 *   a message saying so; `ENOTSUPP`/`EOPNOTSUPP` where the architecture has no trampolines.
 * @example
 * ```ts
 * import type { Program } from "@tsbpf/core";
 * import { attachTracing } from "@tsbpf/core/link";
 * declare const prog: Program; // loaded, of the type this attach point takes
 * using link = attachTracing(prog, { kind: "fentry" });
 * ```
 */
export function attachTracing(program: AttachableProgram, options: TracingOptions): Link {
  const attachType = TRACING_ATTACH_TYPES[options.kind];
  if (attachType === undefined) {
    throw new TypeError(`attachTracing: unknown kind ${JSON.stringify(options.kind)}`);
  }
  const target = `attachTracing(${options.kind})`;
  const accepted = options.kind === "freplace"
    ? [ProgType.EXT]
    : options.kind === "lsm"
    ? [ProgType.LSM]
    : [ProgType.TRACING];
  const progFd = programFd(program, target, accepted);
  const explain = (errno: number): string | undefined =>
    errno === Errno.EPERM && isBpfPrivileged()
      ? "this kernel refuses BPF trampolines (fentry/fexit/fmod_ret/lsm/freplace) even to a " +
        "process holding CAP_BPF/CAP_SYS_ADMIN: the build does not allow them"
      : errno === Errno.ENOTSUPP || errno === Errno.EOPNOTSUPP
      ? "the kernel has no BPF trampolines on this architecture"
      : undefined;
  if (options.target === undefined && options.cookie === undefined) {
    // The program's own target, no cookie: BPF_RAW_TRACEPOINT_OPEN without a name makes the
    // same tracing link on every kernel with trampolines (BPF_LINK_CREATE takes fentry, fexit,
    // fmod_ret and lsm programs only from 5.19, with their cookies).
    const attr = new Attr(RAW_TRACEPOINT_OPEN_ATTR).set("prog_fd", progFd);
    const fd = rawTracepointOpen(attr);
    if (fd < 0) throw new AttachError(target, BpfCmd.RAW_TRACEPOINT_OPEN, -fd, explain(-fd));
    return new Link(fd);
  }
  const attr = new Attr(LINK_CREATE_TRACING_ATTR)
    .set("prog_fd", progFd)
    .set("attach_type", attachType);
  if (options.target !== undefined) {
    attr.set("target_fd", programFd(options.target, target));
    attr.set("tracing.target_btf_id", options.targetBtfId ?? 0);
  }
  if (options.cookie !== undefined) attr.set("tracing.cookie", options.cookie);
  const fd = linkCreate(attr);
  if (fd < 0) throw new AttachError(target, BpfCmd.LINK_CREATE, -fd, explain(-fd));
  return new Link(fd);
}
