/**
 * Seeded mutation fuzzing of the targets in `tests/fuzz_targets.ts`.
 *
 * `runFuzz` runs one target in a worker: the worker mutates corpus inputs with a seeded PRNG and
 * feeds them to the target, publishing the index and bytes of the input it is on in shared
 * memory. The main thread watches that index: an input that does not finish within the hang
 * deadline (generous: inputs normally take well under a millisecond) is a hang, and the worker
 * is terminated. A hang, a worker crash (stack overflow, out of memory) or an error that is not
 * one of the library's own classes is a failure, reported with the input in base64 and hex.
 */
import { fdsOpenedSince, openFds } from "./util.ts";

/** A failing input. */
export interface FuzzFailure {
  /** Index of the input in the run (reproducible with the same seed). */
  readonly index: number;
  /** "untyped error", "hang" or "crash". */
  readonly kind: string;
  /** The error (name: message, first stack lines). */
  readonly error: string;
  /** The input, base64. */
  readonly base64: string;
}

/** What one run did. */
export interface FuzzResult {
  readonly target: string;
  readonly seed: number;
  /** Inputs run. */
  readonly count: number;
  /** Inputs that ended in one of the library's errors (the rest were accepted). */
  readonly refused: number;
  readonly failures: readonly FuzzFailure[];
  readonly ms: number;
}

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  /** The PRNG seed (a u32). */
  seed: number;
  /** How many inputs to run. */
  count: number;
  /** After how long without progress one input counts as a hang. Default 20 s. */
  hangMs?: number;
  /** Stop after this many failures. Default 5. */
  maxFailures?: number;
}

/** Bytes of shared memory for the current input. */
const SLOT = 1 << 20;

/** A seed from the environment (`FUZZ_SEED`), or a fresh random one. */
export function fuzzSeed(): number {
  const g = globalThis as { process?: { env: Record<string, string | undefined> } };
  const s = g.process?.env.FUZZ_SEED;
  if (s !== undefined && s !== "") return Number(s) >>> 0;
  return (Math.random() * 2 ** 32) >>> 0;
}

/** Inputs per target in a test run: `FUZZ_COUNT`, default 10,000. */
export function fuzzCount(): number {
  const g = globalThis as { process?: { env: Record<string, string | undefined> } };
  const s = g.process?.env.FUZZ_COUNT;
  return s !== undefined && s !== "" ? Number(s) : 10_000;
}

/** Runs `count` mutated inputs through `target` in a worker. */
export function runFuzz(target: string, options: FuzzOptions): Promise<FuzzResult> {
  const hangMs = options.hangMs ?? 20_000;
  const shared = new SharedArrayBuffer(16 + SLOT);
  // [current index, input length, unused, started: 1 once the worker has loaded and built its corpus]
  const state = new Int32Array(shared, 0, 4);
  const fdsBefore = openFds();
  const worker = new Worker(new URL("./fuzz_worker.ts", import.meta.url).href, { type: "module" });
  const t0 = performance.now();
  return new Promise<FuzzResult>((resolve) => {
    let last = -1;
    let since = performance.now();
    const current = (): string => {
      const len = Math.min(state[1], SLOT);
      const bytes = new Uint8Array(shared, 16, len).slice();
      return toBase64(bytes);
    };
    const finish = (r: FuzzResult): void => {
      clearInterval(timer);
      worker.terminate();
      // A worker's descriptors (Bun: an epoll and an eventfd) go away some time after terminate(),
      // later still on a loaded machine: wait for them, up to a minute, so that the fuzz run
      // leaves no fd of its own open.
      const settle = (tries: number): void => {
        if (fdsOpenedSince(fdsBefore).length === 0 || tries === 0) resolve(r);
        else setTimeout(() => settle(tries - 1), 25);
      };
      settle(2400);
    };
    const timer = setInterval(() => {
      const i = Atomics.load(state, 0);
      // Loading the worker's modules is no input's time (slow under an emulator): the hang clock
      // starts with the first input.
      if (i !== last || Atomics.load(state, 3) === 0) {
        last = i;
        since = performance.now();
        return;
      }
      if (performance.now() - since > hangMs) {
        finish({
          target,
          seed: options.seed,
          count: i,
          refused: 0,
          failures: [{
            index: i,
            kind: "hang",
            error: `no result after ${hangMs} ms`,
            base64: current(),
          }],
          ms: performance.now() - t0,
        });
      }
    }, 200);
    worker.onmessage = (ev: MessageEvent) => finish({ ...ev.data, ms: performance.now() - t0 });
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault?.();
      finish({
        target,
        seed: options.seed,
        count: Atomics.load(state, 0),
        refused: 0,
        failures: [{
          index: Atomics.load(state, 0),
          kind: "crash",
          error: String(ev.message ?? ev),
          base64: current(),
        }],
        ms: performance.now() - t0,
      });
    };
    worker.postMessage({
      target,
      seed: options.seed,
      count: options.count,
      maxFailures: options.maxFailures ?? 5,
      shared,
    });
  });
}

/** A report of a run: one summary line, then each failure with its input. */
export function describeResult(r: FuzzResult): string {
  const rate = r.ms > 0 ? Math.round((r.count / r.ms) * 1000) : 0;
  let s = `fuzz ${r.target}: seed ${r.seed}, ${r.count} inputs (${r.refused} refused with a ` +
    `library error), ${Math.round(r.ms)} ms, ${rate}/s, ${r.failures.length} failures`;
  for (const f of r.failures) {
    s += `\n  #${f.index} ${f.kind}: ${f.error}\n    base64: ${f.base64}`;
    const hex = [...fromBase64(f.base64).subarray(0, 256)].map((b) =>
      b.toString(16).padStart(2, "0")
    );
    s += `\n    hex: ${hex.join("")}${fromBase64(f.base64).length > 256 ? "…" : ""}`;
  }
  return s;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Base64 of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    s += B64[n >> 18] + B64[(n >> 12) & 63] +
      (i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=") +
      (i + 2 < bytes.length ? B64[n & 63] : "=");
  }
  return s;
}

/** Bytes of base64 `s`. */
export function fromBase64(s: string): Uint8Array {
  const clean = s.replace(/[^A-Za-z0-9+/]/g, "");
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let n = 0;
  let bits = 0;
  let o = 0;
  for (const c of clean) {
    n = (n << 6) | B64.indexOf(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (n >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

/** A small fast seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING_32 = [
  0,
  1,
  2,
  4,
  7,
  8,
  0x7f,
  0x80,
  0xff,
  0x100,
  0x7fff,
  0x8000,
  0xffff,
  0x10000,
  0x7fffffff,
  0x80000000,
  0xfffffffe,
  0xffffffff,
];

/** Mutates bytes: 1 to 4 of bit flips, interesting values, splices, truncation, duplication. */
export function mutateBytes(
  input: Uint8Array,
  rnd: () => number,
  corpus: Uint8Array[],
): Uint8Array {
  let b = input.slice();
  const n = 1 + Math.floor(rnd() * 4);
  const pick = (max: number): number => Math.floor(rnd() * max);
  for (let k = 0; k < n; k++) {
    if (b.length === 0) b = new Uint8Array(1 + pick(64));
    switch (pick(10)) {
      case 0:
      case 1: // bit flip
        b[pick(b.length)] ^= 1 << pick(8);
        break;
      case 2: // interesting byte
        b[pick(b.length)] = [0, 1, 0x7f, 0x80, 0xff][pick(5)];
        break;
      case 3: // interesting u32 at a 4-aligned offset (most fields are aligned)
      case 4: {
        const at = pick(Math.max(1, b.length >> 2)) << 2;
        if (at + 4 <= b.length) {
          const v = rnd() < 0.2 ? pick(b.length * 2) : INTERESTING_32[pick(INTERESTING_32.length)];
          new DataView(b.buffer).setUint32(at, v >>> 0, true);
        }
        break;
      }
      case 5: { // u64 at an 8-aligned offset (ELF offsets and sizes)
        const at = pick(Math.max(1, b.length >> 3)) << 3;
        if (at + 8 <= b.length) {
          const v = [
            0n,
            1n,
            0xffffffffn,
            1n << 40n,
            0x7fffffffffffffffn,
            0xffffffffffffffffn,
            BigInt(pick(b.length * 2)),
          ][pick(7)];
          new DataView(b.buffer).setBigUint64(at, v, true);
        }
        break;
      }
      case 6: // truncate
        b = b.slice(0, pick(b.length + 1));
        break;
      case 7: { // overwrite a chunk with bytes from elsewhere (here or another corpus input)
        const src = rnd() < 0.5 ? b : corpus[pick(corpus.length)];
        if (src.length === 0) break;
        const len = 1 + pick(Math.min(64, src.length));
        const from = pick(src.length - len + 1);
        const to = pick(Math.max(1, b.length - len + 1));
        const chunk = src.slice(from, from + len);
        if (to + chunk.length <= b.length) b.set(chunk, to);
        break;
      }
      case 8: { // duplicate or remove a chunk
        const len = 1 + pick(Math.min(32, b.length));
        const at = pick(b.length - len + 1);
        const out = rnd() < 0.5
          ? new Uint8Array([...b.subarray(0, at + len), ...b.subarray(at)])
          : new Uint8Array([...b.subarray(0, at), ...b.subarray(at + len)]);
        b = out;
        break;
      }
      default: // random byte
        b[pick(b.length)] = pick(256);
    }
  }
  return b;
}

const TOKENS = [
  "r0",
  "r1",
  "r10",
  "r11",
  "w1",
  "-",
  "+",
  "*",
  "(",
  ")",
  "[",
  "]",
  "=",
  " ll",
  " goto ",
  "+1",
  "-1",
  "0x",
  "0x7fffffffffffffff",
  "0xffffffffffffffff",
  "18446744073709551616",
  "-9223372036854775809",
  "99999999999999999999999",
  "2147483648",
  "-2147483649",
  "65536",
  "-32769",
  "1e3",
  "1.5",
  "NaN",
  "u8",
  "u16",
  "u32",
  "u64",
  "s8",
  "(u32 *)",
  "*(u64 *)(r10 - 8)",
  "lock ",
  "call ",
  "exit",
  "if ",
  " == ",
  " s> ",
  "be16",
  "le64",
  "bswap",
  "map[",
  "fd:",
  "idx:",
  "]",
  ":",
  "lbl:",
  "#",
  ";",
  "\n",
  "\t",
  " ",
  "\u00e9",
  "\u{1f600}",
  "\0",
  "mov ",
  "%r1",
  ", ",
  "ldxw ",
  "[r1+4]",
];

/** Mutates text: inserts/replaces tokens, deletes, duplicates or swaps lines. */
export function mutateText(input: Uint8Array, rnd: () => number): Uint8Array {
  let s = new TextDecoder().decode(input);
  const pick = (max: number): number => Math.floor(rnd() * max);
  const n = 1 + pick(4);
  for (let k = 0; k < n; k++) {
    const at = pick(s.length + 1);
    switch (pick(6)) {
      case 0:
      case 1:
        s = s.slice(0, at) + TOKENS[pick(TOKENS.length)] + s.slice(at);
        break;
      case 2: {
        const len = pick(8);
        s = s.slice(0, at) + TOKENS[pick(TOKENS.length)] + s.slice(at + len);
        break;
      }
      case 3:
        s = s.slice(0, at) + s.slice(at + 1 + pick(8));
        break;
      case 4: {
        const lines = s.split("\n");
        const i = pick(lines.length);
        const j = pick(lines.length);
        [lines[i], lines[j]] = [lines[j], lines[i]];
        s = lines.join("\n");
        break;
      }
      default: {
        // a number replaced by another
        s = s.replace(/-?(0x)?[0-9a-f]+/i, TOKENS[16 + pick(14)]);
      }
    }
  }
  return new TextEncoder().encode(s);
}
