/**
 * The static profile of upstream Linux 6.18: tsbpf's own tables (the program-type registry with
 * its helper prototypes, the map-type table) read as a {@link KernelProfile}.
 *
 * @module
 */
import { HELPER_NAMES } from "../../types/helpers.ts";
import { ATTACH_TYPE_COUNT } from "../../types/attach_type.ts";
import { LINK_TYPE_COUNT } from "../../types/link_type.ts";
import { MAP_TYPES } from "../map/map_types.ts";
import { getProgType } from "../progtype/registry.ts";
import type { LoadContext } from "../progtype/types.ts";
import {
  type Answer,
  type CapTier,
  type InsnFeature,
  type KernelFeature,
  type KernelProfile,
  no,
  type ProgVariant,
  unknown,
  yes,
} from "./types.ts";

/** The capabilities of each tier, as `LoadContext.capabilities`. */
const TIER_CAPS: Readonly<Record<CapTier, { bpf: boolean; perfmon: boolean; sysAdmin: boolean }>> =
  {
    unprivileged: { bpf: false, perfmon: false, sysAdmin: false },
    bpf: { bpf: true, perfmon: false, sysAdmin: false },
    perfmon: { bpf: true, perfmon: true, sysAdmin: false },
    admin: { bpf: true, perfmon: true, sysAdmin: true },
  };

/**
 * The {@link LoadContext} the registry's prototype functions see for a variant at a tier (GPL
 * license: the profile asks whether a helper is offered, not whether a license allows it).
 *
 * @example
 * ```ts
 * import { loadContextOf } from "./upstream.ts";
 * loadContextOf({ type: 1 }, "bpf").capabilities; // { bpf: true, perfmon: false, sysAdmin: false }
 * ```
 */
export function loadContextOf(variant: ProgVariant, tier: CapTier): LoadContext {
  return {
    license: "GPL",
    gplCompatible: true,
    privileged: tier === "admin",
    capabilities: TIER_CAPS[tier],
    ...(variant.expectedAttachType !== undefined
      ? { expectedAttachType: variant.expectedAttachType }
      : {}),
    ...(variant.sleepable ? { sleepable: true } : {}),
    ...(variant.attachTo !== undefined ? { attachTo: variant.attachTo } : {}),
  };
}

const mapTypes = new Map(MAP_TYPES.map((t) => [t.type, t]));

/**
 * Upstream Linux 6.18 as tsbpf's tables describe it: the program-type registry (as registered now,
 * plugins included), the helper prototypes with their capability tiers, the map-type table.
 *
 * @example
 * ```ts
 * import { UPSTREAM_PROFILE } from "./upstream.ts";
 * UPSTREAM_PROFILE.mapType(33).state; // "yes" (arena)
 * UPSTREAM_PROFILE.helper({ type: 1 }, 153, "bpf").state; // "yes": bpf_per_cpu_ptr at CAP_BPF
 * ```
 */
export const UPSTREAM_PROFILE: KernelProfile = Object.freeze({
  name: "upstream 6.18",
  progType(type: number): Answer {
    return getProgType(type) !== undefined
      ? yes()
      : no("absent", `program type ${type} is not in Linux 6.18`);
  },
  mapType(type: number): Answer {
    return mapTypes.has(type) ? yes() : no("absent", `map type ${type} is not in Linux 6.18`);
  },
  helperKnown(id: number): Answer {
    return id >= 0 && id < HELPER_NAMES.length
      ? yes()
      : no("absent", `invalid func unknown#${id}: Linux 6.18 has no helper ${id}`);
  },
  helper(variant: ProgVariant, id: number, tier: CapTier): Answer {
    const def = getProgType(variant.type);
    if (def === undefined) {
      return no("absent", `program type ${variant.type} is not in Linux 6.18`);
    }
    if (id < 0 || id >= HELPER_NAMES.length) {
      return no("absent", `invalid func unknown#${id}: Linux 6.18 has no helper ${id}`);
    }
    return def.ops.getFuncProto(id, loadContextOf(variant, tier)) !== undefined ? yes() : no(
      "absent",
      `program of this type cannot use helper bpf_${HELPER_NAMES[id]}#${id} (${def.name}, ${tier})`,
    );
  },
  insn(_feature: InsnFeature): Answer {
    return yes(); // 6.18 has every level, the 6.15 atomics and may_goto
  },
  feature(feature: KernelFeature): Answer {
    if (feature === "may_goto_zero") return yes();
    if (feature === "gotox") return no("absent", "Linux 6.18 has no indirect jumps (gotox)");
    if (feature === "early_insn_checks") {
      return no(
        "absent",
        "the Linux 6.18 verifier checks registers and reserved fields as do_check() reaches each instruction",
      );
    }
    return yes(); // a default upstream build: BTF, kprobes and trampolines
  },
  attachType(type: number): Answer {
    return Number.isInteger(type) && type >= 0 && type < ATTACH_TYPE_COUNT
      ? yes()
      : no("absent", `attach type ${type} is not in Linux 6.18`);
  },
  linkType(type: number): Answer {
    return Number.isInteger(type) && type > 0 && type < LINK_TYPE_COUNT
      ? yes()
      : no("absent", `link type ${type} is not in Linux 6.18`);
  },
  kfunc(name: string): Answer {
    return unknown(`tsbpf has no table of the kfuncs of Linux 6.18 (asked about ${name})`);
  },
});
