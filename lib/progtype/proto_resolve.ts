/**
 * From a `*_func_proto()` answer (a kernel prototype symbol) to a {@link FuncProto}, and from a
 * {@link LoadContext} to what those functions read.
 *
 * @module
 */
import { HELPER_NAMES } from "../../types/helpers.ts";
import { ProgType as T } from "../../types/prog_type.ts";
import { AttachType as A } from "../../types/attach_type.ts";
import type { ProtoCtx, ProtoFn } from "./dsl.ts";
import { DEFAULT_KERNEL_CONFIG } from "./kconfig.ts";
import { PROTOS } from "./helper_protos.ts";
import { type CtxAccess, ctxAccess } from "./ctx_access.ts";
import type { ArgType, FuncProto, LoadContext, ProgTypeOps, RetType, TypeFlag } from "./types.ts";

const NO_FLAGS: readonly TypeFlag[] = Object.freeze([]);

function splitType(text: string): [string, readonly TypeFlag[]] {
  const parts = text.split(" | ");
  if (parts.length === 1) return [parts[0], NO_FLAGS];
  return [parts[0], Object.freeze(parts.slice(1) as TypeFlag[])];
}

const cache = new Map<string, FuncProto>();

/**
 * The {@link FuncProto} of kernel prototype `symbol` for helper `id`.
 *
 * @throws {Error} when the symbol is not in the prototype table (a mistake in a definition).
 * @example
 * ```ts
 * import { funcProtoOf } from "@tsbpf/core/progtype";
 * funcProtoOf(1, "bpf_map_lookup_elem_proto").args; // ["ARG_CONST_MAP_PTR", "ARG_PTR_TO_MAP_KEY"]
 * ```
 */
export function funcProtoOf(id: number, symbol: string): FuncProto {
  const key = `${id}:${symbol}`;
  let p = cache.get(key);
  if (p !== undefined) return p;
  const spec = PROTOS[symbol];
  if (spec === undefined) throw new Error(`no helper prototype named ${symbol}`);
  const [ret, retFlags] = splitType(spec.ret);
  const args: string[] = [];
  const argFlags: (readonly TypeFlag[])[] = [];
  for (const a of spec.args) {
    const [t, f] = splitType(a);
    args.push(t);
    argFlags.push(f);
  }
  p = Object.freeze({
    id,
    name: `bpf_${HELPER_NAMES[id] ?? "unknown"}`,
    proto: symbol,
    gplOnly: spec.gpl,
    ret: ret as RetType,
    retFlags,
    args: Object.freeze(args) as readonly ArgType[],
    argFlags: Object.freeze(argFlags),
    mightSleep: spec.sleep === true,
    pktAccess: spec.pkt === true,
  });
  cache.set(key, p);
  return p;
}

/** `bpf_prog_load_fixup_attach_type()`: the attach type the kernel substitutes for 0. */
function fixupAttachType(progType: number, eat: number | undefined): number {
  const e = eat ?? 0;
  if (e !== 0) return e;
  if (progType === T.CGROUP_SOCK) return A.CGROUP_INET_SOCK_CREATE;
  if (progType === T.SK_REUSEPORT) return A.SK_REUSEPORT_SELECT;
  return 0;
}

const ctxCache = new WeakMap<LoadContext, Map<number, ProtoCtx>>();

/** The fields of `struct bpf_prog` the prototype functions read, from a {@link LoadContext}. */
function protoCtx(progType: number, ctx: LoadContext): ProtoCtx {
  let byType = ctxCache.get(ctx);
  if (byType === undefined) ctxCache.set(ctx, byType = new Map());
  let c = byType.get(progType);
  if (c === undefined) {
    const priv = ctx.privileged === true;
    const caps = ctx.capabilities ?? {};
    const sysAdmin = caps.sysAdmin ?? priv;
    c = Object.freeze({
      progType,
      eat: fixupAttachType(progType, ctx.expectedAttachType),
      capBpf: sysAdmin || (caps.bpf ?? priv),
      capPerfmon: sysAdmin || (caps.perfmon ?? priv),
      capSysAdmin: sysAdmin,
      sleepable: ctx.sleepable === true,
      attachTo: ctx.attachTo,
      config: ctx.config ?? DEFAULT_KERNEL_CONFIG,
    });
    byType.set(progType, c);
  }
  return c;
}

/**
 * Verifier ops from a kernel-style prototype function: helper id → name → prototype symbol →
 * {@link FuncProto}.
 *
 * @example
 * ```ts
 * import { opsFromProtoFn, cases } from "@tsbpf/core/progtype";
 * const ops = opsFromProtoFn(1, cases({ map_lookup_elem: "bpf_map_lookup_elem_proto" }));
 * ```
 */
export function opsFromProtoFn(progType: number, fn: ProtoFn): ProgTypeOps {
  return {
    getFuncProto(helperId: number, ctx: LoadContext): FuncProto | undefined {
      const name = HELPER_NAMES[helperId];
      if (name === undefined) return undefined;
      const sym = fn(name, protoCtx(progType, ctx));
      return sym === undefined ? undefined : funcProtoOf(helperId, sym);
    },
    isValidAccess(offset: number, size: number, kind: "read" | "write"): CtxAccess {
      return ctxAccess(progType, offset, size, kind);
    },
  };
}
