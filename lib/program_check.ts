/**
 * The pre-load check that `Program.load` runs (wired to lib/check once it lands).
 *
 * @module
 */
import type { ProgramLoadOptions } from "./program.ts";

/** Runs the registry lookup and checker for a load; throws on findings. */
export function runPreloadCheck(_type: number, _options: ProgramLoadOptions): void {
}
