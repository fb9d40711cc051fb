/**
 * Shrinks a fuzz crasher: removes chunks, then single bytes (lines, then characters, for text
 * targets), then simplifies the bytes that are left, keeping each step only while the input still
 * fails the same way — the same error class thrown from the same place (the first stack frame in
 * the library). Used by `deno task fuzz --minimize <file>`; the result goes to
 * `tests/fixtures/fuzz/` as a regression input.
 *
 * Hangs are not minimised here (each candidate would need a worker and a deadline): replay those
 * with `deno task fuzz` and trim them by hand.
 */
import type { FuzzTarget } from "./fuzz_targets.ts";
import { isLibraryError } from "./fuzz_targets.ts";

/** How an input fails: an untyped error's class and where in the library it was thrown. */
export interface FailureSignature {
  /** The error's `name` (`TypeError`, `RangeError`, …). */
  name: string;
  /** The first stack frame under `lib/` or `types/` (`lib/btf/btf.ts:123`), or the first frame. */
  where: string;
}

/**
 * Runs `target` on `input`: `undefined` when it ends in a result or a library error, else the
 * signature of the untyped error it let out.
 */
export function failureOf(target: FuzzTarget, input: Uint8Array): FailureSignature | undefined {
  try {
    target.run(input);
    return undefined;
  } catch (e) {
    if (isLibraryError(e)) return undefined;
    return signatureOf(e);
  }
}

/** The signature of a thrown value. */
export function signatureOf(e: unknown): FailureSignature {
  if (!(e instanceof Error)) return { name: typeof e, where: "" };
  const frames = (e.stack ?? "").split("\n").slice(1).map((l) => l.trim());
  const located = frames.map(frameLocation).filter((l) => l !== "");
  const inLib = located.find((l) => /(^|\/)(lib|types)\//.test(l));
  return { name: e.name, where: inLib ?? located[0] ?? "" };
}

/** `lib/btf/btf.ts:123` from a stack line (`at f (file:///…/lib/btf/btf.ts:123:45)`). */
function frameLocation(line: string): string {
  const m = /(?:file:\/\/)?([^\s()]+?):(\d+):\d+\)?$/.exec(line);
  if (m === null) return "";
  const path = m[1];
  const i = path.search(/\/(lib|types|tests|scripts)\//);
  return `${i >= 0 ? path.slice(i + 1) : path}:${m[2]}`;
}

/** Whether two signatures are the same failure. */
export function sameFailure(a: FailureSignature, b: FailureSignature | undefined): boolean {
  return b !== undefined && a.name === b.name && a.where === b.where;
}

/** What {@link minimize} did. */
export interface MinimizeResult {
  /** The smallest input found that fails the same way. */
  input: Uint8Array;
  /** The failure kept throughout. */
  signature: FailureSignature;
  /** Target runs made. */
  runs: number;
}

/**
 * Shrinks `input` while `target` keeps failing with the same signature.
 *
 * @throws {Error} when `input` does not fail at all (nothing to minimise).
 */
export function minimize(
  target: FuzzTarget,
  input: Uint8Array,
  options: { maxRuns?: number } = {},
): MinimizeResult {
  const signature = failureOf(target, input);
  if (signature === undefined) {
    throw new Error(
      `the input (${input.length} bytes) does not fail target ${target.name}: it ends in a result or a library error`,
    );
  }
  const maxRuns = options.maxRuns ?? 200_000;
  let runs = 1;
  const fails = (candidate: Uint8Array): boolean => {
    if (runs >= maxRuns) return false;
    runs++;
    return sameFailure(signature, failureOf(target, candidate));
  };
  let best = input;
  if (target.text) best = shrinkUnits(best, splitLines(best), fails);
  for (let progress = true; progress;) {
    const before = best.length;
    best = shrinkUnits(best, bytesAsUnits(best), fails);
    best = simplifyBytes(best, fails);
    progress = best.length < before;
  }
  return { input: best, signature, runs };
}

/** An input as units (slices) that can be removed: here, one unit per byte. */
function bytesAsUnits(input: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < input.length; i++) out.push(input.subarray(i, i + 1));
  return out;
}

/** Text input as lines (each with its newline). */
function splitLines(input: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] === 0x0a) {
      out.push(input.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < input.length) out.push(input.subarray(start));
  return out;
}

function join(units: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const u of units) n += u.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const u of units) {
    out.set(u, o);
    o += u.length;
  }
  return out;
}

/**
 * Delta debugging over units: removes runs of `chunk` units, halving `chunk` down to 1, and
 * keeps every removal after which the input still fails.
 */
function shrinkUnits(
  input: Uint8Array,
  units: Uint8Array[],
  fails: (candidate: Uint8Array) => boolean,
): Uint8Array {
  let current = units;
  for (let chunk = Math.max(1, current.length >> 1); chunk >= 1; chunk >>= 1) {
    for (let start = 0; start < current.length;) {
      const candidate = [...current.slice(0, start), ...current.slice(start + chunk)];
      if (candidate.length < current.length && fails(join(candidate))) current = candidate;
      else start += chunk;
    }
    if (chunk === 1) break;
  }
  const out = join(current);
  return out.length < input.length ? out : input;
}

/** Replaces bytes by 0 (or, for text, by `0` and spaces) where the failure stays. */
function simplifyBytes(input: Uint8Array, fails: (candidate: Uint8Array) => boolean): Uint8Array {
  const out = input.slice();
  for (let i = 0; i < out.length; i++) {
    const was = out[i];
    for (const v of [0, 0x20, 0x30, 1]) {
      if (was === v || v >= was) continue;
      out[i] = v;
      if (fails(out)) break;
      out[i] = was;
    }
  }
  return out;
}
