/**
 * What `Program.load` checks before the kernel sees a program: the type must be registered (always),
 * and the checker must find no error (unless `check: false`).
 *
 * @module
 */
import { checkProgram } from "../check/check.ts";
import { PreloadCheckError } from "../check/error.ts";
import { Capability, effectiveCapabilities } from "../caps.ts";
import type { ProgramLoadOptions } from "./types.ts";
import { progTypeLabel } from "../progtype/type_names.ts";
import { getProgType } from "../progtype/registry.ts";
import { liveProfile } from "../profile/live.ts";

let capabilities: { bpf: boolean; perfmon: boolean; sysAdmin: boolean } | undefined | null = null;

/** This process's BPF-relevant capabilities, read once; `undefined` where /proc is unreadable. */
function loaderCapabilities(): { bpf: boolean; perfmon: boolean; sysAdmin: boolean } | undefined {
  if (capabilities === null) {
    const caps = effectiveCapabilities();
    const has = (c: number) => caps !== undefined && ((caps >> BigInt(c)) & 1n) === 1n;
    capabilities = caps === undefined ? undefined : {
      bpf: has(Capability.BPF),
      perfmon: has(Capability.PERFMON),
      sysAdmin: has(Capability.SYS_ADMIN),
    };
  }
  return capabilities;
}

/**
 * Finds the program type in the registry, as the kernel's `find_prog_type()` does: a type the
 * registry lacks cannot be loaded.
 *
 * @throws {RangeError} when the registry has no such type.
 * @example
 * ```ts
 * import { requireRegisteredType } from "./check.ts";
 * requireRegisteredType(1); // socket_filter is registered: no throw
 * ```
 */
export function requireRegisteredType(type: number): void {
  if (getProgType(type) === undefined) {
    throw new RangeError(
      `program type ${progTypeLabel(type)} (${type}) is not in the program-type registry ` +
        `(register it with registerProgType())`,
    );
  }
}

/**
 * Runs `checkProgram()` with the load's license, attach type, flags and the process's
 * capabilities.
 *
 * @throws {PreloadCheckError} when the checker finds an error.
 * @example
 * ```ts
 * import { asm } from "../insn/mod.ts";
 * import { runPreloadCheck } from "./check.ts";
 * runPreloadCheck(1, undefined, { type: 1, insns: asm`r0 = 0\nexit`, license: "GPL" });
 * ```
 */
export function runPreloadCheck(
  type: number,
  expectedAttachType: number | undefined,
  options: ProgramLoadOptions,
): void {
  const findings = checkProgram({
    type,
    insns: options.insns,
    license: options.license,
    expectedAttachType,
    flags: options.flags,
    capabilities: loaderCapabilities(),
    attachTo: options.attachTo,
    profile: options.profile ?? liveProfile(),
    depth: options.checkDepth,
    maps: options.maps,
    ...(options.sourceLines !== undefined ? { lines: options.sourceLines } : {}),
  });
  for (const f of findings) {
    if (f.severity === "error") {
      throw new PreloadCheckError(findings, options.insns, progTypeLabel(type));
    }
  }
}
