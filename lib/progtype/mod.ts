/**
 * The program-type registry: each eBPF program type with its libbpf section names, the attach
 * types it accepts and its verifier ops (`getFuncProto`: which helpers it may call, with which
 * prototype). Built-in definitions cover every program type of Linux 6.18, modelled on the kernel's
 * `*_func_proto()` functions; plugins may register new types or wrap existing ones.
 *
 * @example
 * ```ts
 * import { getProgType } from "@tsbpf/core/progtype";
 * const xdp = getProgType("xdp")!;
 * xdp.ops.getFuncProto(23, { license: "GPL", gplCompatible: true, privileged: true })?.proto;
 * // "bpf_xdp_redirect_proto"
 * ```
 * @module
 */
export type {
  ArgType,
  ExpectedAttach,
  FuncProto,
  LoadContext,
  ProgTypeDef,
  ProgTypeOps,
  RetType,
  SectionPrefix,
  TypeFlag,
} from "./types.ts";
export {
  getProgType,
  progTypes,
  type RegisterOptions,
  registerProgType,
  resetProgTypes,
  unregisterProgType,
} from "./registry.ts";
export { BUILTIN_PROG_TYPES } from "./builtin.ts";
export { DEFAULT_KERNEL_CONFIG, type KernelConfig, parseKernelConfig } from "./kconfig.ts";
export { funcProtoOf, opsFromProtoFn } from "./proto_resolve.ts";
export { type CtxAccess, ctxAccess } from "./ctx_access.ts";
export { KERNEL_FUNC_PROTOS } from "./get_func_proto.ts";
export {
  type Case,
  cases,
  exceptAttach,
  first,
  forAttach,
  guard,
  type IfDef,
  ifdef,
  type ProtoCtx,
  type ProtoFn,
} from "./dsl.ts";
export { PROTOS, type ProtoSpec } from "./helper_protos.ts";
