/**
 * Prints the running kernel's live profile as JSON (`ProfileData` of `@tsbpf/core/profile`): every
 * program, map, attach and link type, the instruction-set features, the kernel features, and the
 * helper sets of every probe variant of `scripts/probe_helpers.ts` at every capability tier.
 * Nothing comes from the disk cache: every answer is probed afresh.
 *
 *   deno run -A scripts/profile_dump.ts [--name "Debian 6.1.0-57-amd64"] > profile.json
 *
 * `scripts/vm/profiles.ts` runs it inside each kernel of the qemu matrix and writes the results
 * to `lib/profile/kernels/`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { LiveProfile, ProfileCache } from "../lib/profile/mod.ts";
import { CAP_TIERS, KERNEL_FEATURES, type ProgVariant } from "../lib/profile/types.ts";
import { encodeIds, isHelperSet } from "../lib/profile/stored.ts";
import { ISA_FEATURES } from "../lib/insn/isa.ts";
import { MAP_TYPES } from "../lib/map/map_types.ts";
import { PROG_TYPE_COUNT, progTypeByName } from "../types/prog_type.ts";
import { ATTACH_TYPE_COUNT } from "../types/attach_type.ts";
import { LINK_TYPE_COUNT } from "../types/link_type.ts";
import { PROBE_VARIANTS } from "./probe_helpers.ts";

/** The checker's variant of a probe variant (as `tests/profile.test.ts` maps them). */
export function variantOf(v: (typeof PROBE_VARIANTS)[number]): ProgVariant {
  return {
    type: progTypeByName(v.type)!,
    ...(v.expectedAttachType !== undefined && v.member === undefined
      ? { expectedAttachType: v.expectedAttachType }
      : {}),
    ...(v.attachTo !== undefined ? { attachTo: v.attachTo } : {}),
    ...((v.flags ?? 0) & 16 ? { sleepable: true } : {}),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2),
    options: { name: { type: "string" } },
  });
  const release = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  const version = readFileSync("/proc/version", "utf8").trim();
  const cache = new ProfileCache(null);
  const p = new LiveProfile(cache);
  // A few numbers past tsbpf's tables: a newer kernel may know more.
  for (let t = 0; t < PROG_TYPE_COUNT + 4; t++) p.progType(t);
  for (const t of MAP_TYPES) p.mapType(t.type);
  for (let t = 0; t < ATTACH_TYPE_COUNT + 8; t++) p.attachType(t);
  for (let t = 1; t < LINK_TYPE_COUNT + 4; t++) p.linkType(t);
  for (const f of ISA_FEATURES) p.insn(f);
  for (const f of KERNEL_FEATURES) p.feature(f);
  for (const v of PROBE_VARIANTS) {
    for (const tier of CAP_TIERS) p.helper(variantOf(v), 0, tier);
  }
  const entries: Record<string, unknown> = {};
  for (const [k, v] of cache.entries().sort(([a], [b]) => a.localeCompare(b))) {
    entries[k] = isHelperSet(v) ? { ...v, a: encodeIds(v.a) } : v;
  }
  const name = values.name ?? `Linux ${release}`;
  console.log(JSON.stringify({ name, release, version, entries }, null, 1));
}
