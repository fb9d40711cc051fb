/**
 * A small vocabulary for writing the kernel's `*_func_proto()` functions as data: a switch over
 * helper names whose cases name a prototype symbol (or decide by context), with a fallback for
 * helpers it does not list — exactly the shape of the kernel's `switch (func_id) { … default:
 * return next_func_proto(func_id, prog); }`.
 *
 * @module
 */
import type { KernelConfig } from "./kconfig.ts";

/**
 * The load as the prototype functions see it: the kernel's `struct bpf_prog` fields they read.
 *
 * @example
 * ```ts
 * import type { ProtoCtx } from "@tsbpf/core/progtype";
 * const onlyCgroups = (c: ProtoCtx): boolean => c.config.CGROUPS;
 * ```
 */
export interface ProtoCtx {
  /** `prog->type`. */
  readonly progType: number;
  /** `prog->expected_attach_type` (after the kernel's defaulting). */
  readonly eat: number;
  /** `bpf_token_capable(CAP_BPF)`. */
  readonly capBpf: boolean;
  /** `bpf_token_capable(CAP_PERFMON)`. */
  readonly capPerfmon: boolean;
  /** `bpf_token_capable(CAP_SYS_ADMIN)`. */
  readonly capSysAdmin: boolean;
  /** `prog->sleepable`. */
  readonly sleepable: boolean;
  /** Name of the `attach_btf_id` target, when known. */
  readonly attachTo: string | undefined;
  /** Kernel configuration. */
  readonly config: Readonly<KernelConfig>;
}

/**
 * A `*_func_proto()` function: helper name (without `bpf_`) to prototype symbol, or `undefined`.
 *
 * @example
 * ```ts
 * import type { ProtoFn } from "@tsbpf/core/progtype";
 * const onlyKtime: ProtoFn = (h) => h === "ktime_get_ns" ? "bpf_ktime_get_ns_proto" : undefined;
 * ```
 */
export type ProtoFn = (helper: string, c: ProtoCtx) => string | undefined;

/**
 * One `case`: a prototype symbol, or a decision on the context (`undefined` is `return NULL`).
 *
 * @example
 * ```ts
 * import type { Case } from "@tsbpf/core/progtype";
 * const c: Case = (ctx) => ctx.sleepable ? "bpf_get_stack_sleepable_proto" : "bpf_get_stack_proto";
 * ```
 */
export type Case = string | ((c: ProtoCtx) => string | undefined) | IfDef;

/**
 * A case that exists only when a config option is on (`#ifdef CONFIG_…`).
 *
 * @example
 * ```ts
 * import type { IfDef } from "@tsbpf/core/progtype";
 * const x: IfDef = { ifdef: "XFRM", then: "bpf_skb_get_xfrm_state_proto" };
 * ```
 */
export interface IfDef {
  /** The option. */
  readonly ifdef: keyof KernelConfig;
  /** The case when it is on. */
  readonly then: string | ((c: ProtoCtx) => string | undefined);
}

/**
 * `#ifdef CONFIG_<key>` around some cases.
 *
 * @example
 * ```ts
 * import { cases, ifdef } from "@tsbpf/core/progtype";
 * const fn = cases({ ...ifdef("XFRM", { skb_get_xfrm_state: "bpf_skb_get_xfrm_state_proto" }) });
 * ```
 */
export function ifdef(
  key: keyof KernelConfig,
  cases: Readonly<Record<string, string | ((c: ProtoCtx) => string | undefined)>>,
): Record<string, IfDef> {
  const out: Record<string, IfDef> = {};
  for (const [k, v] of Object.entries(cases)) out[k] = { ifdef: key, then: v };
  return out;
}

/**
 * A `switch (func_id)`: listed helpers get their case's answer (even `NULL`); the others go to
 * `fallback` (the `default:` branch), or get `NULL` when there is none.
 *
 * @example
 * ```ts
 * import { cases, KERNEL_FUNC_PROTOS } from "@tsbpf/core/progtype";
 * const fn = cases({ redirect: () => undefined }, KERNEL_FUNC_PROTOS.xdpFuncProto); // XDP without bpf_redirect
 * ```
 */
export function cases(table: Readonly<Record<string, Case>>, fallback?: ProtoFn): ProtoFn {
  const map = new Map<string, Case>(Object.entries(table));
  return (helper, c) => {
    const k = map.get(helper);
    if (k !== undefined) {
      if (typeof k === "string") return k;
      if (typeof k === "function") return k(c);
      if (c.config[k.ifdef]) return typeof k.then === "string" ? k.then : k.then(c);
    }
    return fallback ? fallback(helper, c) : undefined;
  };
}

/**
 * `fp = a(); if (fp) return fp; fp = b(); …`: the first function with an answer.
 *
 * @example
 * ```ts
 * import { cases, first, KERNEL_FUNC_PROTOS } from "@tsbpf/core/progtype";
 * const fn = first(cases({ jiffies64: "bpf_jiffies64_proto" }), KERNEL_FUNC_PROTOS.skFilterFuncProto);
 * ```
 */
export function first(...fns: readonly ProtoFn[]): ProtoFn {
  return (helper, c) => {
    for (const fn of fns) {
      const r = fn(helper, c);
      if (r !== undefined) return r;
    }
    return undefined;
  };
}

/**
 * `if (!cond) return NULL;` before the rest of a function.
 *
 * @example
 * ```ts
 * import { guard, KERNEL_FUNC_PROTOS } from "@tsbpf/core/progtype";
 * const fn = guard((c) => c.capPerfmon, KERNEL_FUNC_PROTOS.skFilterFuncProto);
 * ```
 */
export function guard(cond: (c: ProtoCtx) => boolean, rest: ProtoFn): ProtoFn {
  return (helper, c) => (cond(c) ? rest(helper, c) : undefined);
}

/**
 * A case that returns `sym` only for the listed attach types (`switch (prog->expected_attach_type)`).
 *
 * @example
 * ```ts
 * import { cases, forAttach } from "@tsbpf/core/progtype";
 * const fn = cases({ bind: forAttach([10, 11], "bpf_bind_proto") }); // connect4, connect6
 * ```
 */
export function forAttach(
  types: readonly number[],
  sym: string,
): (c: ProtoCtx) => string | undefined {
  const set = new Set(types);
  return (c) => (set.has(c.eat) ? sym : undefined);
}

/**
 * A case that returns `sym` except for the listed attach types.
 *
 * @example
 * ```ts
 * import { cases, exceptAttach } from "@tsbpf/core/progtype";
 * const fn = cases({ get_retval: exceptAttach([0, 1], "bpf_get_retval_proto") });
 * ```
 */
export function exceptAttach(
  types: readonly number[],
  sym: string,
): (c: ProtoCtx) => string | undefined {
  const set = new Set(types);
  return (c) => (set.has(c.eat) ? undefined : sym);
}
