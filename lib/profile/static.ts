/**
 * Static profiles: what a named kernel answered, recorded as data, answering offline ("would this
 * load on 6.1?"). The data is what the live profile stored while probing that kernel
 * (`scripts/profile_dump.ts`, run inside each kernel of the qemu matrix). Pure.
 *
 * @module
 */
import {
  decodeIds,
  helperFromSet,
  helperKnownFromSet,
  type HelperSet,
  helperSetKey,
  isAnswer,
  isHelperSet,
  variantLabel,
} from "./stored.ts";
import {
  type Answer,
  type CapTier,
  type InsnFeature,
  type KernelFeature,
  type KernelProfile,
  type ProgVariant,
  unknown,
} from "./types.ts";

/**
 * A recorded profile: the kernel's name and release, and the live profile's entries (helper sets
 * with their ids as range text, `{ s: "ok", a: "1-9,12", n: 212 }`).
 *
 * @example
 * ```ts
 * import type { ProfileData } from "@tsbpf/core/profile";
 * const d: ProfileData = {
 *   name: "example", release: "6.1.0", entries: { "map:27": { state: "yes" } },
 * };
 * ```
 */
export interface ProfileData {
  /** What the profile describes, e.g. `"Debian 6.1.0-57-amd64 (Linux 6.1.192)"`. */
  readonly name: string;
  /** The kernel release (`uname -r`). */
  readonly release: string;
  /** Stored answers by key (see `lib/profile/stored.ts`). */
  readonly entries: Readonly<Record<string, unknown>>;
}

/**
 * A {@link KernelProfile} that answers from recorded data; what was not recorded is `unknown`.
 *
 * @example
 * ```ts
 * import { StaticProfile } from "@tsbpf/core/profile";
 * const p = new StaticProfile({
 *   name: "example", release: "6.1.0", entries: { "insn:v4": { state: "no", why: "absent", reason: "x" } },
 * });
 * p.insn("v4").state; // "no"
 * p.insn("v3").state; // "unknown"
 * ```
 */
export class StaticProfile implements KernelProfile {
  readonly name: string;
  /** The kernel release the data was recorded on. */
  readonly release: string;
  readonly #entries: Readonly<Record<string, unknown>>;
  readonly #sets = new Map<string, HelperSet | Answer>();

  /** A profile answering from `data`. */
  constructor(data: ProfileData) {
    this.name = data.name;
    this.release = data.release;
    this.#entries = data.entries;
  }

  #answer(key: string, what: string): Answer {
    const e = this.#entries[key];
    return isAnswer(e) ? e : unknown(`the ${this.name} profile has no record of ${what}`);
  }

  #set(variant: ProgVariant, tier: CapTier): HelperSet | Answer {
    const key = helperSetKey(variant, tier);
    let set = this.#sets.get(key);
    if (set === undefined) {
      const e = this.#entries[key] as
        | { s?: unknown; a?: unknown; n?: unknown; w?: unknown }
        | undefined;
      if (e !== undefined && e.s === "ok" && typeof e.a === "string") {
        set = {
          s: "ok",
          a: decodeIds(e.a),
          n: Number(e.n),
          ...(e.w === "unknown func" ? { w: "unknown func" as const } : {}),
        };
        if (!isHelperSet(set)) set = unknown(`the ${this.name} profile's ${key} is malformed`);
      } else if (isAnswer(e)) set = e;
      else {
        set = unknown(
          `the ${this.name} profile has no record of the helpers of ${
            variantLabel(variant)
          } at tier ${tier}`,
        );
      }
      this.#sets.set(key, set);
    }
    return set;
  }

  /** The recorded answer for program type `type`. */
  progType(type: number): Answer {
    return this.#answer(`prog:${type}`, `program type ${type}`);
  }

  /** The recorded answer for map type `type`. */
  mapType(type: number): Answer {
    return this.#answer(`map:${type}`, `map type ${type}`);
  }

  /** Whether helper `id` existed in the recorded kernel. */
  helperKnown(id: number): Answer {
    return helperKnownFromSet(this.#set({ type: 1 }, "admin"), id);
  }

  /** Whether `variant` at `tier` could call helper `id` in the recorded kernel. */
  helper(variant: ProgVariant, id: number, tier: CapTier): Answer {
    return helperFromSet(this.#set(variant, tier), variant, id, tier);
  }

  /** The recorded answer for an instruction-set feature. */
  insn(feature: InsnFeature): Answer {
    return this.#answer(`insn:${feature}`, `${feature} instructions`);
  }

  /** The recorded answer for a kernel feature. */
  feature(feature: KernelFeature): Answer {
    return this.#answer(`feature:${feature}`, `the ${feature} feature`);
  }

  /** The recorded answer for attach type `type`. */
  attachType(type: number): Answer {
    return this.#answer(`attach:${type}`, `attach type ${type}`);
  }

  /** The recorded answer for link type `type`. */
  linkType(type: number): Answer {
    return this.#answer(`link:${type}`, `link type ${type}`);
  }

  /** The recorded answer for kfunc `name` (static profiles record no kfuncs: `unknown`). */
  kfunc(name: string): Answer {
    return this.#answer(`kfunc:${name}`, `the kfunc ${name}`);
  }
}
