/**
 * The static profiles of the kernels of the qemu matrix, recorded by `scripts/vm/profiles.ts`
 * (which runs `scripts/profile_dump.ts` inside each): Debian's kernel packages.
 *
 * @module
 */
import { LINUX_5_10 } from "./linux_5_10.ts";
import { LINUX_6_1 } from "./linux_6_1.ts";
import { LINUX_6_12 } from "./linux_6_12.ts";
import { LINUX_6_18 } from "./linux_6_18.ts";
import { LINUX_7_3 } from "./linux_7_3.ts";
import type { KernelProfile } from "../types.ts";
import { StaticProfile } from "../static.ts";

/**
 * Profiles of named kernels, by `major.minor` (`"5.10"`, `"6.1"`, `"6.12"`, `"6.18"`, `"7.3"`), recorded
 * from Debian's kernel packages. Each answers offline what that kernel answered:
 * `checkProgram({ ..., profile: KNOWN_PROFILES["6.1"] })` says whether a program would load there.
 *
 * @example
 * ```ts
 * import { KNOWN_PROFILES } from "@tsbpf/core/profile";
 * KNOWN_PROFILES["6.1"]?.insn("v4").state; // "no": cpu v4 came in 6.6
 * ```
 */
export const KNOWN_PROFILES: Readonly<Record<string, KernelProfile>> = Object.freeze({
  "5.10": new StaticProfile(LINUX_5_10),
  "6.1": new StaticProfile(LINUX_6_1),
  "6.12": new StaticProfile(LINUX_6_12),
  "6.18": new StaticProfile(LINUX_6_18),
  "7.3": new StaticProfile(LINUX_7_3),
});
