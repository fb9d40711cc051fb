/**
 * The checker's helper-call verdicts, after the helper part of the kernel's `check_helper_call()`:
 * whether the program type offers the helper (from a kernel profile when one is given, else from
 * the program-type tables), GPL-only helpers from non-GPL programs, and helpers that might sleep
 * in a non-sleepable program. Internal to `lib/check/`.
 *
 * @module
 */
import { HELPER_NAMES } from "../../types/helpers.ts";
import type { FuncProto, LoadContext, ProgTypeDef } from "../progtype/types.ts";
import { type CapTier, type KernelProfile, type ProgVariant, tierOf } from "../profile/types.ts";
import type { CheckOptions } from "./types.ts";

/** `__BPF_FUNC_MAX_ID`: helper ids are below this. */
const FUNC_MAX_ID = HELPER_NAMES.length;

/** Helper verdicts: 0 unknown, 1 ok, 2 unavailable, 3 gpl, 4 sleep. */
const enum HelperState {
  Unknown = 0,
  Ok = 1,
  Unavailable = 2,
  Gpl = 3,
  Sleep = 4,
}

/** What the checker asks a profile: the load's variant and the loader's capability tier. */
export interface ProfileQuery {
  profile: KernelProfile;
  variant: ProgVariant;
  tier: CapTier;
}

export function profileQuery(
  def: ProgTypeDef,
  options: CheckOptions,
  privileged: boolean,
  sleepable: boolean,
): ProfileQuery | undefined {
  const caps = options.capabilities;
  const sysAdmin = caps?.sysAdmin ?? privileged;
  const tier = tierOf({
    sysAdmin,
    bpf: sysAdmin || (caps?.bpf ?? privileged),
    perfmon: sysAdmin || (caps?.perfmon ?? privileged),
  });
  if (tier === undefined || options.profile === undefined) return undefined;
  const eat = options.expectedAttachType ?? 0;
  return {
    profile: options.profile,
    tier,
    variant: {
      type: def.type,
      ...(eat !== 0 ? { expectedAttachType: eat } : {}),
      ...(options.attachTo !== undefined ? { attachTo: options.attachTo } : {}),
      ...(sleepable ? { sleepable } : {}),
    },
  };
}

/** Every capability: the prototype (its shape) of a helper the profile says is offered. */
const ALL_CAPS = Object.freeze({ bpf: true, perfmon: true, sysAdmin: true });

/**
 * The helper's state from the profile (`undefined`: the profile cannot decide, the tables do).
 * `"invalid"` when the kernel does not know the id at all.
 */
function stateFromProfile(
  def: ProgTypeDef,
  id: number,
  ctx: LoadContext,
  q: ProfileQuery,
): HelperState | "invalid" | undefined {
  const a = q.profile.helper(q.variant, id, q.tier);
  if (a.state === "unknown") return undefined;
  if (a.state === "no") {
    return q.profile.helperKnown(id).state === "no" ? "invalid" : HelperState.Unavailable;
  }
  const p = id < FUNC_MAX_ID
    ? def.ops.getFuncProto(id, { ...ctx, privileged: true, capabilities: ALL_CAPS })
    : undefined;
  if (p === undefined) return HelperState.Ok; // offered, shape unknown to the tables
  return helperStateOf(p, ctx);
}

function helperStateOf(p: FuncProto, ctx: LoadContext): HelperState {
  if (p.gplOnly && !ctx.gplCompatible) return HelperState.Gpl;
  if (p.mightSleep && !ctx.sleepable) return HelperState.Sleep;
  return HelperState.Ok;
}

/** Verdicts already reached in one check, by helper id. */
export type HelperCache = Map<number, number>;

/** The finding `[code, message]` for a call of helper `id`, or undefined when it is fine. */
export function checkHelper(
  def: ProgTypeDef,
  id: number,
  ctx: LoadContext,
  cache: HelperCache,
  q: ProfileQuery | undefined,
): [string, string] | undefined {
  let state = cache.get(id);
  if (state === undefined) {
    const fromProfile = q === undefined ? undefined : stateFromProfile(def, id, ctx, q);
    if (fromProfile === "invalid") return ["invalid-func", `invalid func unknown#${id}`];
    if (fromProfile !== undefined) {
      state = fromProfile;
    } else {
      if (id < 0 || id >= FUNC_MAX_ID) return ["invalid-func", `invalid func unknown#${id}`];
      const p: FuncProto | undefined = def.ops.getFuncProto(id, ctx);
      state = p === undefined ? HelperState.Unavailable : helperStateOf(p, ctx);
    }
    cache.set(id, state);
  }
  switch (state) {
    case HelperState.Unavailable: {
      // In the profile's kernel's words: before 5.19 "unknown func bpf_x#n".
      const a = q?.profile.helper(q.variant, id, q.tier);
      const word = a?.state === "no" && a.reason.startsWith("unknown func ")
        ? "unknown func"
        : "program of this type cannot use helper";
      return ["helper-unavailable", `${word} bpf_${HELPER_NAMES[id] ?? "unknown"}#${id}`];
    }
    case HelperState.Gpl:
      return ["gpl-only", "cannot call GPL-restricted function from non-GPL compatible program"];
    case HelperState.Sleep:
      return ["might-sleep", "helper call might sleep in a non-sleepable prog"];
    default:
      return undefined;
  }
}
