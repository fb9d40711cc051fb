/**
 * Map operation latency of `BpfMap` beside C raw bpf(2) loops run in the same process, on the same
 * maps, round after round in turn (`bench/c/inproc.c` through FFI: the same loops as
 * `../shared/bench/map_bench`'s raw side). The C figure of every row is measured right beside the
 * TypeScript one; the ratio is the median of the per-round ratios (the machine is shared).
 *
 * Same shape as the C benchmark: BPF_MAP_TYPE_HASH, u32 key → u64 value, max_entries 65536,
 * 10,000 keys; inserts and deletes make one pass, the repeatable ops five passes. "raw" passes
 * Uint8Array keys and values (get() into a reused buffer with getInto(), as C does), "typed" uses
 * the u32/u64 codecs (numbers and bigints in and out). The floor rows are bpf(2) through the
 * runtime's FFI with a prepared attr and no library code.
 *
 *   deno run -A bench/map_bench.ts        bun bench/map_bench.ts
 *
 * BENCH_ROUNDS (default 11) sets the rounds.
 */
import { BpfMap } from "../lib/map/mod.ts";
import { u32, u64 } from "../lib/codec/mod.ts";
import { BpfCmd } from "../types/cmd.ts";
import { alloc } from "../lib/sys/memory.ts";
import { sys } from "../lib/sys/mod.ts";
import { clockName, clockNs, CMapOp, inProcC, median, runtime } from "./_c.ts";

const N_KEYS = 10_000;
const MAX_ENTRIES = 65_536;
const PASSES = 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);

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
  | "scan({batch:false}) /entry"
  | "scan() /entry"
  | "typed scan() /entry"
  | "typed entries() /entry"
  | "typed batchLookup() /elem"
  | "typed batchReader key(i)/value(i)";

/** Which C loop each row is compared with, and the target ratio. */
const COMPARE: Record<Row, [number, number]> = {
  "floor: sys().bpf lookup": [CMapOp.lookupHit, 1.10],
  "floor: sys().bpf update": [CMapOp.updateExisting, 1.10],
  "update new (raw)": [CMapOp.updateNew, 1.10],
  "update existing (raw)": [CMapOp.updateExisting, 1.10],
  "lookup hit (raw getInto)": [CMapOp.lookupHit, 1.10],
  "lookup hit (raw get)": [CMapOp.lookupHit, 1.10],
  "lookup miss (raw)": [CMapOp.lookupMiss, 1.10],
  "delete (raw)": [CMapOp.delete, 1.10],
  "update existing (typed)": [CMapOp.updateExisting, 1.20],
  "lookup hit (typed)": [CMapOp.lookupHit, 1.20],
  "delete (typed)": [CMapOp.delete, 1.20],
  "lookup_batch chunk=10000 /elem": [CMapOp.batchAll, 1.05],
  "lookup_batch chunk=256 /elem": [CMapOp.batch256, 1.05],
  "entries({batch:false}) /entry": [CMapOp.dump, 1.15],
  "entries() /entry": [CMapOp.batch256, 1.10],
  "scan({batch:false}) /entry": [CMapOp.dump, 1.15],
  "scan() /entry": [CMapOp.batch256, 1.10],
  "typed scan() /entry": [CMapOp.batch256, 1.10],
  "typed entries() /entry": [CMapOp.batch256, 1.10],
  "typed batchLookup() /elem": [CMapOp.batch256, 1.10],
  "typed batchReader key(i)/value(i)": [CMapOp.batch256, 1.10],
};
const C_NAMES: Record<number, string> = {
  [CMapOp.updateNew]: "update (new key)",
  [CMapOp.updateExisting]: "update (existing)",
  [CMapOp.lookupHit]: "lookup (hit)",
  [CMapOp.lookupMiss]: "lookup (miss)",
  [CMapOp.dump]: "next_key+lookup /entry",
  [CMapOp.batchAll]: "lookup_batch 10000 /elem",
  [CMapOp.batch256]: "lookup_batch 256 /elem",
  [CMapOp.delete]: "delete",
};

const cLib = inProcC();
if (cLib === undefined) throw new Error("map bench: the in-process C baseline is needed");
const c = cLib;

function fail(what: string): never {
  throw new Error(`map bench: ${what}`);
}

const hasScan = typeof (BpfMap.prototype as { scan?: unknown }).scan === "function";

/** ns per op of `fn` (which runs `ops` operations). */
function timed(ops: number, fn: () => void): number {
  const t0 = clockNs();
  fn();
  return (clockNs() - t0) / ops;
}

/** C's ns per op for `op` on `fd`, failing on an error. */
function cRun(op: number, fd: number, passes: number): number {
  const t0 = clockNs();
  const ns = c.map(op, fd, N_KEYS, passes);
  const t1 = clockNs();
  if (ns < 0) fail(`C loop ${C_NAMES[op]} failed (errno ${-ns})`);
  const ops = op === CMapOp.updateNew || op === CMapOp.delete ? N_KEYS : N_KEYS * passes;
  return (t1 - t0) / ops;
}

/** One round on fresh maps: [TypeScript, C] ns per op for each row. */
function round(r: number): Record<Row, [number, number]> {
  const res = {} as Record<Row, [number, number]>;
  /** Runs the C loop and the TypeScript one on the same map, in an order that alternates. */
  const pair = (row: Row, fd: number, passes: number, ts: () => number): void => {
    const op = COMPARE[row][0];
    if (row.includes("scan") && !hasScan) { // a tree before scan() (before/after runs)
      res[row] = [NaN, cRun(op, fd, passes)];
      return;
    }
    if (r & 1) {
      const t = ts();
      res[row] = [t, cRun(op, fd, passes)];
    } else {
      const cNs = cRun(op, fd, passes);
      res[row] = [ts(), cNs];
    }
  };
  const newMap = (): BpfMap<Uint8Array, Uint8Array> =>
    BpfMap.create({ type: "hash", keySize: 4, valueSize: 8, maxEntries: MAX_ENTRIES });
  // C inserts and deletes on a map of its own.
  let cInsert: number, cDelete: number;
  {
    using mc = newMap();
    cInsert = cRun(CMapOp.updateNew, mc.fd, 1);
    cDelete = cRun(CMapOp.delete, mc.fd, 1);
  }
  // Raw: Uint8Array key and value, reused like C's stack variables.
  {
    using m = newMap();
    const key = new Uint8Array(new ArrayBuffer(4));
    const kv = new DataView(key.buffer);
    const value = new Uint8Array(new ArrayBuffer(8));
    const vv = new DataView(value.buffer);
    res["update new (raw)"] = [
      timed(N_KEYS, () => {
        for (let i = 0; i < N_KEYS; i++) {
          kv.setUint32(0, i, true);
          vv.setUint32(0, i, true);
          m.set(key, value);
        }
      }),
      cInsert,
    ];
    const all = N_KEYS * PASSES;
    pair("update existing (raw)", m.fd, PASSES, () =>
      timed(all, () => {
        for (let p = 0; p < PASSES; p++) {
          for (let i = 0; i < N_KEYS; i++) {
            kv.setUint32(0, i, true);
            vv.setUint32(0, i + p, true);
            m.set(key, value);
          }
        }
      }));
    pair("lookup hit (raw getInto)", m.fd, PASSES, () =>
      timed(all, () => {
        for (let p = 0; p < PASSES; p++) {
          for (let i = 0; i < N_KEYS; i++) {
            kv.setUint32(0, i, true);
            if (!m.getInto(key, value)) fail("lookup hit");
          }
        }
      }));
    pair("lookup hit (raw get)", m.fd, PASSES, () =>
      timed(all, () => {
        for (let p = 0; p < PASSES; p++) {
          for (let i = 0; i < N_KEYS; i++) {
            kv.setUint32(0, i, true);
            if (m.get(key) === undefined) fail("lookup hit");
          }
        }
      }));
    pair("lookup miss (raw)", m.fd, PASSES, () =>
      timed(all, () => {
        for (let p = 0; p < PASSES; p++) {
          for (let i = 0; i < N_KEYS; i++) {
            kv.setUint32(0, N_KEYS + i, true);
            if (m.getInto(key, value)) fail("lookup miss");
          }
        }
      }));
    for (
      const [row, chunk] of [
        ["lookup_batch chunk=10000 /elem", N_KEYS],
        ["lookup_batch chunk=256 /elem", 256],
      ] as const
    ) {
      const reader = m.batchReader(chunk);
      for (let n = reader.next(); n > 0 || !reader.done; n = reader.next()); // warm the buffers
      pair(row, m.fd, PASSES, () =>
        timed(all, () => {
          for (let p = 0; p < PASSES; p++) {
            reader.reset();
            let total = 0;
            for (let n = reader.next(); n > 0 || !reader.done; n = reader.next()) total += n;
            if (total !== N_KEYS) fail(`batch got ${total}`);
          }
        }));
    }
    // Whole-map iteration: raw Uint8Array keys and values.
    pair("entries({batch:false}) /entry", m.fd, PASSES, () =>
      timed(all, () => {
        let n = 0;
        for (let p = 0; p < PASSES; p++) {
          for (const [k, v] of m.entries({ batch: false })) n += k.length + v.length;
        }
        if (n !== all * 12) fail(`entries({batch:false}) saw ${n / 12}`);
      }));
    pair("entries() /entry", m.fd, PASSES, () =>
      timed(all, () => {
        let n = 0;
        for (let p = 0; p < PASSES; p++) {
          for (const [k, v] of m.entries()) n += k.length + v.length;
        }
        if (n !== all * 12) fail(`entries() saw ${n / 12}`);
      }));
    pair("scan({batch:false}) /entry", m.fd, PASSES, () =>
      timed(all, () => {
        let n = 0;
        const add = (k: Uint8Array, v: Uint8Array): void => void (n += k.length + v.length);
        for (let p = 0; p < PASSES; p++) m.scan(add, { batch: false });
        if (n !== all * 12) fail(`scan({batch:false}) saw ${n / 12}`);
      }));
    pair("scan() /entry", m.fd, PASSES, () =>
      timed(all, () => {
        let n = 0;
        const add = (k: Uint8Array, v: Uint8Array): void => void (n += k.length + v.length);
        for (let p = 0; p < PASSES; p++) m.scan(add);
        if (n !== all * 12) fail(`scan() saw ${n / 12}`);
      }));

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
    pair("floor: sys().bpf lookup", m.fd, PASSES, () =>
      timed(all, () => {
        for (let p = 0; p < PASSES; p++) {
          for (let i = 0; i < N_KEYS; i++) {
            fkv.setUint32(0, i, true);
            if (s.bpf(BpfCmd.MAP_LOOKUP_ELEM, attr, 32) < 0) fail("floor lookup");
          }
        }
      }));
    pair("floor: sys().bpf update", m.fd, PASSES, () =>
      timed(all, () => {
        for (let p = 0; p < PASSES; p++) {
          for (let i = 0; i < N_KEYS; i++) {
            fkv.setUint32(0, i, true);
            if (s.bpf(BpfCmd.MAP_UPDATE_ELEM, attr, 32) < 0) fail("floor update");
          }
        }
      }));
    res["delete (raw)"] = [
      timed(N_KEYS, () => {
        for (let i = 0; i < N_KEYS; i++) {
          kv.setUint32(0, i, true);
          if (!m.delete(key)) fail("delete");
        }
      }),
      cDelete,
    ];
  }
  // Typed: u32 keys as numbers, u64 values as bigints (the same layout as C's).
  {
    using m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: MAX_ENTRIES });
    cRun(CMapOp.updateNew, m.fd, 1);
    const all = N_KEYS * PASSES;
    pair("update existing (typed)", m.fd, PASSES, () =>
      timed(all, () => {
        for (let p = 0; p < PASSES; p++) {
          for (let i = 0; i < N_KEYS; i++) m.set(i, BigInt(i + p));
        }
      }));
    let sum = 0n;
    pair("lookup hit (typed)", m.fd, PASSES, () =>
      timed(all, () => {
        for (let p = 0; p < PASSES; p++) {
          for (let i = 0; i < N_KEYS; i++) sum += m.get(i) ?? fail("typed lookup");
        }
      }));
    if (sum === 0n) fail("typed sum");
    let keys = 0;
    pair("typed entries() /entry", m.fd, PASSES, () =>
      timed(all, () => {
        for (let p = 0; p < PASSES; p++) {
          for (const [k] of m.entries()) keys += k;
        }
      }));
    pair("typed scan() /entry", m.fd, PASSES, () =>
      timed(all, () => {
        const add = (k: number): void => void (keys += k);
        for (let p = 0; p < PASSES; p++) {
          if (m.scan(add) !== N_KEYS) fail("typed scan");
        }
      }));
    pair("typed batchLookup() /elem", m.fd, PASSES, () =>
      timed(all, () => {
        for (let p = 0; p < PASSES; p++) {
          const got = m.batchLookup();
          if (got.length !== N_KEYS) fail(`typed batchLookup got ${got.length}`);
          keys += got[0][0];
        }
      }));
    // The columnar view: decode only the fields read, no pairs.
    const reader = m.batchReader(256);
    let vsum = 0n;
    pair("typed batchReader key(i)/value(i)", m.fd, PASSES, () =>
      timed(all, () => {
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
      }));
    if (vsum === 0n || keys === 0) fail("typed reader sums");
    res["delete (typed)"] = [
      timed(N_KEYS, () => {
        for (let i = 0; i < N_KEYS; i++) if (!m.delete(i)) fail("typed delete");
      }),
      cDelete,
    ];
  }
  return res;
}

round(0); // warm-up (JIT), not counted
const rounds: Record<Row, [number, number]>[] = [];
for (let r = 0; r < ROUNDS; r++) rounds.push(round(r + 1));

console.log(
  `# map_bench (${runtime}): hash u32 → u64, max_entries ${MAX_ENTRIES}, ${N_KEYS} keys; ${ROUNDS} rounds, C raw bpf(2) loops in the same process beside each row, in turn, ${clockName}; medians, ratio = median of per-round ratios`,
);
const num = (x: number) => x.toFixed(1).padStart(8);
console.log(
  `${"operation".padEnd(34)} ${"ts ns".padStart(8)} ${"C ns".padStart(8)}  ${"C loop".padEnd(24)} ${
    "ratio".padStart(7)
  }  target`,
);
/** Single-op rows and the FFI floor they are compared with (ns over it, same round). */
const FLOOR: Partial<Record<Row, Row>> = {
  "update existing (raw)": "floor: sys().bpf update",
  "lookup hit (raw getInto)": "floor: sys().bpf lookup",
  "lookup hit (raw get)": "floor: sys().bpf lookup",
  "lookup miss (raw)": "floor: sys().bpf lookup",
  "update existing (typed)": "floor: sys().bpf update",
  "lookup hit (typed)": "floor: sys().bpf lookup",
};
let misses = 0;
for (const row of Object.keys(COMPARE) as Row[]) {
  const ts = median(rounds.map((x) => x[row][0]));
  const cNs = median(rounds.map((x) => x[row][1]));
  const ratio = median(rounds.map((x) => x[row][0] / x[row][1]));
  const [op, target] = COMPARE[row];
  const ok = ratio <= target ? "ok" : "MISS";
  if (ok === "MISS") misses++;
  const floor = FLOOR[row];
  const over = floor === undefined
    ? ""
    : `  ${median(rounds.map((x) => x[row][0] - x[floor][0])).toFixed(0)} ns over the floor`;
  console.log(
    `${row.padEnd(34)} ${num(ts)} ${num(cNs)}  ${C_NAMES[op].padEnd(24)} ${
      `${ratio.toFixed(3)}×`.padStart(7)
    }  ≤${target.toFixed(2)} ${ok}${over}`,
  );
}
console.log(misses === 0 ? "# all within target" : `# ${misses} rows above target`);
