/**
 * Program type and attach type from an ELF section name, through the program-type registry's
 * `sectionPrefixes` (libbpf's `SEC()` conventions). Pure.
 *
 * @module
 */
import { registeredProgTypes } from "../progtype/registry.ts";
import type { SectionPrefix } from "../progtype/types.ts";
import { ObjectError } from "./error.ts";
import { ProgLoadFlag } from "../../types/flags.ts";

/**
 * What a section name says about the programs in it.
 *
 * @example
 * ```ts
 * import { programTypeOfSection } from "@tsbpf/core/elf";
 * programTypeOfSection("xdp").typeName; // "xdp"
 * ```
 */
export interface SectionProgramType {
  /** `enum bpf_prog_type` number. */
  readonly type: number;
  /** Registry name, e.g. `"socket_filter"`. */
  readonly typeName: string;
  /** The attach type to pass at load, when the section implies one that is passed at load. */
  readonly expectedAttachType: number | undefined;
  /** `prog_flags` the section implies (`BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS`). */
  readonly flags: number;
  /** The matching registry entry. */
  readonly prefix: SectionPrefix;
  /** The part after `prefix/`, for sections that take a target (`syscalls/sys_enter_execve`). */
  readonly target: string | undefined;
}

const SLASH = 0x2f;

function matches(section: string, p: SectionPrefix): string | undefined | false {
  const prefix = p.prefix;
  if (section === prefix) return undefined;
  // `prefix/target`, tested without building `prefix + "/"` for each of the ~150 prefixes.
  if (
    p.takesTarget && section.length > prefix.length &&
    section.charCodeAt(prefix.length) === SLASH && section.startsWith(prefix)
  ) {
    return section.slice(prefix.length + 1);
  }
  return false;
}

/**
 * Finds the program type of a section name: an exact `SEC()` name (`"socket"`, `"xdp"`,
 * `"cgroup/connect4"`) or, for types that take a target, `prefix/target`
 * (`"tracepoint/syscalls/sys_enter_execve"`). The longest matching prefix wins.
 *
 * @throws {ObjectError} naming the section when no registered program type claims it.
 * @example
 * ```ts
 * import { programTypeOfSection } from "@tsbpf/core/elf";
 * const t = programTypeOfSection("tracepoint/syscalls/sys_enter_execve");
 * t.typeName; // "tracepoint"
 * t.target; // "syscalls/sys_enter_execve"
 * ```
 */
export function programTypeOfSection(section: string): SectionProgramType {
  let best: SectionProgramType | undefined;
  for (const def of registeredProgTypes()) {
    for (const p of def.sectionPrefixes) {
      const m = matches(section, p);
      if (m === false) continue;
      if (best !== undefined && best.prefix.prefix.length >= p.prefix.length) continue;
      best = {
        type: def.type,
        typeName: def.name,
        expectedAttachType: p.attachTypeAtLoad === "none" ? undefined : p.expectedAttachType,
        flags: (p.sleepable ? ProgLoadFlag.SLEEPABLE : 0) |
          (p.xdpFrags ? ProgLoadFlag.XDP_HAS_FRAGS : 0),
        prefix: p,
        target: m,
      };
    }
  }
  if (best === undefined) {
    throw new ObjectError(
      `section ${JSON.stringify(section)}: no program type claims it (expected a libbpf SEC() ` +
        `name such as "socket", "xdp", "tc", "tracepoint/<category>/<name>")`,
    );
  }
  return best;
}
