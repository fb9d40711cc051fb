/**
 * The shapes of the program-type registry: helper prototypes as the kernel's `bpf_func_proto`
 * describes them, the context a load is checked in, and a program type's definition.
 *
 * @module
 */
import type { KernelConfig } from "./kconfig.ts";
import type { CtxAccess } from "./ctx_access.ts";

/**
 * A helper's return type, named as the kernel's `enum bpf_return_type` (extended names included).
 *
 * @example
 * ```ts
 * import type { RetType } from "@tsbpf/core/progtype";
 * const r: RetType = "RET_PTR_TO_MAP_VALUE_OR_NULL";
 * ```
 */
export type RetType =
  | "RET_INTEGER"
  | "RET_VOID"
  | "RET_PTR_TO_MAP_VALUE"
  | "RET_PTR_TO_SOCKET"
  | "RET_PTR_TO_TCP_SOCK"
  | "RET_PTR_TO_SOCK_COMMON"
  | "RET_PTR_TO_MEM"
  | "RET_PTR_TO_MEM_OR_BTF_ID"
  | "RET_PTR_TO_BTF_ID"
  | "RET_PTR_TO_MAP_VALUE_OR_NULL"
  | "RET_PTR_TO_SOCKET_OR_NULL"
  | "RET_PTR_TO_TCP_SOCK_OR_NULL"
  | "RET_PTR_TO_SOCK_COMMON_OR_NULL"
  | "RET_PTR_TO_RINGBUF_MEM_OR_NULL"
  | "RET_PTR_TO_DYNPTR_MEM_OR_NULL"
  | "RET_PTR_TO_BTF_ID_OR_NULL"
  | "RET_PTR_TO_BTF_ID_TRUSTED";

/**
 * A helper argument's type, named as the kernel's `enum bpf_arg_type` (extended names included).
 *
 * @example
 * ```ts
 * import type { ArgType } from "@tsbpf/core/progtype";
 * const a: ArgType = "ARG_PTR_TO_MAP_KEY";
 * ```
 */
export type ArgType =
  | "ARG_DONTCARE"
  | "ARG_CONST_MAP_PTR"
  | "ARG_PTR_TO_MAP_KEY"
  | "ARG_PTR_TO_MAP_VALUE"
  | "ARG_PTR_TO_MEM"
  | "ARG_PTR_TO_ARENA"
  | "ARG_CONST_SIZE"
  | "ARG_CONST_SIZE_OR_ZERO"
  | "ARG_PTR_TO_CTX"
  | "ARG_ANYTHING"
  | "ARG_SCALAR"
  | "ARG_PTR_TO_SPIN_LOCK"
  | "ARG_PTR_TO_SOCK_COMMON"
  | "ARG_PTR_TO_SOCKET"
  | "ARG_PTR_TO_BTF_ID"
  | "ARG_PTR_TO_RINGBUF_MEM"
  | "ARG_CONST_ALLOC_SIZE_OR_ZERO"
  | "ARG_PTR_TO_BTF_ID_SOCK_COMMON"
  | "ARG_PTR_TO_PERCPU_BTF_ID"
  | "ARG_PTR_TO_FUNC"
  | "ARG_PTR_TO_STACK"
  | "ARG_PTR_TO_CONST_STR"
  | "ARG_PTR_TO_TIMER"
  | "ARG_KPTR_XCHG_DEST"
  | "ARG_PTR_TO_DYNPTR"
  | "ARG_PTR_TO_MAP_VALUE_OR_NULL"
  | "ARG_PTR_TO_MEM_OR_NULL"
  | "ARG_PTR_TO_CTX_OR_NULL"
  | "ARG_PTR_TO_SOCKET_OR_NULL"
  | "ARG_PTR_TO_STACK_OR_NULL"
  | "ARG_PTR_TO_BTF_ID_OR_NULL"
  | "ARG_PTR_TO_UNINIT_MEM"
  | "ARG_PTR_TO_FIXED_SIZE_MEM";

/**
 * A modifier bit of the kernel's `enum bpf_type_flag`, or-ed into an argument or return type
 * (`ARG_PTR_TO_MEM | MEM_RDONLY`).
 *
 * @example
 * ```ts
 * import type { TypeFlag } from "@tsbpf/core/progtype";
 * const f: TypeFlag = "MEM_RDONLY";
 * ```
 */
export type TypeFlag =
  | "PTR_MAYBE_NULL"
  | "MEM_RDONLY"
  | "MEM_RINGBUF"
  | "MEM_USER"
  | "MEM_PERCPU"
  | "OBJ_RELEASE"
  | "PTR_UNTRUSTED"
  | "MEM_UNINIT"
  | "DYNPTR_TYPE_LOCAL"
  | "DYNPTR_TYPE_RINGBUF"
  | "MEM_FIXED_SIZE"
  | "MEM_ALLOC"
  | "PTR_TRUSTED"
  | "MEM_RCU"
  | "MEM_WRITE"
  | "MEM_ALIGNED";

/**
 * One helper prototype as a program type offers it: the kernel's `struct bpf_func_proto` that the
 * type's `get_func_proto()` returns for a helper id.
 *
 * @example
 * ```ts
 * import { getProgType } from "@tsbpf/core/progtype";
 * const p = getProgType("xdp")!.ops.getFuncProto(1, { license: "GPL", gplCompatible: true, privileged: true });
 * p?.ret; // "RET_PTR_TO_MAP_VALUE_OR_NULL"
 * ```
 */
export interface FuncProto {
  /** Helper id (`enum bpf_func_id`), the `imm` of the call instruction. */
  id: number;
  /** Helper name as the kernel prints it, e.g. `"bpf_map_lookup_elem"`. */
  name: string;
  /** The kernel symbol of the prototype, e.g. `"bpf_get_stackid_proto_tp"`. */
  proto: string;
  /** Only GPL-compatible programs may call it (`gpl_only`). */
  gplOnly: boolean;
  /** Return type (`ret_type`), without its modifier bits. */
  ret: RetType;
  /** Modifier bits or-ed into the return type. */
  retFlags: readonly TypeFlag[];
  /** Argument types (`arg1_type`…), without modifier bits; unused trailing arguments omitted. */
  args: readonly ArgType[];
  /** Modifier bits of each argument, parallel to `args`. */
  argFlags: readonly (readonly TypeFlag[])[];
  /** The helper may sleep (`might_sleep`): only sleepable programs may call it. */
  mightSleep: boolean;
  /** The helper reads packet data directly (`pkt_access`). */
  pktAccess: boolean;
}

/**
 * What a program type's `getFuncProto` may look at: the load's attach type, license and the
 * loader's privileges (and, optionally, more of what the kernel sees at load time).
 *
 * @example
 * ```ts
 * import type { LoadContext } from "@tsbpf/core/progtype";
 * const ctx: LoadContext = { license: "GPL", gplCompatible: true, privileged: true };
 * ```
 */
export interface LoadContext {
  /** `expected_attach_type` of the load (an `AttachType` number). */
  expectedAttachType?: number;
  /** The license string. */
  license: string;
  /** Whether the license is GPL-compatible (`license_is_gpl_compatible()`). */
  gplCompatible: boolean;
  /**
   * The loader holds `CAP_BPF` and `CAP_PERFMON` (and, for `bpf_probe_write_user`,
   * `CAP_SYS_ADMIN`), as root does.
   */
  privileged: boolean;
  /**
   * Finer-grained capabilities, overriding `privileged` for each one given: `bpf` (`CAP_BPF`),
   * `perfmon` (`CAP_PERFMON`), `sysAdmin` (`CAP_SYS_ADMIN`, which also implies the other two).
   */
  capabilities?: { bpf?: boolean; perfmon?: boolean; sysAdmin?: boolean };
  /** The program is sleepable (`BPF_F_SLEEPABLE`). */
  sleepable?: boolean;
  /**
   * The attach target named by `attach_btf_id`, where a type's helpers depend on it: an iterator
   * target (`"tcp"`), an LSM hook (`"socket_post_create"`) or a struct_ops member
   * (`"tcp_congestion_ops.release"`); for `ext`, the replaced program's type (`"xdp"`). When
   * absent, a target offering the most helpers is assumed, so that nothing is refused wrongly.
   */
  attachTo?: string;
  /** The kernel configuration to assume; defaults to {@link DEFAULT_KERNEL_CONFIG}. */
  config?: KernelConfig;
}

/**
 * The verifier operations of a program type (the userspace half of `struct bpf_verifier_ops`).
 *
 * @example
 * ```ts
 * import type { ProgTypeOps } from "@tsbpf/core/progtype";
 * const none: ProgTypeOps = { getFuncProto: () => undefined };
 * ```
 */
export interface ProgTypeOps {
  /** The helper prototype this type offers for `helperId` in `ctx`, or `undefined` if none. */
  getFuncProto(helperId: number, ctx: LoadContext): FuncProto | undefined;
  /**
   * The kernel's `is_valid_access()` for this type's context (see `ctxAccess`): whether a load or
   * store of `size` bytes at `offset` is allowed and what a load gives. Absent: not modelled.
   */
  isValidAccess?(offset: number, size: number, kind: "read" | "write"): CtxAccess;
}

/**
 * One libbpf `SEC()` convention for a program type: a section name (or prefix) and what it implies
 * at load time.
 *
 * @example
 * ```ts
 * import type { SectionPrefix } from "@tsbpf/core/progtype";
 * const s: SectionPrefix = { prefix: "xdp.frags", expectedAttachType: 37, attachTypeAtLoad: "required", xdpFrags: true };
 * ```
 */
export interface SectionPrefix {
  /** The section name, e.g. `"socket"`, `"tp_btf"` or `"cgroup/connect4"`. */
  prefix: string;
  /** The section may be followed by `/` and a target (`"tracepoint/syscalls/sys_enter_openat"`). */
  takesTarget?: boolean;
  /** The `expected_attach_type` this section implies (an `AttachType` number). */
  expectedAttachType?: number;
  /**
   * Whether libbpf passes the attach type at load: `"required"` (the kernel needs it),
   * `"optional"` (passed, older kernels accept its absence) or `"none"` (used only to attach).
   */
  attachTypeAtLoad: "required" | "optional" | "none";
  /** Programs of this section are sleepable (`BPF_F_SLEEPABLE`). */
  sleepable?: boolean;
  /** The load needs `attach_btf_id`, found from the target name. */
  attachBtf?: boolean;
  /** XDP programs that handle multi-buffer frames (`BPF_F_XDP_HAS_FRAGS`). */
  xdpFrags?: boolean;
}

/**
 * An `expected_attach_type` a program type accepts at load.
 *
 * @example
 * ```ts
 * import type { ExpectedAttach } from "@tsbpf/core/progtype";
 * const a: ExpectedAttach = { type: 36, requiredAtLoad: true };
 * ```
 */
export interface ExpectedAttach {
  /** The `AttachType` number. */
  type: number;
  /** The kernel refuses the load (or loads something else) unless it is given. */
  requiredAtLoad: boolean;
}

/**
 * A program type: its number and name, its libbpf section conventions, the attach types it
 * accepts, and its verifier ops.
 *
 * @example
 * ```ts
 * import { registerProgType, type ProgTypeDef } from "@tsbpf/core/progtype";
 * const def: ProgTypeDef = {
 *   type: 1000, name: "my_type", sectionPrefixes: [], expectedAttachTypes: [],
 *   ops: { getFuncProto: () => undefined },
 * };
 * registerProgType(def);
 * ```
 */
export interface ProgTypeDef {
  /** `enum bpf_prog_type` number. */
  type: number;
  /** Kernel name in lower case, e.g. `"socket_filter"`. */
  name: string;
  /** libbpf `SEC()` names for this type. */
  sectionPrefixes: readonly SectionPrefix[];
  /** Attach types accepted at load. */
  expectedAttachTypes: readonly ExpectedAttach[];
  /**
   * The kernel refuses (`EINVAL`) an `expected_attach_type` not in `expectedAttachTypes`
   * (`bpf_prog_load_check_attach()`).
   */
  attachTypeEnforced?: boolean;
  /** The attach type the kernel substitutes when none is given (`bpf_prog_load_fixup_attach_type()`). */
  defaultAttachType?: number;
  /** The kernel has the type only with these config options (e.g. `["BPF_LIRC_MODE2"]`). */
  requiresConfig?: readonly (keyof KernelConfig)[];
  /** Verifier ops. */
  ops: ProgTypeOps;
}
