/**
 * The selftest-like corpus (tests/fixtures/verifier/selftest_like.txt): hand-written verifier test
 * programs in the style of the kernel's verifier selftests, with the maps they use described as
 * data and created for real, and the kernel's recorded verdicts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assemble } from "../lib/insn/asm.ts";
import type { Insn } from "../lib/insn/insn.ts";
import type { MapDescription } from "../lib/verifier/maps.ts";
import { BpfMap } from "../lib/map/map.ts";
import { loadBtf } from "../lib/map/btf_load.ts";
import { Program } from "../lib/program/program.ts";
import { spinLock, struct, u32, u64 } from "../lib/codec/mod.ts";
import { MapFlag } from "../types/flags.ts";
import { repoRoot } from "./util.ts";
import { BtfBuilder } from "./btf_builder.ts";
import { BTF_KIND } from "../lib/btf/mod.ts";

/** One program of the corpus. */
export interface SelftestCase {
  name: string;
  type: string;
  src: string;
}

/** The kernel's verdict on one program: `null` accepted, else the last lines of its log. */
export type Verdicts = Record<string, string | null>;

const DIR = join(repoRoot, "tests/fixtures/verifier");

/** The corpus programs, in file order. */
export function loadCases(): SelftestCase[] {
  const text = readFileSync(join(DIR, "selftest_like.txt"), "utf8");
  const out: SelftestCase[] = [];
  let cur: SelftestCase | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("=== ")) {
      cur = { name: line.slice(4).trim(), type: "xdp", src: "" };
      out.push(cur);
    } else if (cur === undefined || line.startsWith("#")) {
      continue;
    } else if (/^type: /.test(line)) cur.type = line.slice(6).trim();
    else cur.src += line + "\n";
  }
  return out;
}

/** The recorded verdicts (and the kfunc ids they were recorded with). */
export function loadVerdicts(): {
  kernel: string;
  kfuncs: Record<string, number>;
  verdicts: Verdicts;
} {
  return JSON.parse(readFileSync(join(DIR, "selftest_like.verdicts.json"), "utf8"));
}

/** The maps of the corpus, as data (the checker's input) and as the kernel creates them. */
export const MAPS: Record<string, MapDescription> = {
  hash8: { type: "hash", keySize: 8, valueSize: 8, maxEntries: 16 },
  hash48: { type: "hash", keySize: 8, valueSize: 48, maxEntries: 16 },
  array48: { type: "array", keySize: 4, valueSize: 48, maxEntries: 4 },
  rdonly: { type: "array", keySize: 4, valueSize: 8, maxEntries: 1, flags: MapFlag.RDONLY_PROG },
  ringbuf: { type: "ringbuf", keySize: 0, valueSize: 0, maxEntries: 4096 },
  progs: { type: "prog_array", keySize: 4, valueSize: 4, maxEntries: 4 },
  perf: { type: "perf_event_array", keySize: 4, valueSize: 4, maxEntries: 4 },
  lockmap: { type: "array", keySize: 4, valueSize: 16, maxEntries: 1, btf: {}, spinLock: 0 },
};

/** Fake fds for checking without a kernel: 100, 101, … in MAPS order. */
export const FAKE_FDS: Record<string, number> = Object.fromEntries(
  Object.keys(MAPS).map((n, i) => [n, 100 + i]),
);

/** Creates the corpus maps in the kernel; the caller closes them. */
export function createMaps(): Record<string, BpfMap> {
  const out: Record<string, BpfMap> = {};
  for (const [name, d] of Object.entries(MAPS)) {
    if (name === "lockmap") {
      out[name] = BpfMap.create({
        type: "array",
        maxEntries: 1,
        key: u32,
        value: struct({ lock: spinLock, n: u32, total: u64 }),
      }) as unknown as BpfMap;
    } else {
      out[name] = BpfMap.create({
        type: d.type as string,
        keySize: d.keySize,
        valueSize: d.valueSize,
        maxEntries: d.maxEntries,
        flags: d.flags ?? 0,
      }) as unknown as BpfMap;
    }
  }
  return out;
}

/** The map descriptions keyed by the given fds. */
export function describedMaps(fds: Record<string, number>): Record<number, MapDescription> {
  return Object.fromEntries(Object.entries(MAPS).map(([n, d]) => [fds[n], d]));
}

/** Assembles a case with map names and kfunc names resolved. */
export function assembleCase(
  c: SelftestCase,
  fds: Record<string, number>,
  kfuncs: Record<string, number>,
): Insn[] {
  const src = c.src.replace(/kfunc\[([a-z_]\w*)\]/g, (_, n: string) => {
    const id = kfuncs[n];
    if (id === undefined) throw new Error(`${c.name}: kfunc ${n} has no id`);
    return `kfunc[${id}]`;
  });
  return assemble(src, { maps: fds });
}

/** The kfunc names the corpus uses. */
export function kfuncNames(cases: SelftestCase[]): string[] {
  const s = new Set<string>();
  for (const c of cases) for (const m of c.src.matchAll(/kfunc\[([a-z_]\w*)\]/g)) s.add(m[1]);
  return [...s].sort();
}

/**
 * Program BTF with one `int f(void)` function record per subprogram, as clang would give, for
 * programs that pass callbacks (the kernel wants func_info there); `undefined` for the others.
 */
export function funcInfoBtf(
  insns: readonly Insn[],
): { blob: Uint8Array; funcInfo: { insn: number; typeId: number }[] } | undefined {
  const starts = new Set<number>([0]);
  let callback = false;
  for (let i = 0; i < insns.length; i++) {
    const x = insns[i];
    if (x.code === 0x85 && x.src === 1) starts.add(i + 1 + x.imm);
    if (x.code === 0x18 && x.src === 4) {
      starts.add(i + 1 + x.imm);
      callback = true;
    }
  }
  if (!callback) return undefined;
  const b = new BtfBuilder();
  const int = b.type(BTF_KIND.int, "int", 0, 4, false, (1 << 24) | 32);
  const proto = b.type(BTF_KIND.func_proto, "", 0, int);
  const funcInfo = [...starts].sort((x, y) => x - y).map((insn, i) => ({
    insn,
    typeId: b.type(BTF_KIND.func, `f${i}`, 0, proto),
  }));
  return { blob: b.build(), funcInfo };
}

/**
 * Loads a case in the kernel (with func_info BTF when it has callbacks); throws its refusal. With
 * `logLevel`, the verifier log is kept (level 4: statistics, with the verification time).
 */
export function loadInKernel(c: SelftestCase, insns: Insn[], logLevel?: number): Program {
  const fi = funcInfoBtf(insns);
  const btf = fi ? loadBtf(fi.blob) : undefined;
  try {
    return Program.load({
      type: c.type,
      insns,
      license: "GPL",
      check: false,
      ...(logLevel !== undefined ? { logLevel } : {}),
      ...(fi && btf ? { btfFd: btf.fd, funcInfo: fi.funcInfo } : {}),
    });
  } finally {
    btf?.close();
  }
}
