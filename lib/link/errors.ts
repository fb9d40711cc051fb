/**
 * The error attach functions throw: a {@link BpfError} whose message starts with what was being
 * attached where.
 *
 * @module
 */
import { BpfError } from "../errors.ts";

/**
 * A failed attach: the system call or `bpf` command that failed, its errno, and the attach point,
 * e.g. `attachXdp(ifindex 7): BPF_LINK_CREATE failed: EBUSY (16, Device or resource busy)`.
 *
 * @example
 * ```ts
 * import { AttachError } from "@tsbpf/core/link";
 * const e = new AttachError("attachXdp(ifindex 7)", "BPF_LINK_CREATE", 16);
 * e.errnoName; // "EBUSY"
 * e.target; // "attachXdp(ifindex 7)"
 * ```
 */
export class AttachError extends BpfError {
  /** What was being attached where, e.g. `"attachXdp(ifindex 7)"`. */
  readonly target: string;

  /** Creates the error; `command` is a `bpf_cmd` number or a system call name. */
  constructor(target: string, command: number | string, errno: number, detail?: string) {
    super(command, errno, detail);
    this.name = "AttachError";
    this.target = target;
    this.message = `${target}: ${this.message}`;
  }
}
