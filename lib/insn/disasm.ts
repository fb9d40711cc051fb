/**
 * The disassembler: instructions to text, one line per instruction (an `ld_imm64` is one line for
 * its two slots).
 *
 * Two syntaxes:
 * - `"llvm"` (default): what `llvm-objdump -d --mcpu=v4` prints (with `--no-print-imm-hex`, or
 *   `hex: true` for its default hexadecimal immediates): `r0 = 1`, `w1 += w2`,
 *   `if r1 > 16 goto +3`, `*(u32 *)(r10 - 4) = w1`, `r1 = 0x1122334455667788 ll` (a 64-bit
 *   immediate is always hexadecimal, as the kernel and llvm-objdump print it). Helper calls are
 *   named as the kernel verifier names them (`call bpf_map_lookup_elem#1`). Where llvm-objdump's
 *   text is ambiguous or has no form, the kernel's wording or a bracket form is used:
 *   `call pc+3` (BPF-to-BPF), `call kfunc[1234]`, `r1 = map[fd:5] ll` (`map[id:5]` with
 *   `mapIds`),
 *   `r1 = map_value[fd:5]+16 ll`, `r1 = map[idx:0] ll`, `r1 = map_value[idx:0]+16 ll`,
 *   `r1 = btf_var[1234] ll`, `r1 = func[pc+3] ll`, `r0 = *(u32 *)skb[r1 + 4]`,
 *   `r0 = load_acquire((u64 *)(r1 + 0))`, `store_release((u8 *)(r1 + 0), w2)`.
 * - `"classic"`: the mnemonic syntax of the BPF conformance suite and uBPF: `mov %r0, 1`,
 *   `add32 %r0, %r1`, `ldxw %r0, [%r1+4]`, `stxdw [%r10-8], %r1`, `jgt %r1, 16, +3`,
 *   `lock fetch add [%r1+0], %r2`, `call 1`, `call local +3`, `lddw %r0, 0x1122334455667788`.
 *
 * An encoding that is not an instruction (see `insnError`) prints as `.raw 0x…`, the 64-bit
 * little-endian word of the slot, so that any bytes survive `disassemble` → `assemble`.
 *
 * @module
 */
import { kindOf, requireInsns, requireObject } from "../args.ts";
import { helperName as tableHelperName } from "../../types/helpers.ts";
import { decodeInsns, type Insn } from "./insn.ts";
import * as opc from "./opcodes.ts";
import { insnError } from "./validate.ts";
import { ArgumentError } from "../errors.ts";

/**
 * Options of {@link disassemble} and {@link disassembleInsn}.
 *
 * @example
 * ```ts
 * import { disassemble, type DisassembleOptions } from "@tsbpf/core/insn";
 * // exactly what `llvm-objdump -d --mcpu=v4` prints
 * const likeObjdump: DisassembleOptions = { hex: true, helperName: false };
 * disassemble([{ code: 0x85, dst: 0, src: 0, off: 0, imm: 1 }], likeObjdump); // "call 0x1"
 * ```
 */
export interface DisassembleOptions {
  /** `"llvm"` (default) or `"classic"`. */
  syntax?: "llvm" | "classic";
  /**
   * Print immediates (and, in llvm syntax, offsets) in hexadecimal, like llvm-objdump's default
   * `--print-imm-hex`. Default `false`: decimal, like `--no-print-imm-hex`.
   */
  hex?: boolean;
  /**
   * Names helper calls: given a helper id, returns its name (with or without `bpf_`), printed as
   * `call bpf_NAME#ID`. Default: the kernel's helper table (`types/helpers.ts`) in llvm syntax,
   * none in classic syntax. `false` prints bare ids (`call 1`), as llvm-objdump does.
   */
  helperName?: ((id: number) => string | undefined) | false;
  /**
   * Names maps referenced by fd in `ld_imm64` (`map[NAME]` instead of `map[fd:5]`). Assemble such
   * text back with the `maps` option of `assemble`.
   */
  mapName?: (fd: number) => string | undefined;
  /**
   * The `imm` of map references is a map id, not an fd: instructions read back from the kernel
   * (`BPF_OBJ_GET_INFO_BY_FD`'s translated instructions) hold ids. Printed `map[id:5]` and
   * `map_value[id:5]+16`, as bpftool does. Default `false`.
   */
  mapIds?: boolean;
}

interface Fmt {
  classic: boolean;
  hex: boolean;
  helper: ((id: number) => string | undefined) | undefined;
  mapName: ((fd: number) => string | undefined) | undefined;
  mapKey: string;
}

function defaultHelperName(id: number): string | undefined {
  return Number.isInteger(id) && id >= 0 ? tableHelperName(id) : undefined;
}

const NAMED_CALLS: (string | undefined)[] = [];

/** `bpf_NAME#ID` from the kernel's table, cached. */
function namedHelperCall(id: number): string | undefined {
  if (!(id >= 0 && id < 4096)) return undefined;
  let s = NAMED_CALLS[id];
  if (s === undefined) {
    const name = tableHelperName(id);
    if (name === undefined) return undefined;
    s = NAMED_CALLS[id] = `bpf_${name}#${id}`;
  }
  return s;
}

function makeFmt(options: DisassembleOptions | undefined): Fmt {
  const classic = options?.syntax === "classic";
  if (options?.syntax !== undefined && options.syntax !== "llvm" && !classic) {
    throw new ArgumentError(
      "syntax",
      `syntax must be "llvm" or "classic", got ${JSON.stringify(options.syntax)}`,
    );
  }
  const h = options?.helperName;
  return {
    classic,
    hex: options?.hex === true,
    helper: h === false ? undefined : h ?? (classic ? undefined : defaultHelperName),
    mapName: options?.mapName,
    mapKey: options?.mapIds === true ? "id:" : "fd:",
  };
}

/**
 * Disassembles a program: one line per instruction, joined with `\n` (no trailing newline).
 * Jump targets are relative offsets (`goto +3`).
 *
 * @param insns instructions, or little-endian `bpf_insn` bytes as llvm emits them.
 * @throws {ArgumentError} when the bytes are not a multiple of 8 long.
 * @example
 * ```ts
 * import { disassemble } from "@tsbpf/core/insn";
 * const insns = [
 *   { code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 },
 *   { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
 * ];
 * disassemble(insns); // "r0 = 1\nexit"
 * disassemble(insns, { syntax: "classic" }); // "mov %r0, 1\nexit"
 * ```
 */
export function disassemble(
  insns: readonly Insn[] | Uint8Array,
  options?: DisassembleOptions,
): string {
  requireInsns("disassemble", "insns", insns);
  requireObject("disassemble", "options", options, true);
  const list = insns instanceof Uint8Array ? decodeInsns(insns) : insns;
  const fmt = makeFmt(options);
  let out = "";
  for (let i = 0; i < list.length;) {
    if (i > 0) out += "\n";
    if (insnError(list, i) !== undefined) {
      out += printRaw(list[i], fmt);
      i++;
    } else {
      out += printValid(list, i, fmt);
      i += list[i].code === 0x18 ? 2 : 1;
    }
  }
  return out;
}

/**
 * One line of {@link disassembleLines}: the text and the slot index it starts at.
 *
 * @example
 * ```ts
 * import { type DisassembledLine, disassembleLines } from "@tsbpf/core/insn";
 * const lines: DisassembledLine[] = disassembleLines([{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]);
 * console.log(lines.map((l) => `${l.index}: ${l.text}`).join("\n")); // "0: exit"
 * ```
 */
export interface DisassembledLine {
  /** Slot index of the instruction (an `ld_imm64` takes two slots). */
  index: number;
  /** The instruction's text. */
  text: string;
}

/**
 * Disassembles a program into one entry per instruction, with the slot index each starts at.
 *
 * @example
 * ```ts
 * import { disassembleLines } from "@tsbpf/core/insn";
 * disassembleLines(new Uint8Array([0x95, 0, 0, 0, 0, 0, 0, 0])); // [{ index: 0, text: "exit" }]
 * ```
 */
export function disassembleLines(
  insns: readonly Insn[] | Uint8Array,
  options?: DisassembleOptions,
): DisassembledLine[] {
  requireInsns("disassembleLines", "insns", insns);
  requireObject("disassembleLines", "options", options, true);
  const list = insns instanceof Uint8Array ? decodeInsns(insns) : insns;
  const fmt = makeFmt(options);
  const out: DisassembledLine[] = [];
  for (let i = 0; i < list.length;) {
    if (insnError(list, i) !== undefined) {
      out.push({ index: i, text: printRaw(list[i], fmt) });
      i++;
    } else {
      out.push({ index: i, text: printValid(list, i, fmt) });
      i += list[i].code === 0x18 ? 2 : 1;
    }
  }
  return out;
}

/**
 * Disassembles the instruction at `insns[index]` (both slots of an `ld_imm64`).
 *
 * @example
 * ```ts
 * import { disassembleInsn } from "@tsbpf/core/insn";
 * disassembleInsn([{ code: 0x85, dst: 0, src: 0, off: 0, imm: 1 }], 0); // "call bpf_map_lookup_elem#1"
 * disassembleInsn([{ code: 0x85, dst: 0, src: 0, off: 0, imm: 1 }], 0, { syntax: "classic" }); // "call 1"
 * ```
 */
export function disassembleInsn(
  insns: readonly Insn[],
  index: number,
  options?: DisassembleOptions,
): string {
  if (!Array.isArray(insns)) requireInsns("disassembleInsn", "insns", insns);
  requireObject("disassembleInsn", "options", options, true);
  if (!Number.isInteger(index) || index < 0 || index >= insns.length) {
    throw new ArgumentError(
      "index",
      `index ${kindOf(index)} is outside the program (0..${insns.length - 1})`,
    );
  }
  const fmt = makeFmt(options);
  return insnError(insns, index) === undefined
    ? printValid(insns, index, fmt)
    : printRaw(insns[index], fmt);
}

/**
 * The 64-bit little-endian word of one slot as `0x` and 16 hex digits, the form of `.raw` lines
 * and of the conformance suite's `-- raw` sections.
 *
 * @example
 * ```ts
 * import { rawWord } from "@tsbpf/core/insn";
 * rawWord({ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }); // "0x0000000000000095"
 * ```
 */
export function rawWord(insn: Insn): string {
  requireObject("rawWord", "insn", insn);
  const lo = ((insn.code & 0xff) | ((insn.dst & 0xf) << 8) | ((insn.src & 0xf) << 12) |
    ((insn.off & 0xffff) << 16)) >>> 0;
  return "0x" + hex8(insn.imm >>> 0) + hex8(lo);
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function printRaw(insn: Insn, fmt: Fmt): string {
  if (insn.code === 0x8d && insn.src === 0 && insn.off === 0 && insn.imm === 0 && insn.dst <= 10) {
    return fmt.classic ? `call %r${insn.dst}` : `callx r${insn.dst}`;
  }
  return `.raw ${rawWord(insn)}`;
}

/** A table indexed by `op >> 4`, `""` where no name is given. */
function byOp(names: [number, string][]): string[] {
  const t: string[] = [];
  for (const [op, name] of names) t[op >> 4] = name;
  return Array.from(t, (v) => v ?? "");
}

const ALU_LLVM = byOp([
  [opc.ADD, "+="],
  [opc.SUB, "-="],
  [opc.MUL, "*="],
  [opc.DIV, "/="],
  [opc.OR, "|="],
  [opc.AND, "&="],
  [opc.LSH, "<<="],
  [opc.RSH, ">>="],
  [opc.MOD, "%="],
  [opc.XOR, "^="],
  [opc.MOV, "="],
  [opc.ARSH, "s>>="],
]);
const ALU_CLASSIC = byOp([
  ...Object.entries(opc.ALU_BY_NAME).map(([name, c]): [number, string] => [c, name]),
  [opc.NEG, "neg"],
]);
const JMP_LLVM = byOp([
  [opc.JEQ, "=="],
  [opc.JGT, ">"],
  [opc.JGE, ">="],
  [opc.JSET, "&"],
  [opc.JNE, "!="],
  [opc.JSGT, "s>"],
  [opc.JSGE, "s>="],
  [opc.JLT, "<"],
  [opc.JLE, "<="],
  [opc.JSLT, "s<"],
  [opc.JSLE, "s<="],
]);
const JMP_CLASSIC = byOp(
  Object.entries(opc.JMP_BY_NAME).map(([name, c]): [number, string] => [c, name]),
);
/** Bits and suffix by size field (`(code >> 3) & 3`). */
const SIZE_BITS = [32, 16, 8, 64];
const SIZE_SUFFIX = ["w", "h", "b", "dw"];
const ATOMIC_NAME: Record<number, string> = {
  [opc.ADD]: "add",
  [opc.OR]: "or",
  [opc.AND]: "and",
  [opc.XOR]: "xor",
};
const ATOMIC_LLVM_OP: Record<number, string> = {
  [opc.ADD]: "+=",
  [opc.OR]: "|=",
  [opc.AND]: "&=",
  [opc.XOR]: "^=",
};

/** A signed number as llvm prints it: `5`, `-5`, or `0x5`, `-0x5`. */
function num(n: number, hex: boolean): string {
  if (!hex) return String(n);
  return n < 0 ? "-0x" + (-n).toString(16) : "0x" + n.toString(16);
}

/** A jump offset: `+3`, `-3` (or `+0x3`). */
function rel(n: number, hex: boolean): string {
  return n < 0 ? num(n, hex) : "+" + num(n, hex);
}

/** `r1 + 4` / `r1 - 4` for llvm syntax. */
function addrLlvm(reg: number, off: number, hex: boolean): string {
  return off < 0 ? `r${reg} - ${num(-off, hex)}` : `r${reg} + ${num(off, hex)}`;
}

/** `(r1 + 4)` / `(r1 - 4)` for llvm syntax. */
function memLlvm(reg: number, off: number, hex: boolean): string {
  return `(${addrLlvm(reg, off, hex)})`;
}

/** `[%r1+4]` / `[%r1-4]` for classic syntax. */
function memClassic(reg: number, off: number): string {
  return off < 0 ? `[%r${reg}${off}]` : `[%r${reg}+${off}]`;
}

function printValid(insns: readonly Insn[], i: number, fmt: Fmt): string {
  const insn = insns[i];
  const { code, dst, src, off, imm } = insn;
  const cls = code & 7;
  const hex = fmt.hex;
  if (fmt.classic) return printClassic(insns, i, fmt);
  switch (cls) {
    case 4:
    case 7: {
      const op = (code >> 4) & 0xf;
      const x = (code & 8) !== 0;
      const r = cls === 7 ? "r" : "w";
      if (op === 0x8) return `${r}${dst} = -${r}${dst}`;
      if (op === 0xd) {
        const kind = cls === 7 ? "bswap" : x ? "be" : "le";
        return `r${dst} = ${kind}${imm} r${dst}`;
      }
      if (op === 0xb) {
        if (!x) return `${r}${dst} = ${num(imm, hex)}`;
        if (off === 0) return `${r}${dst} = ${r}${src}`;
        if (off === 1 && cls === 7) {
          return `r${dst} = addr_space_cast(r${src}, ${num(imm >>> 16, hex)}, ${
            num(imm & 0xffff, hex)
          })`;
        }
        return `${r}${dst} = (s${off})${r}${src}`;
      }
      const sym = off === 1 ? "s" + ALU_LLVM[op] : ALU_LLVM[op];
      return x ? `${r}${dst} ${sym} ${r}${src}` : `${r}${dst} ${sym} ${num(imm, hex)}`;
    }
    case 1: {
      const size = (code >> 3) & 3;
      const sx = (code & 0xe0) === 0x80;
      const r = sx || size === 3 ? "r" : "w";
      return `${r}${dst} = *(${sx ? "s" : "u"}${SIZE_BITS[size]} *)${memLlvm(src, off, hex)}`;
    }
    case 2:
      return `*(u${SIZE_BITS[(code >> 3) & 3]} *)${memLlvm(dst, off, hex)} = ${num(imm, hex)}`;
    case 3: {
      const size = (code >> 3) & 3;
      const r = size === 3 ? "r" : "w";
      const m = memLlvm(dst, off, hex);
      const ty = `u${SIZE_BITS[size]}`;
      if ((code & 0xe0) === 0x60) return `*(${ty} *)${m} = ${r}${src}`;
      switch (imm) {
        case 0x100:
          return `${r}${dst} = load_acquire((${ty} *)${memLlvm(src, off, hex)})`;
        case 0x110:
          return `store_release((${ty} *)${m}, ${r}${src})`;
        case 0xe1:
          return size === 3
            ? `r${src} = xchg_64(${addrLlvm(dst, off, hex)}, r${src})`
            : `w${src} = xchg32_32(${addrLlvm(dst, off, hex)}, w${src})`;
        case 0xf1:
          return size === 3
            ? `r0 = cmpxchg_64(${addrLlvm(dst, off, hex)}, r0, r${src})`
            : `w0 = cmpxchg32_32(${addrLlvm(dst, off, hex)}, w0, w${src})`;
        default:
          if (imm & 1) {
            return `${r}${src} = atomic_fetch_${
              ATOMIC_NAME[imm & 0xf0]
            }((${ty} *)${m}, ${r}${src})`;
          }
          return `lock *(${ty} *)${m} ${ATOMIC_LLVM_OP[imm]} ${r}${src}`;
      }
    }
    case 0: {
      const mode = code & 0xe0;
      const ty = `u${SIZE_BITS[(code >> 3) & 3]}`;
      if (mode === 0x20) return `r0 = *(${ty} *)skb[${num(imm, hex)}]`;
      if (mode === 0x40) {
        if (imm === 0) return `r0 = *(${ty} *)skb[r${src}]`;
        return `r0 = *(${ty} *)skb[r${src} ${imm < 0 ? "-" : "+"} ${num(Math.abs(imm), hex)}]`;
      }
      return `r${dst} = ${ldImm64Operand(insn, insns[i + 1].imm, fmt)} ll`;
    }
    default: {
      const op = (code >> 4) & 0xf;
      switch (op) {
        case 0x0:
          return cls === 6 ? `gotol ${rel(imm, hex)}` : `goto ${rel(off, hex)}`;
        case 0x8:
          return `call ${callOperand(insn, fmt)}`;
        case 0x9:
          return "exit";
        case 0xe:
          return `may_goto ${rel(off, hex)}`;
        default: {
          const r = cls === 6 ? "w" : "r";
          const rhs = (code & 8) !== 0 ? `${r}${src}` : num(imm, hex);
          return `if ${r}${dst} ${JMP_LLVM[op]} ${rhs} goto ${rel(off, hex)}`;
        }
      }
    }
  }
}

function callOperand(insn: Insn, fmt: Fmt): string {
  const { src, off, imm } = insn;
  if (src === 1) {
    return `${fmt.classic ? "local " : "pc"}${rel(imm, fmt.classic ? false : fmt.hex)}`;
  }
  if (src === 2) return off === 0 ? `kfunc[${imm}]` : `kfunc[${imm}, idx:${off}]`;
  if (fmt.helper === defaultHelperName) {
    const named = namedHelperCall(imm);
    if (named !== undefined) return named;
  } else {
    const name = fmt.helper?.(imm);
    if (name !== undefined) return `${name.startsWith("bpf_") ? name : "bpf_" + name}#${imm}`;
  }
  return num(imm, fmt.hex);
}

function ldImm64Operand(insn: Insn, hi: number, fmt: Fmt): string {
  const lo = insn.imm;
  switch (insn.src) {
    case 0: {
      if (fmt.classic) {
        return "0x" +
          (hi === 0 ? (lo >>> 0).toString(16) : (hi >>> 0).toString(16) + hex8(lo >>> 0));
      }
      // Always hexadecimal, as the kernel's verifier log and llvm-objdump print 64-bit
      // immediates (the assembler reads hex and decimal alike).
      if (hi >= 0) {
        return "0x" + (hi === 0 ? (lo >>> 0).toString(16) : hi.toString(16) + hex8(lo >>> 0));
      }
      // negative: print the two's complement negation, -(~v + 1), from the two halves
      const nlo = (~lo + 1) >>> 0;
      const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
      return "-0x" + (nhi === 0 ? nlo.toString(16) : nhi.toString(16) + hex8(nlo));
    }
    case 1:
      return `map[${mapRef(lo, fmt)}]`;
    case 2:
      return `map_value[${mapRef(lo, fmt)}]+${hi >>> 0}`;
    case 3:
      return hi === 0 ? `btf_var[${lo}]` : `btf_var[${lo}, fd:${hi}]`;
    case 4:
      return `func[pc${rel(lo, false)}]`;
    case 5:
      return `map[idx:${lo}]`;
    default:
      return `map_value[idx:${lo}]+${hi >>> 0}`;
  }
}

function mapRef(fd: number, fmt: Fmt): string {
  const name = fmt.mapName?.(fd);
  return name !== undefined ? name : fmt.mapKey + fd;
}

function printClassic(insns: readonly Insn[], i: number, fmt: Fmt): string {
  const insn = insns[i];
  const { code, dst, src, off, imm } = insn;
  const cls = code & 7;
  const hex = fmt.hex;
  switch (cls) {
    case 4:
    case 7: {
      const op = (code >> 4) & 0xf;
      const x = (code & 8) !== 0;
      const w = cls === 4 ? "32" : "";
      if (op === 0x8) return `neg${w} %r${dst}`;
      if (op === 0xd) return `${cls === 7 ? "bswap" : x ? "be" : "le"}${imm} %r${dst}`;
      if (op === 0xb && x && off !== 0) {
        if (off === 1 && cls === 7) {
          return `addr_space_cast %r${dst}, %r${src}, ${imm >>> 16}, ${imm & 0xffff}`;
        }
        return `movsx${off}${cls === 7 ? "64" : "32"} %r${dst}, %r${src}`;
      }
      const name = (off === 1 ? "s" : "") + ALU_CLASSIC[op] + w;
      return x ? `${name} %r${dst}, %r${src}` : `${name} %r${dst}, ${num(imm, hex)}`;
    }
    case 1: {
      const sx = (code & 0xe0) === 0x80;
      return `ldx${sx ? "s" : ""}${SIZE_SUFFIX[(code >> 3) & 3]} %r${dst}, ${memClassic(src, off)}`;
    }
    case 2:
      return `st${SIZE_SUFFIX[(code >> 3) & 3]} ${memClassic(dst, off)}, ${num(imm, hex)}`;
    case 3: {
      const size = (code >> 3) & 3;
      const sfx = SIZE_SUFFIX[size];
      if ((code & 0xe0) === 0x60) return `stx${sfx} ${memClassic(dst, off)}, %r${src}`;
      if (imm === 0x100) return `ldacq${sfx} %r${dst}, ${memClassic(src, off)}`;
      if (imm === 0x110) return `strel${sfx} ${memClassic(dst, off)}, %r${src}`;
      const w = size === 0 ? "32" : "";
      let name: string;
      if (imm === 0xe1) name = "xchg";
      else if (imm === 0xf1) name = "cmpxchg";
      else name = (imm & 1 ? "fetch " : "") + ATOMIC_NAME[imm & 0xf0];
      return `lock ${name}${w} ${memClassic(dst, off)}, %r${src}`;
    }
    case 0: {
      const mode = code & 0xe0;
      const sfx = SIZE_SUFFIX[(code >> 3) & 3];
      if (mode === 0x20) return `ldabs${sfx} ${num(imm, hex)}`;
      if (mode === 0x40) return `ldind${sfx} %r${src}, ${num(imm, hex)}`;
      return `lddw %r${dst}, ${ldImm64Operand(insn, insns[i + 1].imm, fmt)}`;
    }
    default: {
      const op = (code >> 4) & 0xf;
      switch (op) {
        case 0x0:
          return cls === 6 ? `ja32 ${rel(imm, false)}` : `ja ${rel(off, false)}`;
        case 0x8:
          return `call ${callOperand(insn, fmt)}`;
        case 0x9:
          return "exit";
        case 0xe:
          return `may_goto ${rel(off, false)}`;
        default: {
          const rhs = (code & 8) !== 0 ? `%r${src}` : num(imm, hex);
          return `${JMP_CLASSIC[op]}${cls === 6 ? "32" : ""} %r${dst}, ${rhs}, ${rel(off, false)}`;
        }
      }
    }
  }
}
