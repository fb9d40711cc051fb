/**
 * Kernel profiles: what a kernel supports, as data. {@link KernelProfile} answers questions
 * (program, map and helper availability, with the capability tier a helper needs) with
 * `yes`, `no` (absent or refused, with a reason) or `unknown` (cannot decide). The live profile asks
 * the running kernel lazily and caches each answer for the boot; `UPSTREAM_PROFILE` answers from
 * tsbpf's tables of upstream Linux 6.18.
 *
 * @example
 * ```ts
 * import { liveProfile, UPSTREAM_PROFILE } from "@tsbpf/core/profile";
 * const here = liveProfile().helper({ type: 1 }, 153, "bpf"); // bpf_per_cpu_ptr, CAP_BPF only
 * const upstream = UPSTREAM_PROFILE.helper({ type: 1 }, 153, "bpf");
 * if (here.state !== upstream.state) console.log("this kernel differs from upstream here");
 * ```
 * @module
 */
export {
  type Answer,
  CAP_TIERS,
  type CapTier,
  type InsnFeature,
  KERNEL_FEATURES,
  type KernelFeature,
  type KernelProfile,
  no,
  type ProgVariant,
  reasonOf,
  tierOf,
  unknown,
  yes,
} from "./types.ts";
export { UPSTREAM_PROFILE } from "./upstream.ts";
export { threadCapabilities, withEffectiveCapabilities } from "./capset.ts";
export { bootKey, type CacheEntry, cachePath, ProfileCache } from "./cache.ts";
export { LiveProfile, liveProfile } from "./live.ts";
export { type ProfileData, StaticProfile } from "./static.ts";
export { KNOWN_PROFILES } from "./kernels/mod.ts";
