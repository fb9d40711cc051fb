/**
 * A seeded generator of random but plausible BPF programs for differential testing of the deep
 * checker against the kernel: map lookups with and without NULL checks, packet access with and
 * without bounds checks, stack stores and loads, context reads, branches on unknown values,
 * bounded loops, helper calls, ring buffer reservations and BPF-to-BPF calls.
 */
import type { Insn } from "../lib/insn/insn.ts";

/** Maps a generated program may reference, by role. */
export interface GenMaps {
  hash: number; // fd: hash, key 4, value 16
  array: number; // fd: array, key 4, value 48
  ringbuf: number; // fd: ringbuf
}

export interface GenProgram {
  type: "xdp" | "sched_cls" | "socket_filter" | "cgroup_skb";
  insns: Insn[];
  seed: number;
}

/** mulberry32. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Item = Insn | { jmp: Insn; label: string } | { label: string };

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});
const mov = (d: number, imm: number) => I(0xb7, d, 0, 0, imm);
const movr = (d: number, s: number) => I(0xbf, d, s);
const add = (d: number, imm: number) => I(0x07, d, 0, 0, imm);
const addr = (d: number, s: number) => I(0x0f, d, s);
const ldx = (size: number, d: number, s: number, off: number) => I(0x61 | sz(size), d, s, off);
const stx = (size: number, d: number, s: number, off: number) => I(0x63 | sz(size), d, s, off);
const st = (size: number, d: number, off: number, imm: number) =>
  I(0x62 | sz(size), d, 0, off, imm);
const call = (id: number) => I(0x85, 0, 0, 0, id);
const exit = () => I(0x95);
function sz(size: number): number {
  return size === 4 ? 0x00 : size === 2 ? 0x08 : size === 1 ? 0x10 : 0x18;
}

/**
 * Generates one program from `seed`.
 */
export function generate(seed: number, maps: GenMaps): GenProgram {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const chance = (p: number) => r() < p;
  const type = pick(["xdp", "sched_cls", "socket_filter", "cgroup_skb"] as const);
  const pkt = type === "xdp" || type === "sched_cls";
  const items: Item[] = [];
  let labels = 0;
  const label = () => `L${labels++}`;
  const push = (...x: Item[]) => items.push(...x);
  const jmpTo = (code: number, d: number, s: number, imm: number, l: string) =>
    push({ jmp: I(code, d, s, 0, imm), label: l });

  push(movr(6, 1));
  if (pkt) {
    const [dOff, eOff] = type === "xdp" ? [0, 4] : [76, 80];
    push(ldx(4, 7, 6, dOff), ldx(4, 8, 6, eOff));
  }
  let hasSub = false;
  const n = 1 + Math.floor(r() * 5);
  for (let k = 0; k < n; k++) {
    const what = pick([
      "lookup",
      "lookup",
      "pkt",
      "pkt",
      "stack",
      "ctx",
      "branch",
      "loop",
      "helper",
      "index",
      "ringbuf",
      "sub",
      "uninit",
    ]);
    switch (what) {
      case "lookup": {
        const useArray = chance(0.5);
        const vs = useArray ? 48 : 16;
        const keyOff = pick([-4, -4, -4, -8, -2]);
        if (chance(0.85)) push(st(4, 10, -4, Math.floor(r() * 4)));
        push(I(0x18, 1, 1, 0, useArray ? maps.array : maps.hash), I(0, 0, 0, 0, 0));
        push(movr(2, 10), add(2, keyOff), call(1));
        const out = label();
        const check = chance(0.7);
        if (check) jmpTo(0x15, 0, 0, 0, out);
        const size = pick([1, 2, 4, 8]);
        const off = pick([0, 0, 8, vs - size, vs - size + 1, vs, -8, 4]);
        if (chance(0.5)) push(ldx(size, 3, 0, off));
        else push(st(size, 0, off, 7));
        push({ label: out });
        break;
      }
      case "pkt": {
        if (!pkt) {
          push(ldx(4, 2, 6, pick([76, 80, 0, 4])));
          break;
        }
        const n2 = pick([1, 8, 14, 20, 34]);
        const out = label();
        push(movr(2, 7), add(2, n2));
        const form = pick(["gt", "ge", "lt", "none"]);
        if (form === "gt") jmpTo(0x2d, 2, 8, 0, out); // if r2 > r8 goto out
        else if (form === "ge") jmpTo(0x3d, 2, 8, 0, out); // if r2 >= r8 goto out
        else if (form === "lt") {
          const ok = label();
          jmpTo(0xad, 2, 8, 0, ok); // if r2 < r8 goto ok
          push({ jmp: I(0x05), label: out });
          push({ label: ok });
        }
        const size = pick([1, 2, 4]);
        const off = pick([0, n2 - size, n2 - size + 1, n2, n2 - 1]);
        if (chance(0.7)) push(ldx(size, 3, 7, off));
        else push(st(size, 7, off, 1));
        push({ label: out });
        break;
      }
      case "stack": {
        const off = pick([-8, -16, -24, -512, -516, -4, 0, -3]);
        const size = pick([1, 2, 4, 8]);
        if (chance(0.6)) push(st(size, 10, off, Math.floor(r() * 100)));
        const roff = chance(0.7) ? off : pick([-8, -32, -40]);
        push(ldx(size, 3, 10, roff));
        break;
      }
      case "ctx": {
        const off = pick([0, 4, 8, 16, 24, 48, 52, 72, 76, 80, 140, 88, 100, 200, 2, 3]);
        const size = pick([1, 2, 4, 4, 4, 8]);
        if (chance(0.8)) push(ldx(size, 3, 6, off));
        else push(stx(size, 6, 3, off), mov(3, 0));
        break;
      }
      case "branch": {
        push(call(7), movr(3, 0));
        const out = label();
        jmpTo(pick([0x25, 0xa5, 0x15, 0x55, 0x65, 0x35]), 3, 0, Math.floor(r() * 20), out);
        push(mov(4, 1));
        push({ label: out });
        break;
      }
      case "loop": {
        const top = label();
        push(mov(4, 0), { label: top }, add(4, 1));
        jmpTo(0xa5, 4, 0, 2 + Math.floor(r() * 6), top);
        break;
      }
      case "helper": {
        const h = pick(["ktime", "prandom", "printk"]);
        if (h === "ktime") push(call(5));
        else if (h === "prandom") push(call(7));
        else {
          push(
            st(8, 10, -16, 0x0a7325),
            movr(1, 10),
            add(1, -16),
            mov(2, pick([4, 8, 16, 0])),
            call(6),
          );
        }
        break;
      }
      case "index": {
        push(st(4, 10, -4, 0));
        push(I(0x18, 1, 1, 0, maps.hash), I(0, 0, 0, 0, 0));
        push(movr(2, 10), add(2, -4), call(1));
        const out = label();
        jmpTo(0x15, 0, 0, 0, out);
        push(movr(9, 0));
        push(call(7), movr(3, 0));
        const form = pick(["and", "cmp", "none"]);
        if (form === "and") push(I(0x57, 3, 0, 0, pick([7, 15, 31, 63])));
        else if (form === "cmp") jmpTo(0x25, 3, 0, pick([10, 14, 15, 16]), out);
        push(addr(9, 3), ldx(1, 3, 9, 0));
        push({ label: out });
        break;
      }
      case "ringbuf": {
        push(I(0x18, 1, 1, 0, maps.ringbuf), I(0, 0, 0, 0, 0));
        push(mov(2, pick([8, 16])), mov(3, 0), call(131));
        const out = label();
        if (chance(0.8)) jmpTo(0x15, 0, 0, 0, out);
        push(st(8, 0, pick([0, 8]), 1));
        if (chance(0.7)) push(movr(1, 0), mov(2, 0), call(pick([132, 133])));
        push({ label: out });
        break;
      }
      case "sub":
        push(mov(1, Math.floor(r() * 5)), { jmp: I(0x85, 0, 1, 0, 0), label: "SUB" }, movr(3, 0));
        hasSub = true;
        break;
      case "uninit":
        push(movr(3, pick([9, 4, 5])));
        break;
    }
  }
  const ret = pick([0, 1, 2, 3, -1]);
  if (chance(0.95)) push(mov(0, ret));
  push(exit());
  if (hasSub) {
    push({ label: "SUB" }, movr(0, 1), add(0, 1));
    if (chance(0.3)) push(ldx(8, 2, 10, -8));
    push(exit());
  }
  return { type, insns: resolve(items), seed };
}

function resolve(items: Item[]): Insn[] {
  const at = new Map<string, number>();
  let pc = 0;
  for (const it of items) {
    if ("label" in it && !("jmp" in it)) at.set(it.label, pc);
    else pc++;
  }
  const out: Insn[] = [];
  for (const it of items) {
    if ("jmp" in it) {
      const t = at.get(it.label)!;
      const rel = t - out.length - 1;
      if (it.jmp.code === 0x85) out.push({ ...it.jmp, imm: rel });
      else out.push({ ...it.jmp, off: rel });
    } else if (!("label" in it)) out.push(it);
  }
  return out;
}
