/**
 * Map operation latency of `BpfMap` beside the C raw-syscall and libbpf loops of
 * `../shared/bench/map_bench`, run in the same invocation (before and after the TypeScript
 * rounds; the C figure is the mean of the two medians).
 *
 * Same shape as the C benchmark: BPF_MAP_TYPE_HASH, u32 key → u64 value, max_entries 65536,
 * 10,000 keys; inserts and deletes make one pass, the repeatable ops five passes; a fresh map per
 * round. "raw" passes Uint8Array keys and values (get() into a reused buffer with getInto(), as C
 * does), "typed" uses the u32/u64 codecs (numbers and bigints in and out).
 *
 *   deno run -A bench/map_bench.ts        bun bench/map_bench.ts
 *
 * BENCH_ROUNDS (default 7) sets the TypeScript rounds; BENCH_C_REPS (default 3) the C repetitions.
 */
import { BpfMap } from "../lib/map/mod.ts";
import { u32, u64 } from "../lib/codec/mod.ts";
import { BpfCmd } from "../types/cmd.ts";
import { alloc } from "../lib/sys/memory.ts";
import { sys } from "../lib/sys/mod.ts";
import { buildC, median, nowNs, runC, runtime } from "./_c.ts";

const N_KEYS = 10_000;
const MAX_ENTRIES = 65_536;
const PASSES = 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const C_REPS = process.env.BENCH_C_REPS ?? "3";

type Row =
  | "floor: sys().bpf lookup"
  | "floor: sys().bpf update"
  | "update new (raw)"
  | "update existing (raw)"
  | "lookup hit (raw getInto)"
  | "lookup hit (raw get)"
  | "lookup miss (raw)"
  | "delete (raw)"
  | "update existing (typed)"
  | "lookup hit (typed)"
  | "delete (typed)"
  | "lookup_batch chunk=10000 /elem"
  | "lookup_batch chunk=256 /elem"
  | "entries({batch:false}) /entry"
  | "entries() /entry"
  | "typed entries() /entry"
  | "typed batchLookup() /elem"
  | "typed batchReader key(i)/value(i)";

/** Which C row each figure is compared with, and the target ratio. */
const COMPARE: Record<Row, [string, number]> = {
  "floor: sys().bpf lookup": ["hash lookup (hit)", 1.10],
  "floor: sys().bpf update": ["hash update (existing key)", 1.10],
  "update new (raw)": ["hash update (new key)", 1.10],
  "update existing (raw)": ["hash update (existing key)", 1.10],
  "lookup hit (raw getInto)": ["hash lookup (hit)", 1.10],
  "lookup hit (raw get)": ["hash lookup (hit)", 1.10],
  "lookup miss (raw)": ["hash lookup (miss)", 1.10],
  "delete (raw)": ["hash delete", 1.10],
  "update existing (typed)": ["hash update (existing key)", 1.20],
  "lookup hit (typed)": ["hash lookup (hit)", 1.20],
  "delete (typed)": ["hash delete", 1.20],
  "lookup_batch chunk=10000 /elem": ["hash lookup_batch chunk=10000 /elem", 1.05],
  "lookup_batch chunk=256 /elem": ["hash lookup_batch chunk=256 /elem", 1.05],
  "entries({batch:false}) /entry": ["hash next_key+lookup (per entry)", 1.15],
  "entries() /entry": ["hash lookup_batch chunk=256 /elem", 1.10],
  "typed entries() /entry": ["hash lookup_batch chunk=256 /elem", 1.10],
  "typed batchLookup() /elem": ["hash lookup_batch chunk=256 /elem", 1.10],
  "typed batchReader key(i)/value(i)": ["hash lookup_batch chunk=256 /elem", 1.10],
};

function fail(what: string): never {
  throw new Error(`map bench: ${what}`);
}

/** One round on fresh maps; ns per op for each row. */
function round(): Record<Row, number> {
  const res = {} as Record<Row, number>;
  // Raw: Uint8Array key and value, reused like C's stack variables.
  {
    using m = BpfMap.create({ type: "hash", keySize: 4, valueSize: 8, maxEntries: MAX_ENTRIES });
    const key = new Uint8Array(new ArrayBuffer(4));
    const kv = new DataView(key.buffer);
    const value = new Uint8Array(new ArrayBuffer(8));
    const vv = new DataView(value.buffer);
    let t0 = nowNs();
    for (let i = 0; i < N_KEYS; i++) {
      kv.setUint32(0, i, true);
      vv.setUint32(0, i, true);
      m.set(key, value);
    }
    res["update new (raw)"] = (nowNs() - t0) / N_KEYS;

    t0 = nowNs();
    for (let p = 0; p < PASSES; p++) {
      for (let i = 0; i < N_KEYS; i++) {
        kv.setUint32(0, i, true);
        vv.setUint32(0, i + p, true);
        m.set(key, value);
      }
    }
    res["update existing (raw)"] = (nowNs() - t0) / (N_KEYS * PASSES);

    t0 = nowNs();
    for (let p = 0; p < PASSES; p++) {
      for (let i = 0; i < N_KEYS; i++) {
        kv.setUint32(0, i, true);
        if (!m.getInto(key, value)) fail("lookup hit");
      }
    }
    res["lookup hit (raw getInto)"] = (nowNs() - t0) / (N_KEYS * PASSES);

    t0 = nowNs();
    for (let p = 0; p < PASSES; p++) {
      for (let i = 0; i < N_KEYS; i++) {
        kv.setUint32(0, i, true);
        if (m.get(key) === undefined) fail("lookup hit");
      }
    }
    res["lookup hit (raw get)"] = (nowNs() - t0) / (N_KEYS * PASSES);

    t0 = nowNs();
    for (let p = 0; p < PASSES; p++) {
      for (let i = 0; i < N_KEYS; i++) {
        kv.setUint32(0, N_KEYS + i, true);
        if (m.getInto(key, value)) fail("lookup miss");
      }
    }
    res["lookup miss (raw)"] = (nowNs() - t0) / (N_KEYS * PASSES);

    for (
      const [row, chunk] of [["lookup_batch chunk=10000 /elem", N_KEYS], [
        "lookup_batch chunk=256 /elem",
        256,
      ]] as const
    ) {
      const reader = m.batchReader(chunk);
      for (let n = reader.next(); n > 0 || !reader.done; n = reader.next()); // warm the buffers
      t0 = nowNs();
      for (let p = 0; p < PASSES; p++) {
        reader.reset();
        let total = 0;
        for (let n = reader.next(); n > 0 || !reader.done; n = reader.next()) total += n;
        if (total !== N_KEYS) fail(`batch got ${total}`);
      }
      res[row] = (nowNs() - t0) / (N_KEYS * PASSES);
    }

    // Whole-map iteration: raw Uint8Array keys and values.
    {
      let n = 0;
      t0 = nowNs();
      for (const [k, v] of m.entries({ batch: false })) n += k.length + v.length;
      res["entries({batch:false}) /entry"] = (nowNs() - t0) / N_KEYS;
      if (n !== N_KEYS * 12) fail(`entries({batch:false}) saw ${n / 12}`);
      n = 0;
      t0 = nowNs();
      for (let p = 0; p < PASSES; p++) {
        for (const [k, v] of m.entries()) n += k.length + v.length;
      }
      res["entries() /entry"] = (nowNs() - t0) / (N_KEYS * PASSES);
      if (n !== N_KEYS * 12 * PASSES) fail(`entries() saw ${n / 12}`);
    }

    // The runtime's FFI floor: bpf(2) through sys() with a prepared attr, no library code.
    const s = sys();
    const attr = alloc(32);
    const av = new DataView(attr.buffer);
    const fk = alloc(8);
    const fkv = new DataView(fk.buffer);
    const fv = alloc(8);
    av.setUint32(0, m.fd, true);
    av.setBigUint64(8, s.addressOf(fk), true);
    av.setBigUint64(16, s.addressOf(fv), true);
    t0 = nowNs();
    for (let p = 0; p < PASSES; p++) {
      for (let i = 0; i < N_KEYS; i++) {
        fkv.setUint32(0, i, true);
        if (s.bpf(BpfCmd.MAP_LOOKUP_ELEM, attr, 32) < 0) fail("floor lookup");
      }
    }
    res["floor: sys().bpf lookup"] = (nowNs() - t0) / (N_KEYS * PASSES);
    t0 = nowNs();
    for (let p = 0; p < PASSES; p++) {
      for (let i = 0; i < N_KEYS; i++) {
        fkv.setUint32(0, i, true);
        if (s.bpf(BpfCmd.MAP_UPDATE_ELEM, attr, 32) < 0) fail("floor update");
      }
    }
    res["floor: sys().bpf update"] = (nowNs() - t0) / (N_KEYS * PASSES);

    t0 = nowNs();
    for (let i = 0; i < N_KEYS; i++) {
      kv.setUint32(0, i, true);
      if (!m.delete(key)) fail("delete");
    }
    res["delete (raw)"] = (nowNs() - t0) / N_KEYS;
  }
  // Typed: u32 keys as numbers, u64 values as bigints.
  {
    using m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: MAX_ENTRIES });
    for (let i = 0; i < N_KEYS; i++) m.set(i, BigInt(i));
    let t0 = nowNs();
    for (let p = 0; p < PASSES; p++) {
      for (let i = 0; i < N_KEYS; i++) m.set(i, BigInt(i + p));
    }
    res["update existing (typed)"] = (nowNs() - t0) / (N_KEYS * PASSES);
    let sum = 0n;
    t0 = nowNs();
    for (let p = 0; p < PASSES; p++) {
      for (let i = 0; i < N_KEYS; i++) sum += m.get(i) ?? fail("typed lookup");
    }
    res["lookup hit (typed)"] = (nowNs() - t0) / (N_KEYS * PASSES);
    if (sum === 0n) fail("typed sum");
    let keys = 0;
    t0 = nowNs();
    for (let p = 0; p < PASSES; p++) {
      for (const [k] of m.entries()) keys += k;
    }
    res["typed entries() /entry"] = (nowNs() - t0) / (N_KEYS * PASSES);
    t0 = nowNs();
    for (let p = 0; p < PASSES; p++) {
      const all = m.batchLookup();
      if (all.length !== N_KEYS) fail(`typed batchLookup got ${all.length}`);
      keys += all[0][0];
    }
    res["typed batchLookup() /elem"] = (nowNs() - t0) / (N_KEYS * PASSES);
    // The columnar view: decode only the fields read, no pairs (NaN for a library without it).
    const reader = m.batchReader(256) as ReturnType<typeof m.batchReader> | { key?: undefined };
    if (typeof reader.key !== "function") {
      res["typed batchReader key(i)/value(i)"] = NaN;
      t0 = nowNs();
      for (let i = 0; i < N_KEYS; i++) if (!m.delete(i)) fail("typed delete");
      res["delete (typed)"] = (nowNs() - t0) / N_KEYS;
      return res;
    }
    let vsum = 0n;
    t0 = nowNs();
    for (let p = 0; p < PASSES; p++) {
      reader.reset();
      let total = 0;
      for (let n = reader.next(); n > 0 || !reader.done; n = reader.next()) {
        for (let i = 0; i < n; i++) {
          keys += reader.key(i);
          vsum += reader.value(i);
        }
        total += n;
      }
      if (total !== N_KEYS) fail(`typed reader got ${total}`);
    }
    res["typed batchReader key(i)/value(i)"] = (nowNs() - t0) / (N_KEYS * PASSES);
    if (vsum === 0n) fail("typed reader sum");
    if (keys === 0) fail("typed keys");
    t0 = nowNs();
    for (let i = 0; i < N_KEYS; i++) if (!m.delete(i)) fail("typed delete");
    res["delete (typed)"] = (nowNs() - t0) / N_KEYS;
  }
  return res;
}

/** Parses `map_bench` output into "impl|name" → median ns. */
function parseC(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of out.split("\n")) {
    const r = /^(\S+)\s+(.+?)\s+ns\/op\s+min\s+[\d.]+\s+median\s+([\d.]+)/.exec(line);
    if (r) m.set(`${r[1]}|${r[2].trim()}`, Number(r[3]));
  }
  return m;
}

const haveC = buildC();
const cBefore = haveC ? parseC(runC("map_bench", [C_REPS])) : new Map<string, number>();

round(); // warm-up (JIT), not counted
const rounds: Record<Row, number>[] = [];
for (let r = 0; r < ROUNDS; r++) rounds.push(round());

const cAfter = haveC ? parseC(runC("map_bench", [C_REPS])) : new Map<string, number>();
const cFigure = (key: string): number | undefined => {
  const a = cBefore.get(key);
  const b = cAfter.get(key);
  return a === undefined ? b : b === undefined ? a : (a + b) / 2;
};

console.log(
  `# map_bench (${runtime}): hash u32 → u64, max_entries ${MAX_ENTRIES}, ${N_KEYS} keys; median of ${ROUNDS} rounds; C: ${C_REPS} reps before and after`,
);
const pad = (s: string, n: number) => s.padEnd(n);
const num = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(1)).padStart(8);
console.log(
  `${pad("operation", 32)} ${"ts ns".padStart(8)} ${"C raw".padStart(8)} ${
    "libbpf".padStart(8)
  }  ratio/raw  target`,
);
let misses = 0;
for (const row of Object.keys(COMPARE) as Row[]) {
  const ts = median(rounds.map((r) => r[row]));
  const [cName, target] = COMPARE[row];
  const raw = cFigure(`raw|${cName}`);
  const lib = cFigure(`libbpf|${cName}`);
  const ratio = raw === undefined ? undefined : ts / raw;
  const ok = ratio === undefined ? "" : ratio <= target ? "ok" : "MISS";
  if (ok === "MISS") misses++;
  console.log(
    `${pad(row, 32)} ${num(ts)} ${num(raw)} ${num(lib)}  ${
      ratio === undefined ? "    -    " : `${ratio.toFixed(3)}×`.padStart(9)
    }  ≤${target.toFixed(2)} ${ok}`,
  );
}
if (haveC) console.log(misses === 0 ? "# all within target" : `# ${misses} rows above target`);
