/**
 * USDT (systemtap `<sys/sdt.h>`) probes of native executables and shared objects: the
 * `.note.stapsdt` notes (provider, name, probe address, semaphore, argument string), the file
 * offsets a uprobe takes for them, the decoding of their argument specs (`-4@%eax`, `8@-8(%rbp)`,
 * `4@$5`, aarch64's `8@[sp, 16]`), and the `struct __bpf_usdt_spec` value that libbpf's
 * `usdt.bpf.h` reads from its `__bpf_usdt_specs` map. Pure: works on bytes and strings.
 *
 * @module
 */
import { readCString, readElfHeader, u64 } from "./ehdr.ts";
import { ElfError } from "./error.ts";
import { EM_AARCH64, EM_X86_64, PT_LOAD } from "./native.ts";

/**
 * `NT_STAPSDT`: the note type of a systemtap probe descriptor (owner `"stapsdt"`).
 *
 * @example
 * ```ts
 * import { NT_STAPSDT } from "@tsbpf/core/elf";
 * NT_STAPSDT; // 3
 * ```
 */
export const NT_STAPSDT = 3;
/**
 * `BPF_USDT_MAX_ARG_CNT` of `usdt.bpf.h`: the arguments a spec holds.
 *
 * @example
 * ```ts
 * import { USDT_MAX_ARGS } from "@tsbpf/core/elf";
 * USDT_MAX_ARGS; // 12
 * ```
 */
export const USDT_MAX_ARGS = 12;
/**
 * `sizeof(struct __bpf_usdt_spec)`: the value size of `__bpf_usdt_specs` (12 argument specs of
 * 16 bytes, the `usdt_cookie` u64 at 192, `arg_cnt` at 200, padded to 8).
 *
 * @example
 * ```ts
 * import { USDT_SPEC_SIZE } from "@tsbpf/core/elf";
 * USDT_SPEC_SIZE; // 208
 * ```
 */
export const USDT_SPEC_SIZE = 208;
/** `sizeof(struct __bpf_usdt_arg_spec)`. */
const ARG_SPEC_SIZE = 16;
/** Offsets in `struct __bpf_usdt_spec`. */
const OFF_COOKIE = USDT_MAX_ARGS * ARG_SPEC_SIZE;
const OFF_ARG_CNT = OFF_COOKIE + 8;

const SHT_NOTE = 7;
const SHT_NOBITS = 8;
const SHDR_SIZE = 64;
const SHN_XINDEX = 0xffff;

/**
 * One USDT probe site from `.note.stapsdt`.
 *
 * @example
 * ```ts
 * import type { UsdtProbe } from "@tsbpf/core/elf";
 * declare const p: UsdtProbe;
 * console.log(`${p.provider}:${p.name} at file offset 0x${p.fileOffset.toString(16)}: ${p.args}`);
 * ```
 */
export interface UsdtProbe {
  /** The provider (`DTRACE_PROBE(provider, name)`). */
  readonly provider: string;
  /** The probe name. */
  readonly name: string;
  /**
   * The address of the probe's `nop`, adjusted for prelinking: the note's address plus the
   * difference between `.stapsdt.base`'s address and the base the note recorded.
   */
  readonly address: number;
  /** The semaphore's address, adjusted like `address`; 0 when the probe has none. */
  readonly semaphore: number;
  /** The argument spec string, e.g. `"-4@%esi 8@-8(%rbp) -4@$5"` (empty for no arguments). */
  readonly args: string;
  /** The file offset of `address` (through the executable `PT_LOAD` segment that holds it). */
  readonly fileOffset: number;
  /**
   * The file offset of the semaphore (through the `PT_LOAD` segment that holds it): what a
   * uprobe's `ref_ctr_offset` takes. 0 when the probe has no semaphore.
   */
  readonly semaphoreOffset: number;
  /** Where the note starts in the file (for messages). */
  readonly noteOffset: number;
}

/**
 * The USDT probes of a file, with its type and machine (which decide how specs decode).
 *
 * @example
 * ```ts
 * import type { UsdtNotes } from "@tsbpf/core/elf";
 * declare const notes: UsdtNotes;
 * notes.probes.filter((p) => p.provider === "libc");
 * ```
 */
export interface UsdtNotes {
  /** `e_type` (2 = `ET_EXEC`, 3 = `ET_DYN`). */
  readonly type: number;
  /** `e_machine` (`EM_X86_64` or `EM_AARCH64`). */
  readonly machine: number;
  /** Every probe site, in note order (one probe name may have several sites). */
  readonly probes: readonly UsdtProbe[];
}

interface Section {
  readonly name: string;
  readonly type: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
}

function sections(bytes: Uint8Array, v: DataView): Section[] {
  const shoff = u64(v, 40);
  if (shoff === 0) return [];
  const shentsize = v.getUint16(58, true);
  if (shentsize !== SHDR_SIZE) throw new ElfError(`e_shentsize ${shentsize} is not 64`, 58);
  if (shoff + SHDR_SIZE > bytes.length) {
    throw new ElfError(`section header table at ${shoff} is past the end of the file`, 40);
  }
  let shnum = v.getUint16(60, true);
  if (shnum === 0) shnum = u64(v, shoff + 32);
  let shstrndx = v.getUint16(62, true);
  if (shstrndx === SHN_XINDEX) shstrndx = v.getUint32(shoff + 40, true);
  if (shoff + shnum * SHDR_SIZE > bytes.length) {
    throw new ElfError(`${shnum} section headers at ${shoff} run past the end of the file`, shoff);
  }
  if (shstrndx >= shnum) {
    throw new ElfError(`e_shstrndx ${shstrndx} is not a section (${shnum} sections)`, 62);
  }
  const raw = (i: number): Omit<Section, "name"> & { nameOff: number } => {
    const at = shoff + i * SHDR_SIZE;
    const s = {
      nameOff: v.getUint32(at, true),
      type: v.getUint32(at + 4, true),
      addr: u64(v, at + 16),
      offset: u64(v, at + 24),
      size: u64(v, at + 32),
    };
    if (s.type !== SHT_NOBITS && s.offset + s.size > bytes.length) {
      throw new ElfError(`section ${i} runs past the end of the file`, at + 24);
    }
    return s;
  };
  const str = raw(shstrndx);
  const out: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const s = raw(i);
    if (s.nameOff >= str.size) {
      throw new ElfError(`section ${i}'s name is outside the section name table`, shoff + i * 64);
    }
    const name = readCString(
      bytes,
      str.offset + s.nameOff,
      str.offset + str.size,
      "section name is not NUL-terminated",
    );
    out.push({ name, type: s.type, addr: s.addr, offset: s.offset, size: s.size });
  }
  return out;
}

/**
 * Parses the USDT probes of a 64-bit little-endian x86_64 or aarch64 executable or shared object:
 * every `stapsdt` note (type `NT_STAPSDT`) of its `.note.stapsdt` sections, with the addresses
 * adjusted by `.stapsdt.base` and converted to file offsets through the `PT_LOAD` program
 * headers. A file without such notes gives no probes.
 *
 * @throws {ElfError} with the file offset, for a malformed header, section table or note, or a
 *   probe (or semaphore) address that no loadable segment holds.
 * @example
 * ```ts
 * import { parseUsdtNotes } from "@tsbpf/core/elf";
 * const { probes } = parseUsdtNotes(Deno.readFileSync("/usr/lib/x86_64-linux-gnu/libc.so.6"));
 * console.log(probes.map((p) => `${p.provider}:${p.name}`));
 * ```
 */
export function parseUsdtNotes(bytes: Uint8Array): UsdtNotes {
  const { view: v, type, machine } = readElfHeader(bytes, { EM_X86_64, EM_AARCH64 });
  const secs = sections(bytes, v);
  const baseSection = secs.find((s) => s.name === ".stapsdt.base");
  const segments = programHeaders(bytes, v);
  const probes: UsdtProbe[] = [];
  for (const s of secs) {
    if (s.type !== SHT_NOTE || s.name !== ".note.stapsdt") continue;
    let at = s.offset;
    const end = s.offset + s.size;
    while (at < end) {
      if (at + 12 > end) throw new ElfError("note header runs past its section", at);
      const namesz = v.getUint32(at, true);
      const descsz = v.getUint32(at + 4, true);
      const ntype = v.getUint32(at + 8, true);
      const nameAt = at + 12;
      const descAt = nameAt + align4(namesz);
      const next = descAt + align4(descsz);
      if (next > end) throw new ElfError("note runs past its section", at);
      const owner = namesz === 0 ? "" : readCString(
        bytes,
        nameAt,
        nameAt + namesz,
        "note name is not NUL-terminated",
      );
      if (owner === "stapsdt" && ntype === NT_STAPSDT) {
        probes.push(probe(bytes, v, at, descAt, descsz, baseSection, segments));
      }
      at = next;
    }
  }
  return { type, machine, probes };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

interface Segment {
  readonly flags: number;
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
}

function programHeaders(bytes: Uint8Array, v: DataView): Segment[] {
  const phoff = u64(v, 32);
  const phnum = v.getUint16(56, true);
  if (phnum === 0) return [];
  const phentsize = v.getUint16(54, true);
  if (phentsize !== 56) throw new ElfError(`e_phentsize ${phentsize} is not 56`, 54);
  if (phoff + phnum * 56 > bytes.length) {
    throw new ElfError(`${phnum} program headers at ${phoff} run past the end of the file`, 32);
  }
  const out: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * 56;
    if (v.getUint32(at, true) !== PT_LOAD) continue;
    out.push({
      flags: v.getUint32(at + 4, true),
      offset: u64(v, at + 8),
      vaddr: u64(v, at + 16),
      filesz: u64(v, at + 32),
    });
  }
  return out;
}

function probe(
  bytes: Uint8Array,
  v: DataView,
  noteAt: number,
  descAt: number,
  descsz: number,
  base: Section | undefined,
  segments: readonly Segment[],
): UsdtProbe {
  if (descsz < 24 + 3) {
    throw new ElfError(`stapsdt note descriptor of ${descsz} bytes is too short`, noteAt + 4);
  }
  const end = descAt + descsz;
  const pc = u64(v, descAt);
  const noteBase = u64(v, descAt + 8);
  const sema = u64(v, descAt + 16);
  const provider = readCString(bytes, descAt + 24, end, "stapsdt provider is not NUL-terminated");
  const nameAt = descAt + 24 + utf8Length(bytes, descAt + 24) + 1;
  const name = readCString(bytes, nameAt, end, "stapsdt probe name is not NUL-terminated");
  const argsAt = nameAt + utf8Length(bytes, nameAt) + 1;
  const args = readCString(bytes, argsAt, end, "stapsdt argument string is not NUL-terminated");
  // Prelinking moves the image; .stapsdt.base's address says where the note's base went.
  const shift = base !== undefined && noteBase !== 0 ? base.addr - noteBase : 0;
  const address = pc + shift;
  const semaphore = sema === 0 ? 0 : sema + shift;
  const label = `probe ${provider}:${name}`;
  const fileOffset = toFileOffset(segments, address, true, `${label}: address`, noteAt);
  const semaphoreOffset = semaphore === 0
    ? 0
    : toFileOffset(segments, semaphore, false, `${label}: semaphore`, noteAt);
  return {
    provider,
    name,
    address,
    semaphore,
    args,
    fileOffset,
    semaphoreOffset,
    noteOffset: noteAt,
  };
}

/** Bytes up to the NUL at `at` (the caller has already checked there is one). */
function utf8Length(bytes: Uint8Array, at: number): number {
  let n = 0;
  while (bytes[at + n] !== 0) n++;
  return n;
}

function toFileOffset(
  segments: readonly Segment[],
  address: number,
  code: boolean,
  what: string,
  noteAt: number,
): number {
  const seg = segments.find((s) =>
    address >= s.vaddr && address < s.vaddr + s.filesz && (!code || (s.flags & 1) !== 0)
  );
  if (seg === undefined) {
    throw new ElfError(
      `${what} 0x${address.toString(16)} is in no ${code ? "executable " : ""}PT_LOAD segment`,
      noteAt,
    );
  }
  return address - seg.vaddr + seg.offset;
}

/**
 * `enum __bpf_usdt_arg_type` of `usdt.bpf.h`: a constant, a register's value, or memory at a
 * register plus an offset.
 *
 * @example
 * ```ts
 * import { UsdtArgType } from "@tsbpf/core/elf";
 * UsdtArgType.REG_DEREF; // 2
 * ```
 */
export const UsdtArgType = { CONST: 0, REG: 1, REG_DEREF: 2 } as const;

/**
 * One decoded USDT argument: how `bpf_usdt_arg()` finds and casts it.
 *
 * @example
 * ```ts
 * import { parseUsdtArgs } from "@tsbpf/core/elf";
 * const [a] = parseUsdtArgs("-4@-20(%rbp)", 62);
 * a.type; // 2 (REG_DEREF)
 * a.register; // "rbp"
 * a.value; // -20n
 * ```
 */
export interface UsdtArg {
  /** The spec it came from, e.g. `"-4@-20(%rbp)"`. */
  readonly spec: string;
  /** Size in bytes: 1, 2, 4 or 8. */
  readonly size: number;
  /** Whether the value is signed (a negative size in the spec). */
  readonly signed: boolean;
  /** `UsdtArgType.CONST`, `REG` or `REG_DEREF`. */
  readonly type: number;
  /** The register, by its 64-bit name (`"rbp"`, `"x29"`); `undefined` for a constant. */
  readonly register: string | undefined;
  /** `offsetof(struct pt_regs, <register>)`; 0 for a constant. */
  readonly regOffset: number;
  /** The constant (`CONST`) or the memory offset from the register (`REG_DEREF`). */
  readonly value: bigint;
}

/**
 * A USDT argument spec that cannot be decoded: names the spec, the argument's index and why.
 *
 * @example
 * ```ts
 * import { parseUsdtArgs, UsdtSpecError } from "@tsbpf/core/elf";
 * try {
 *   parseUsdtArgs("8@%rax 3@%rbx", 62);
 * } catch (e) {
 *   if (e instanceof UsdtSpecError) console.log(e.index, e.arg); // 1 "3@%rbx"
 * }
 * ```
 */
export class UsdtSpecError extends Error {
  /** The whole argument string. */
  readonly spec: string;
  /** Which argument (0-based); -1 when the problem is the string as a whole. */
  readonly index: number;
  /** The argument's own text. */
  readonly arg: string;

  /** Creates the error. */
  constructor(spec: string, index: number, arg: string, reason: string) {
    super(
      index < 0
        ? `USDT argument spec "${spec}": ${reason}`
        : `USDT argument ${index} "${arg}" (of "${spec}"): ${reason}`,
    );
    this.name = "UsdtSpecError";
    this.spec = spec;
    this.index = index;
    this.arg = arg;
  }
}

/** `struct pt_regs` (x86_64) offsets by 64-bit register name. */
const X86_REGS: Readonly<Record<string, number>> = {
  r15: 0,
  r14: 8,
  r13: 16,
  r12: 24,
  rbp: 32,
  rbx: 40,
  r11: 48,
  r10: 56,
  r9: 64,
  r8: 72,
  rax: 80,
  rcx: 88,
  rdx: 96,
  rsi: 104,
  rdi: 112,
  rip: 128,
  rsp: 152,
};

/** x86_64 register names (any width) to their 64-bit register. */
const X86_ALIASES: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const r of ["ax", "bx", "cx", "dx"]) {
    for (const n of [`r${r}`, `e${r}`, r, `${r[0]}l`]) m.set(n, `r${r}`);
  }
  for (const r of ["si", "di", "bp", "sp"]) {
    for (const n of [`r${r}`, `e${r}`, r, `${r}l`]) m.set(n, `r${r}`);
  }
  for (let i = 8; i <= 15; i++) {
    for (const s of ["", "d", "w", "b", "l"]) m.set(`r${i}${s}`, `r${i}`);
  }
  m.set("rip", "rip");
  m.set("eip", "rip");
  return m;
})();

/** `struct user_pt_regs` (aarch64): `regs[31]`, `sp`, `pc`. */
function arm64RegOffset(name: string): [string, number] | undefined {
  const m = /^[xw](\d+)$/.exec(name);
  if (m !== null && Number(m[1]) <= 30) return [`x${Number(m[1])}`, Number(m[1]) * 8];
  if (name === "sp" || name === "wsp") return ["sp", 248];
  return undefined;
}

const INT = /^[+-]?(?:0[xX][0-9a-fA-F]+|\d+)$/;

function parseInt64(text: string): bigint | undefined {
  if (!INT.test(text)) return undefined;
  const neg = text.startsWith("-");
  const digits = text.replace(/^[+-]/, "");
  const n = BigInt(digits);
  const v = neg ? -n : n;
  if (v < -(1n << 63n) || v >= 1n << 64n) return undefined;
  return v;
}

/** Splits the argument string on blanks outside `[...]` (aarch64's `[sp, 16]`). */
function splitArgs(spec: string): string[] {
  const out: string[] = [];
  let cur = "";
  let depth = 0;
  for (const ch of spec) {
    if (ch === "[") depth++;
    if (ch === "]") depth--;
    if ((ch === " " || ch === "\t") && depth <= 0) {
      if (cur !== "") out.push(cur);
      cur = "";
    } else {
      cur += ch;
    }
  }
  if (cur !== "") out.push(cur);
  return out;
}

/**
 * Decodes a probe's argument string (`UsdtProbe.args`) for `machine` (`EM_X86_64`, or
 * `EM_AARCH64`). Each argument is `[-]SIZE@LOCATION` (a negative size: signed; SIZE 1, 2, 4 or
 * 8; without `SIZE@`, 8 bytes unsigned). x86_64 locations: `$IMM` (a constant), `%REG` (any width:
 * `%rax`, `%eax`, `%ax`, `%al`, `%r9d`...) and `OFF(%REG)` or `(%REG)` (memory). aarch64: `IMM`,
 * `xN`/`wN`/`sp`, `[REG]` and `[REG, OFF]`.
 *
 * @throws {UsdtSpecError} for more than 12 arguments, a bad size, an unknown or unusable
 *   register (`%ah`, `%rip`-relative memory), an index register (`(%rax,%rbx,8)`), a symbolic
 *   offset, or any other text it cannot read; the message names the argument.
 * @example
 * ```ts
 * import { EM_X86_64, parseUsdtArgs } from "@tsbpf/core/elf";
 * parseUsdtArgs("-4@%eax 8@-8(%rbp) 4@$5", EM_X86_64).map((a) => [a.type, a.register, a.value]);
 * // [[1, "rax", 0n], [2, "rbp", -8n], [0, undefined, 5n]]
 * ```
 */
export function parseUsdtArgs(spec: string, machine: number): UsdtArg[] {
  if (machine !== EM_X86_64 && machine !== EM_AARCH64) {
    throw new UsdtSpecError(spec, -1, "", `machine ${machine} is neither x86_64 nor aarch64`);
  }
  const parts = splitArgs(spec.trim());
  if (parts.length > USDT_MAX_ARGS) {
    throw new UsdtSpecError(
      spec,
      -1,
      "",
      `${parts.length} arguments, more than usdt.bpf.h's ${USDT_MAX_ARGS}`,
    );
  }
  return parts.map((arg, i) => parseArg(spec, i, arg, machine));
}

function parseArg(spec: string, index: number, arg: string, machine: number): UsdtArg {
  const fail = (reason: string): never => {
    throw new UsdtSpecError(spec, index, arg, reason);
  };
  let size = 8;
  let signed = false;
  let loc = arg;
  const m = /^(-?)(\d+)@(.*)$/.exec(arg);
  if (m !== null) {
    size = Number(m[2]);
    signed = m[1] === "-";
    loc = m[3];
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
      fail(`size ${size} is not 1, 2, 4 or 8`);
    }
  }
  if (loc === "") fail("no location after the size");
  const base = { spec: arg, size, signed };
  if (machine === EM_X86_64) {
    if (loc.startsWith("$")) {
      const v = parseInt64(loc.slice(1));
      if (v === undefined) fail(`"${loc}" is not an integer constant`);
      return { ...base, type: UsdtArgType.CONST, register: undefined, regOffset: 0, value: v! };
    }
    if (loc.startsWith("%")) {
      const [reg, off] = x86Reg(loc.slice(1), fail);
      return { ...base, type: UsdtArgType.REG, register: reg, regOffset: off, value: 0n };
    }
    const mem = /^([^(]*)\(([^)]*)\)$/.exec(loc);
    if (mem === null) fail(`cannot read location "${loc}"`);
    const inside = mem![2];
    if (inside.includes(",")) {
      fail("an index register (base,index,scale) is not supported by usdt.bpf.h");
    }
    if (!inside.startsWith("%")) fail(`"${inside}" is not a register`);
    const [reg, off] = x86Reg(inside.slice(1), fail);
    if (reg === "rip") {
      fail("%rip-relative memory (a global variable) is not supported by usdt.bpf.h");
    }
    const disp = mem![1] === "" ? 0n : parseInt64(mem![1]);
    if (disp === undefined) fail(`offset "${mem![1]}" is not an integer`);
    return { ...base, type: UsdtArgType.REG_DEREF, register: reg, regOffset: off, value: disp! };
  }
  // aarch64
  const c = /^[#$]?([+-]?(?:0[xX][0-9a-fA-F]+|\d+))$/.exec(loc);
  if (c !== null) {
    const v = parseInt64(c[1]);
    if (v === undefined) fail(`"${loc}" is not a 64-bit constant`);
    return { ...base, type: UsdtArgType.CONST, register: undefined, regOffset: 0, value: v! };
  }
  const bracket = /^\[\s*([a-z0-9]+)\s*(?:,\s*#?([+-]?(?:0[xX][0-9a-fA-F]+|\d+)))?\s*\]$/.exec(loc);
  if (bracket !== null) {
    const r = arm64RegOffset(bracket[1]);
    if (r === undefined) fail(`unknown aarch64 register "${bracket[1]}"`);
    const disp = bracket[2] === undefined ? 0n : parseInt64(bracket[2]);
    if (disp === undefined) fail(`offset "${bracket[2]}" is not an integer`);
    return {
      ...base,
      type: UsdtArgType.REG_DEREF,
      register: r![0],
      regOffset: r![1],
      value: disp!,
    };
  }
  const r = arm64RegOffset(loc);
  if (r === undefined) fail(`cannot read aarch64 location "${loc}"`);
  return { ...base, type: UsdtArgType.REG, register: r![0], regOffset: r![1], value: 0n };
}

function x86Reg(name: string, fail: (reason: string) => never): [string, number] {
  if (/^[abcd]h$/.test(name)) {
    fail(`%${name} (bits 8-15 of a register) cannot be read by usdt.bpf.h`);
  }
  const full = X86_ALIASES.get(name);
  if (full === undefined) fail(`unknown x86_64 register %${name}`);
  return [full!, X86_REGS[full!]];
}

/**
 * Encodes `struct __bpf_usdt_spec` (the value of `usdt.bpf.h`'s `__bpf_usdt_specs` map) for
 * decoded arguments and the cookie `bpf_usdt_cookie()` returns: per argument `val_off` (u64),
 * `arg_type` (u32), `reg_off` (s16), `arg_signed` (bool) and `arg_bitshift` (64 − 8 × size).
 *
 * @throws {RangeError} for more than 12 arguments or a cookie outside u64.
 * @example
 * ```ts
 * import { encodeUsdtSpec, EM_X86_64, parseUsdtArgs } from "@tsbpf/core/elf";
 * const value = encodeUsdtSpec(parseUsdtArgs("-4@%esi", EM_X86_64), 7n);
 * value.length; // 208
 * ```
 */
export function encodeUsdtSpec(args: readonly UsdtArg[], cookie = 0n): Uint8Array {
  if (args.length > USDT_MAX_ARGS) {
    throw new RangeError(`${args.length} USDT arguments, more than ${USDT_MAX_ARGS}`);
  }
  if (cookie < 0n || cookie >= 1n << 64n) {
    throw new RangeError(`USDT cookie ${cookie} does not fit in a u64`);
  }
  const out = new Uint8Array(USDT_SPEC_SIZE);
  const v = new DataView(out.buffer);
  args.forEach((a, i) => {
    const at = i * ARG_SPEC_SIZE;
    v.setBigUint64(at, BigInt.asUintN(64, a.value), true);
    v.setUint32(at + 8, a.type, true);
    v.setInt16(at + 12, a.regOffset, true);
    v.setUint8(at + 14, a.signed ? 1 : 0);
    v.setInt8(at + 15, 64 - a.size * 8);
  });
  v.setBigUint64(OFF_COOKIE, cookie, true);
  v.setInt16(OFF_ARG_CNT, args.length, true);
  return out;
}
