/**
 * The fuzz targets: each takes one input (bytes; the assembler's is UTF-8 text), calls the public
 * API with it and lets errors out. `tests/fuzz_harness.ts` runs them on mutated inputs and treats
 * any error that is not one of the library's own classes (see {@link isLibraryError}) as a bug.
 * The `api` target calls the pure modules' public functions with hostile arguments chosen by the
 * input bytes: a raw `TypeError` or `RangeError` from any of them is a bug too.
 * Pure: no target touches the kernel.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Btf, BtfError, parseBtf } from "../lib/btf/mod.ts";
import { checkProgram, PreloadCheckError } from "../lib/check/mod.ts";
import { CodecError } from "../lib/codec/codec.ts";
import { codecFromBtf } from "../lib/codec/from_btf.ts";
import {
  array,
  bool,
  bytes,
  cstring,
  f32,
  f64,
  i16,
  i32,
  i64,
  i8,
  struct,
  u16,
  u32,
  u64,
  u8,
} from "../lib/codec/mod.ts";
import type { Codec } from "../lib/codec/codec.ts";
import { applyCoreRelocations, resolveCoreRelo } from "../lib/elf/core.ts";
import { parseBtfExt } from "../lib/elf/btf_ext.ts";
import { ElfError, ObjectError } from "../lib/elf/error.ts";
import { fixupBtf } from "../lib/btf/elf_fixup.ts";
import { ObjectSpec } from "../lib/elf/spec.ts";
import { parseElf } from "../lib/elf/elf.ts";
import { assemble } from "../lib/insn/asm.ts";
import { AsmError } from "../lib/insn/asm_error.ts";
import { disassemble } from "../lib/insn/disasm.ts";
import { decodeInsns } from "../lib/insn/insn.ts";
import { ArgumentError, BpfError, ClosedError } from "../lib/errors.ts";
import * as insnApi from "../lib/insn/mod.ts";
import * as codecApi from "../lib/codec/mod.ts";
import * as checkApi from "../lib/check/mod.ts";
import * as btfApi from "../lib/btf/mod.ts";
import * as progtypeApi from "../lib/progtype/mod.ts";
import * as typesApi from "../types/mod.ts";
import { repoRoot } from "./util.ts";

/** The error classes the library may let out of a public function. */
const LIBRARY_ERRORS = [
  ElfError,
  ObjectError,
  BtfError,
  AsmError,
  CodecError,
  PreloadCheckError,
  BpfError,
  ClosedError,
  ArgumentError,
];

/** Whether `e` is one of the library's own errors (a raw TypeError/RangeError/Error is not). */
export function isLibraryError(e: unknown): boolean {
  return LIBRARY_ERRORS.some((c) => e instanceof c);
}

/** One fuzz target. */
export interface FuzzTarget {
  /** Name, as given to `deno task fuzz`. */
  readonly name: string;
  /** Inputs the mutations start from. */
  corpus(): Uint8Array[];
  /** Whether inputs are text (mutated as text). */
  readonly text?: boolean;
  /** Feeds one input to the library. */
  run(input: Uint8Array): void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Every committed BPF object file (tests/fixtures, examples). */
export function objectFiles(): string[] {
  const out: string[] = [];
  for (const dir of ["tests/fixtures/elf", "tests/fixtures/insn", "examples/bpf"]) {
    for (const f of readdirSync(join(repoRoot, dir))) {
      if (f.endsWith(".o")) out.push(join(repoRoot, dir, f));
    }
  }
  return out.sort();
}

let objectsCache: Uint8Array[] | undefined;
function objects(): Uint8Array[] {
  return objectsCache ??= objectFiles().map((f) => new Uint8Array(readFileSync(f)));
}

/** The `.BTF` and `.BTF.ext` of the objects that have them. */
function btfSections(): { btf: Uint8Array; ext: Uint8Array | undefined }[] {
  const out: { btf: Uint8Array; ext: Uint8Array | undefined }[] = [];
  for (const o of objects()) {
    const elf = parseElf(o);
    const b = elf.section(".BTF");
    if (b === undefined) continue;
    out.push({ btf: b.data.slice(), ext: elf.section(".BTF.ext")?.data.slice() });
  }
  return out;
}

/** Walks every type of `btf` through the type-graph API and codecs; library errors are fine. */
function walkBtf(btf: Btf): void {
  const n = Math.min(btf.types.length, 4096);
  for (let id = 0; id < n; id++) {
    const t = btf.types[id];
    for (
      const f of [
        () => btf.resolve(id),
        () => btf.sizeOf(id),
        () => (t.kind === "struct" || t.kind === "union") && btf.fields(id),
        () => {
          const c = codecFromBtf(btf, id);
          if (c.size <= 1 << 16) c.decode(new DataView(new ArrayBuffer(c.size)), 0);
        },
      ]
    ) {
      try {
        f();
      } catch (e) {
        if (!isLibraryError(e)) throw e;
      }
    }
  }
  btf.lookup("x");
}

/** The BTF with CO-RE relocations that the BTF.ext target decodes against. */
let coreBtf: { btf: Btf; ext: Uint8Array } | undefined;
function coreObject(): { btf: Btf; ext: Uint8Array } {
  if (coreBtf === undefined) {
    const elf = parseElf(
      new Uint8Array(readFileSync(join(repoRoot, "tests/fixtures/elf/core.bpf.o"))),
    );
    coreBtf = {
      btf: parseBtf(elf.section(".BTF")!.data),
      ext: elf.section(".BTF.ext")!.data.slice(),
    };
  }
  return coreBtf;
}

const elfTarget: FuzzTarget = {
  name: "elf",
  corpus: objects,
  run(input) {
    const spec = ObjectSpec.parse(input);
    for (const m of spec.maps) {
      for (const id of [m.keyTypeId ?? 0, m.valueTypeId ?? 0]) {
        if (id !== 0 && spec.types !== undefined) {
          try {
            codecFromBtf(spec.types, id);
          } catch (e) {
            if (!isLibraryError(e)) throw e;
          }
        }
      }
    }
    if (spec.btf !== undefined) fixupBtf(spec.btf, spec.elf);
    for (const p of spec.programs) {
      disassemble(p.insns);
      if (p.btfExt.coreRelos.length > 0 && spec.types !== undefined) {
        try {
          applyCoreRelocations(p.insns.slice(), p.btfExt.coreRelos, spec.types, spec.types);
        } catch (e) {
          if (!isLibraryError(e)) throw e;
        }
      }
    }
  },
};

const btfTarget: FuzzTarget = {
  name: "btf",
  corpus: () => btfSections().map((s) => s.btf),
  run(input) {
    walkBtf(parseBtf(input));
  },
};

const btfExtTarget: FuzzTarget = {
  name: "btf_ext",
  corpus: () => [coreObject().ext, ...btfSections().flatMap((s) => s.ext ? [s.ext] : [])],
  run(input) {
    const { btf } = coreObject();
    const ext = parseBtfExt(input, btf, 0);
    for (const r of ext.coreRelos) {
      try {
        resolveCoreRelo({ insn: 0, typeId: r.typeId, access: r.access, kind: r.kind }, btf, btf);
      } catch (e) {
        if (!isLibraryError(e)) throw e;
      }
    }
  },
};

/** Programs of the committed objects as text, the assembler's corpus. */
function programTexts(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const o of objects()) {
    try {
      for (const p of ObjectSpec.parse(o).programs) {
        out.push(enc.encode(disassemble(p.insns)));
        out.push(enc.encode(disassemble(p.insns, { syntax: "classic" })));
      }
    } catch {
      // Objects the loader refuses on purpose (no license…) have no programs to give.
    }
  }
  out.push(enc.encode(
    "r1 = 0x1122334455667788 ll\nr2 = -1 ll\n*(u32 *)(r10 - 4) = w1\nlock *(u64 *)(r10 - 8) += r1\n" +
      "if r1 s> 0x7fffffff goto +1\nr0 = be16 r0\ncall 1\nexit",
  ));
  return out;
}

const asmTarget: FuzzTarget = {
  name: "asm",
  text: true,
  corpus: programTexts,
  run(input) {
    const text = dec.decode(input);
    for (const syntax of ["auto", "llvm", "classic"] as const) {
      let insns;
      try {
        insns = assemble(text, { syntax });
      } catch (e) {
        if (!isLibraryError(e)) throw e;
        continue;
      }
      // What the disassembler prints, the assembler reads back.
      assemble(disassemble(insns));
    }
  },
};

/** Linked program instructions of the committed objects. */
function programInsns(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const o of objects()) {
    try {
      for (const p of ObjectSpec.parse(o).programs) out.push(p.insns.slice());
    } catch {
      // see programTexts
    }
  }
  return out;
}

const disasmTarget: FuzzTarget = {
  name: "disasm",
  corpus: programInsns,
  run(input) {
    const insns = input.subarray(0, input.length - (input.length % 8));
    const text = disassemble(insns);
    disassemble(insns, { syntax: "classic" });
    // The llvm syntax the disassembler prints assembles back to the same instructions.
    assemble(text);
  },
};

const checkerTarget: FuzzTarget = {
  name: "checker",
  corpus: programInsns,
  run(input) {
    const insns = input.subarray(0, input.length - (input.length % 8));
    const types = ["socket_filter", "xdp", "kprobe", "tracepoint", "sched_cls", "cgroup_skb"];
    const type = types[(input[0] ?? 0) % types.length];
    for (const privileged of [true, false]) {
      checkProgram({ type, insns, license: input.length % 3 === 0 ? "MIT" : "GPL", privileged });
    }
    decodeInsns(insns);
  },
};

/** Codecs the codec target picks from: built-in ones and some from BTF. */
function codecPool(): Codec<unknown>[] {
  const pool: Codec<unknown>[] = [
    u8,
    i8,
    u16,
    i16,
    u32,
    i32,
    u64,
    i64,
    f32,
    f64,
    bool,
    bytes(3),
    cstring(8),
    array(u32, 3),
    struct({ a: u8, b: u64, c: array(i16, 2) }),
  ] as Codec<unknown>[];
  for (const s of btfSections()) {
    const btf = parseBtf(s.btf);
    for (const t of btf.types) {
      if (t.kind !== "struct" && t.kind !== "array") continue;
      try {
        const c = codecFromBtf(btf, t.id);
        if (c.size <= 256) pool.push(c);
      } catch {
        // bitfields and the like have no codec
      }
    }
  }
  return pool;
}
let poolCache: Codec<unknown>[] | undefined;

/** Values the codec target encodes, chosen by input bytes. */
const VALUES: readonly unknown[] = [
  0,
  1,
  -1,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 31,
  2 ** 32,
  2 ** 40,
  2 ** 53,
  -(2 ** 63),
  0n,
  -1n,
  2n ** 64n,
  -(2n ** 63n),
  "",
  "abc",
  "x".repeat(300),
  true,
  null,
  undefined,
  {},
  [],
  [1, 2, 3],
  new Uint8Array(3),
  new Uint8Array(0),
  { a: 1, b: 2n, c: [1, 2] },
  Symbol.iterator,
];
const OFFSETS: readonly number[] = [0, 1, 3, 8, -1, NaN, 1.5, 2 ** 32, Infinity, -0];

const codecTarget: FuzzTarget = {
  name: "codec",
  corpus: () => [new Uint8Array(16), Uint8Array.from({ length: 32 }, (_, i) => i * 37)],
  run(input) {
    const pool = poolCache ??= codecPool();
    for (let i = 0; i + 4 <= input.length; i += 4) {
      const c = pool[input[i] % pool.length];
      const len = input[i + 1] % (c.size + 4);
      const buf = new ArrayBuffer(len + 8);
      const view = new DataView(buf, input[i + 3] % 8, len);
      const off = input[i + 2] & 0x80 ? OFFSETS[input[i + 2] % OFFSETS.length] : input[i + 2] % 4;
      try {
        if (input[i + 3] & 0x80) {
          c.encode(VALUES[input[i + 3] % VALUES.length], view, off);
        } else {
          const v = c.decode(view, off);
          // What was decoded encodes back.
          c.encode(v, view, off);
        }
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
      }
    }
  },
};

/**
 * Public functions of the pure modules that the `api` target calls with hostile arguments. Those
 * that change global state (the program-type registry) or only build other functions are left out.
 */
const API_EXCLUDE = new Set([
  "registerProgType",
  "unregisterProgType",
  "resetProgTypes",
  "progTypes",
  "AsmError",
  "CodecError",
  "BtfError",
  "PreloadCheckError",
  // Building blocks of program-type definitions and layouts (they take functions and tables):
  "cases",
  "ctxAccess",
  "exceptAttach",
  "first",
  "forAttach",
  "guard",
  "ifdef",
  "opsFromProtoFn",
  "funcProtoOf",
  "defineLayout",
  // Message helpers for findings (their input comes from checkProgram):
  "findingSnippet",
  // The deep checker's instruction semantics (lib/verifier works on checked programs):
  "decodeSemantics",
]);

type AnyFn = (...args: unknown[]) => unknown;

function apiFunctions(): [string, AnyFn][] {
  const out: [string, AnyFn][] = [];
  const modules: [string, Record<string, unknown>][] = [
    ["insn", insnApi],
    ["codec", codecApi],
    ["check", checkApi],
    ["btf", btfApi],
    ["progtype", progtypeApi],
    ["types", typesApi],
  ];
  for (const [mod, ns] of modules) {
    for (const [name, v] of Object.entries(ns).sort(([a], [b]) => a < b ? -1 : 1)) {
      if (typeof v !== "function" || API_EXCLUDE.has(name)) continue;
      const isClass = /^class\b/.test(Function.prototype.toString.call(v));
      out.push([
        `${mod}.${name}`,
        isClass
          ? (...a: unknown[]) => new (v as new (...a: unknown[]) => unknown)(...a)
          : v as AnyFn,
      ]);
    }
  }
  // The builder's methods, each on a fresh builder (then built).
  const proto = insnApi.InsnBuilder.prototype;
  for (const name of Object.getOwnPropertyNames(proto).sort()) {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    if (name === "constructor" || typeof d?.value !== "function") continue;
    out.push([`InsnBuilder#${name}`, (...a: unknown[]) => {
      const b = new insnApi.InsnBuilder() as unknown as Record<string, AnyFn>;
      b[name](...a);
      (b as unknown as { build(): unknown }).build();
    }]);
  }
  out.push(["ObjectSpec.parse", (...a: unknown[]) => ObjectSpec.parse(a[0] as Uint8Array)]);
  out.push(["parseElf", (...a: unknown[]) => parseElf(a[0] as Uint8Array)]);
  out.push([
    "parseBtfExt",
    (...a: unknown[]) => parseBtfExt(a[0] as Uint8Array, coreObject().btf, a[1] as number),
  ]);
  out.push(["resolveCoreRelo", (...a: unknown[]) =>
    resolveCoreRelo(
      { insn: 0, typeId: a[0] as number, access: a[1] as string, kind: a[2] as number },
      coreObject().btf,
      coreObject().btf,
    )]);
  return out;
}
let apiCache: [string, AnyFn][] | undefined;

/** Argument values the api target passes, chosen by input bytes. */
const ARGS: readonly unknown[] = [
  ...VALUES,
  insnApi.R0,
  insnApi.R1,
  insnApi.R10,
  "r0 = 1\nexit",
  "hash",
  "xdp",
  "socket_filter",
  "0:1",
  "0:".repeat(2000) + "0",
  "w",
  "dw",
  "add",
  "jeq",
  -(2 ** 31),
  2 ** 31 - 1,
  0xffffffff,
  65536,
  { code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 },
  [{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }],
  [{ code: 0x18 }],
  new Uint8Array([0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]),
  new Uint8Array(7),
  { type: "socket_filter", insns: [] },
  { type: "xdp", insns: new Uint8Array(16), license: "GPL" },
  { syntax: "classic" },
  { syntax: 5 },
  { maps: { m: 3 } },
  { maps: () => 1.5 },
  u32,
  () => undefined,
];

const apiTarget: FuzzTarget = {
  name: "api",
  corpus: () => [new Uint8Array(8), Uint8Array.from({ length: 24 }, (_, i) => i * 11)],
  run(input) {
    const fns = apiCache ??= apiFunctions();
    for (let i = 0; i + 6 <= input.length; i += 6) {
      const [, fn] = fns[(input[i] | (input[i + 1] << 8)) % fns.length];
      const argc = input[i + 2] % 5;
      const args = [input[i + 3], input[i + 4], input[i + 5], input[i + 3] ^ input[i + 5]]
        .slice(0, argc).map((b) => ARGS[b % ARGS.length]);
      try {
        fn(...args);
      } catch (e) {
        if (!isLibraryError(e)) throw e;
      }
    }
  },
};

/** Every target by name. */
export const TARGETS: Readonly<Record<string, FuzzTarget>> = {
  elf: elfTarget,
  btf: btfTarget,
  btf_ext: btfExtTarget,
  asm: asmTarget,
  disasm: disasmTarget,
  codec: codecTarget,
  checker: checkerTarget,
  api: apiTarget,
};
