/**
 * Resolving program types given by number or by kernel name.
 *
 * @module
 */
import { ATTACH_TYPE_COUNT, attachTypeByName } from "../../types/attach_type.ts";
import { PROG_TYPE_COUNT, progTypeByName, progTypeName } from "../../types/prog_type.ts";
import { ArgumentError } from "../errors.ts";

/**
 * A program type: its `enum bpf_prog_type` number, or its kernel name in lower case without the
 * `BPF_PROG_TYPE_` prefix (`"socket_filter"`, `"xdp"`, `"sched_cls"`).
 */
export type ProgTypeInput = number | string;

/**
 * Resolves a program type number or name to its number.
 *
 * @throws {ArgumentError} for an unknown name or a number the kernel does not have.
 * @example
 * ```ts
 * import { resolveProgType } from "@tsbpf/core";
 * resolveProgType("xdp"); // 6
 * ```
 */
export function resolveProgType(type: ProgTypeInput): number {
  if (typeof type === "string") {
    const n = progTypeByName(type.toLowerCase());
    if (n === undefined) {
      throw new ArgumentError(
        "unknown",
        `unknown program type "${type}" (expected a name like "socket_filter" or "xdp")`,
      );
    }
    return n;
  }
  if (!Number.isInteger(type) || type <= 0 || type >= PROG_TYPE_COUNT) {
    throw new ArgumentError(
      "program",
      `program type ${type} does not exist in this kernel ABI (valid: 1..${PROG_TYPE_COUNT - 1})`,
    );
  }
  return type;
}

/**
 * The kernel name of a program type number, or `"type_N"` for one outside the ABI.
 *
 * @example
 * ```ts
 * import { progTypeLabel } from "@tsbpf/core";
 * progTypeLabel(1); // "socket_filter"
 * ```
 */
export function progTypeLabel(type: number): string {
  return progTypeName(type) ?? `type_${type}`;
}

/**
 * An attach type: its `enum bpf_attach_type` number, or its name in lower case without the
 * `BPF_` prefix (`"cgroup_inet_ingress"`, `"trace_iter"`).
 */
export type AttachTypeInput = number | string;

/**
 * Resolves an attach type number or name to its number.
 *
 * @throws {ArgumentError} for an unknown name or a number outside the kernel ABI.
 * @example
 * ```ts
 * import { resolveAttachType } from "@tsbpf/core";
 * resolveAttachType("cgroup_inet_egress"); // 1
 * ```
 */
export function resolveAttachType(type: AttachTypeInput): number {
  if (typeof type === "string") {
    const n = attachTypeByName(type.toLowerCase());
    if (n === undefined) {
      throw new ArgumentError(
        "unknown",
        `unknown attach type "${type}" (expected a name like "cgroup_inet_ingress")`,
      );
    }
    return n;
  }
  if (!Number.isInteger(type) || type < 0 || type >= ATTACH_TYPE_COUNT) {
    throw new ArgumentError(
      "attach",
      `attach type ${type} does not exist in this kernel ABI (valid: 0..${ATTACH_TYPE_COUNT - 1})`,
    );
  }
  return type;
}
