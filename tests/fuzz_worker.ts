/**
 * The worker side of `tests/fuzz_harness.ts`: runs one target on mutated inputs, publishing the
 * index and bytes of the current input in shared memory before running it.
 */
import { mutateBytes, mutateText, prng, toBase64 } from "./fuzz_harness.ts";
import { isLibraryError, TARGETS } from "./fuzz_targets.ts";

interface Job {
  target: string;
  seed: number;
  count: number;
  maxFailures: number;
  shared: SharedArrayBuffer;
}

const SLOT = 1 << 20;

/** The worker's global scope, as far as it is used here. */
const scope = globalThis as unknown as {
  onmessage: ((ev: MessageEvent<Job>) => void) | null;
  postMessage(message: unknown): void;
};

function describe(e: unknown): string {
  if (e instanceof Error) {
    const stack = (e.stack ?? "").split("\n").slice(1, 5).map((l) => l.trim()).join(" | ");
    return `${e.name}: ${e.message.slice(0, 500)} @ ${stack}`;
  }
  return `non-Error thrown: ${String(e)}`;
}

scope.onmessage = (ev: MessageEvent<Job>) => {
  const { target: name, seed, count, maxFailures, shared } = ev.data;
  const target = TARGETS[name];
  const state = new Int32Array(shared, 0, 4);
  const slot = new Uint8Array(shared, 16, SLOT);
  const corpus = target.corpus();
  const rnd = prng(seed);
  // Inputs the target accepted are mutated further, to get past the first checks.
  const accepted: Uint8Array[] = [];
  const failures: { index: number; kind: string; error: string; base64: string }[] = [];
  let refused = 0;
  let i = 0;
  Atomics.store(state, 3, 1); // the harness's hang clock starts now
  for (; i < count && failures.length < maxFailures; i++) {
    const from = accepted.length > 0 && rnd() < 0.3
      ? accepted[Math.floor(rnd() * accepted.length)]
      : corpus[Math.floor(rnd() * corpus.length)];
    const input = target.text ? mutateText(from, rnd) : mutateBytes(from, rnd, corpus);
    const len = Math.min(input.length, SLOT);
    slot.set(input.subarray(0, len));
    Atomics.store(state, 1, len);
    Atomics.store(state, 0, i);
    try {
      target.run(input);
      if (accepted.length < 256) accepted.push(input);
      else accepted[Math.floor(rnd() * 256)] = input;
    } catch (e) {
      if (isLibraryError(e)) refused++;
      else {failures.push({
          index: i,
          kind: "untyped error",
          error: describe(e),
          base64: toBase64(input),
        });}
    }
  }
  Atomics.store(state, 0, i);
  scope.postMessage({ target: name, seed, count: i, refused, failures });
};
