/**
 * Loaded eBPF programs: `Program.load()` runs `BPF_PROG_LOAD`; the program lives as long as its
 * file descriptor (and any link, pin or map that holds it).
 *
 * @module
 */
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { PROG_LOAD_ATTR, PROG_TEST_RUN_ATTR } from "../../types/attr.ts";
import { ProgLoadFlag } from "../../types/flags.ts";
import { Attr } from "../attr.ts";
import { BpfError, isResourceErrno, ResourceError, VerifierError } from "../errors.ts";
import { requireObject } from "../args.ts";
import { memlockCharged } from "../caps.ts";
import { bpfObjectKind, describeHandle, FdHandle, INSPECT_SYMBOLS } from "../fd.ts";
import { decodeInsns, encodeInsns, type Insn, INSN_SIZE } from "../insn/insn.ts";
import { disassembleLines, type DisassembleOptions } from "../insn/disasm.ts";
import { MAX_INSNS } from "../insn/opcodes.ts";
import { type ProgramInfo, readProgramInfo, readProgramInfoArrays } from "./info.ts";
import { progTypeLabel, resolveAttachType, resolveProgType } from "../progtype/type_names.ts";
import { requireRegisteredType, runPreloadCheck } from "./check.ts";
import type {
  FuncInfo,
  LineInfo,
  ProgramLoadOptions,
  TestRunOptions,
  TestRunResult,
} from "./types.ts";

export type {
  FuncInfo,
  LineInfo,
  ProgramLoadOptions,
  TestRunOptions,
  TestRunResult,
} from "./types.ts";
import { listIds, openById, validateObjectName } from "../ids.ts";
import { alloc, cString } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { openPinned, unpinPath } from "../pin.ts";
import { progLoad, progTestRun } from "../sys/bpf_cmds.ts";

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** Kernel limit of a log buffer (`UINT_MAX >> 2`). */
const MAX_LOG_SIZE = 0x3fffffff;
/** Smallest log buffer the kernel accepts. */
const MIN_LOG_SIZE = 128;
/** `BPF_LOG_MASK`: the log levels userspace may ask for. */
const LOG_LEVEL_MASK = 0xf;
/** First log buffer tried when a load fails without one. */
const DEFAULT_LOG_SIZE = 64 * 1024;
/** The kernel copies at most 127 license bytes (`char license[128]`). */
const MAX_LICENSE_LENGTH = 127;

/** Encodes func and line info records into one buffer; returns it with each part's address. */
function encodeBtfInfo(
  funcInfo: readonly FuncInfo[],
  lineInfo: readonly LineInfo[],
  fdArray: readonly number[],
): { arena: Uint8Array<ArrayBuffer>; funcAt: bigint; lineAt: bigint; fdsAt: bigint } {
  const fdBase = funcInfo.length * 8 + lineInfo.length * 16;
  const arena = alloc(fdBase + fdArray.length * 4 + 8);
  const v = new DataView(arena.buffer);
  funcInfo.forEach((r, i) => {
    v.setUint32(i * 8, r.insn, true);
    v.setUint32(i * 8 + 4, r.typeId, true);
  });
  const lineBase = funcInfo.length * 8;
  lineInfo.forEach((r, i) => {
    const o = lineBase + i * 16;
    if (r.line > 0x3fffff || r.column > 0x3ff || r.line < 0 || r.column < 0) {
      throw new RangeError(`lineInfo[${i}]: line ${r.line}, column ${r.column} do not fit`);
    }
    v.setUint32(o, r.insn, true);
    v.setUint32(o + 4, r.fileNameOff, true);
    v.setUint32(o + 8, r.lineOff, true);
    v.setUint32(o + 12, ((r.line << 10) | r.column) >>> 0, true);
  });
  fdArray.forEach((fd, i) => {
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
      throw new RangeError(`fdArray[${i}]: ${fd} is not a file descriptor`);
    }
    v.setInt32(fdBase + i * 4, fd, true);
  });
  const base = sys().addressOf(arena);
  return { arena, funcAt: base, lineAt: base + BigInt(lineBase), fdsAt: base + BigInt(fdBase) };
}

/** A module-level scratch area for loads: no allocation on the common path. */
class LoadScratch {
  readonly attr = new Attr(PROG_LOAD_ATTR);
  insns: Uint8Array<ArrayBuffer> = alloc(64 * INSN_SIZE);
  insnsAddress = 0n;
  readonly licenses = new Map<string, { buf: Uint8Array<ArrayBuffer>; address: bigint }>();

  insnBuffer(bytes: number): Uint8Array<ArrayBuffer> {
    if (this.insns.byteLength < bytes || this.insnsAddress === 0n) {
      if (this.insns.byteLength < bytes) {
        this.insns = alloc(Math.max(bytes, this.insns.byteLength * 2));
      }
      this.insnsAddress = sys().addressOf(this.insns);
    }
    return this.insns;
  }

  license(text: string): { buf: Uint8Array<ArrayBuffer>; address: bigint } {
    let entry = this.licenses.get(text);
    if (entry === undefined) {
      const buf = cString(text);
      entry = { buf, address: sys().addressOf(buf) };
      if (this.licenses.size > 64) this.licenses.clear();
      this.licenses.set(text, entry);
    }
    return entry;
  }
}

let scratch: LoadScratch | undefined;

function validateLicense(license: string): void {
  if (typeof license !== "string") throw new TypeError('license must be a string such as "GPL"');
  if (license.includes("\0")) {
    throw new RangeError(`license contains a NUL byte at position ${license.indexOf("\0")}`);
  }
  // UTF-8 takes at most 3 bytes per UTF-16 unit: short licenses need no encoding to check.
  if (license.length * 3 <= MAX_LICENSE_LENGTH) return;
  const bytes = textEncoder.encode(license).length;
  if (bytes > MAX_LICENSE_LENGTH) {
    throw new RangeError(
      `license is ${bytes} bytes; the kernel reads at most ${MAX_LICENSE_LENGTH}`,
    );
  }
}

/** Encodes the instructions into `scratch` (or a fresh buffer) and validates their shape. */
function encodeProgram(insns: readonly Insn[] | Uint8Array, into: LoadScratch): number {
  const bytes = insns instanceof Uint8Array ? insns.byteLength : insns.length * INSN_SIZE;
  if (insns instanceof Uint8Array && bytes % INSN_SIZE !== 0) {
    throw new RangeError(
      `instruction bytes must be a multiple of 8; got ${bytes} (${
        bytes % INSN_SIZE
      } trailing bytes at offset ${bytes - (bytes % INSN_SIZE)})`,
    );
  }
  const count = bytes / INSN_SIZE;
  if (count === 0) throw new RangeError("the program has no instructions");
  if (count > MAX_INSNS) {
    throw new RangeError(
      `the program has ${count} instructions; the kernel accepts at most ${MAX_INSNS}`,
    );
  }
  const buf = into.insnBuffer(bytes);
  if (insns instanceof Uint8Array) buf.set(insns);
  else encodeInsns(insns, buf);
  // An ld_imm64 (opcode 0x18) needs a second slot with opcode 0.
  for (let i = 0; i < count; i++) {
    if (buf[i * INSN_SIZE] === 0x18) {
      if (i + 1 >= count) {
        throw new RangeError(
          `instruction ${i}: ld_imm64 is missing its second half (it is the last slot)`,
        );
      }
      if (buf[(i + 1) * INSN_SIZE] !== 0) {
        throw new RangeError(
          `instruction ${i}: ld_imm64 is missing its second half (slot ${i + 1} has opcode 0x${
            buf[(i + 1) * INSN_SIZE].toString(16).padStart(2, "0")
          }, expected 0)`,
        );
      }
      i++;
    }
  }
  return count;
}

/**
 * A loaded eBPF program. Closing it drops this process's reference; the kernel unloads the
 * program when nothing else (a link, a pin, a prog array) holds it.
 *
 * @example
 * ```ts
 * import { Program, asm } from "@tsbpf/core";
 * using prog = Program.load({ type: "socket_filter", insns: asm`r0 = 0\nexit`, license: "GPL" });
 * console.log(prog.id, prog.tag);
 * ```
 */
export class Program {
  readonly #handle: FdHandle;
  readonly #type: number;
  #info: ProgramInfo | undefined;
  /** The verifier log, when {@link ProgramLoadOptions.logLevel} was set. */
  readonly verifierLog: string | undefined;

  /** Wraps an owned program file descriptor. Prefer {@link Program.load} or {@link Program.fromId}. */
  constructor(fd: number, type: number, verifierLog?: string) {
    this.#handle = new FdHandle(fd, "program");
    this.#type = type;
    this.verifierLog = verifierLog;
  }

  /**
   * Loads a program into the kernel.
   *
   * Bad input is refused before any system call: no or too many instructions, an `ld_imm64`
   * missing its second half, a license over 127 bytes or with a NUL, a name the kernel would
   * refuse, an unknown program type; and, unless `check: false`, whatever the pre-load checker
   * finds (`PreloadCheckError`).
   *
   * @throws {VerifierError} when the verifier rejects the program (with its log).
   * @throws {BpfError} for other failures (e.g. `EPERM` without privileges).
   * @example
   * ```ts
   * import { Program, asm } from "@tsbpf/core";
   * const prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL", name: "pass" });
   * prog.close();
   * ```
   */
  static load(options: ProgramLoadOptions): Program {
    requireObject("Program.load", "options", options);
    const type = resolveProgType(options.type);
    validateLicense(options.license);
    if (options.name !== undefined) validateObjectName(options.name);
    const logLevel = options.logLevel ?? 0;
    if (!Number.isInteger(logLevel) || logLevel < 0 || (logLevel & ~LOG_LEVEL_MASK) !== 0) {
      throw new RangeError(
        `logLevel ${logLevel} is not a combination of 1 (normal), 2 (verbose), 4 (statistics) and 8 (fixed buffer)`,
      );
    }
    if (
      options.logSize !== undefined &&
      (!Number.isInteger(options.logSize) || options.logSize < MIN_LOG_SIZE ||
        options.logSize > MAX_LOG_SIZE)
    ) {
      throw new RangeError(
        `logSize ${options.logSize} is outside the kernel's range ${MIN_LOG_SIZE}..${MAX_LOG_SIZE}`,
      );
    }
    const expectedAttachType = options.expectedAttachType === undefined
      ? undefined
      : resolveAttachType(options.expectedAttachType);
    const s = scratch ??= new LoadScratch();
    const count = encodeProgram(options.insns, s);
    requireRegisteredType(type);
    if (options.check !== false) runPreloadCheck(type, expectedAttachType, options);
    const license = s.license(options.license);
    const attr = s.attr.clear();
    attr.set("prog_type", type)
      .set("insn_cnt", count)
      .setU64("insns", s.insnsAddress)
      .setU64("license", license.address);
    if (options.name) attr.setBytes("prog_name", textEncoder.encode(options.name));
    if (expectedAttachType !== undefined) {
      attr.set("expected_attach_type", expectedAttachType);
    }
    if (options.attachBtfId !== undefined) attr.set("attach_btf_id", options.attachBtfId);
    if (options.attachBtfObjFd !== undefined) attr.set("attach_btf_obj_fd", options.attachBtfObjFd);
    if (options.kernVersion !== undefined) attr.set("kern_version", options.kernVersion);
    if (options.flags !== undefined) attr.set("prog_flags", options.flags);
    if (options.ifindex !== undefined) attr.set("prog_ifindex", options.ifindex);
    if (options.token !== undefined) {
      attr.set("prog_token_fd", options.token.fd)
        .set("prog_flags", (options.flags ?? 0) | ProgLoadFlag.TOKEN_FD);
    }
    if (options.btfFd !== undefined) attr.set("prog_btf_fd", options.btfFd);
    // Func and line info live in one arena, handed to every bpf() call below to keep it alive.
    let info: Uint8Array<ArrayBuffer> | undefined;
    const funcInfo = options.funcInfo ?? [];
    const lineInfo = options.lineInfo ?? [];
    const fdArray = options.fdArray ?? [];
    if (funcInfo.length > 0 || lineInfo.length > 0 || fdArray.length > 0) {
      if (options.btfFd === undefined && (funcInfo.length > 0 || lineInfo.length > 0)) {
        throw new TypeError("funcInfo and lineInfo refer to BTF: pass btfFd as well");
      }
      const encoded = encodeBtfInfo(funcInfo, lineInfo, fdArray);
      info = encoded.arena;
      if (fdArray.length > 0) attr.setU64("fd_array", encoded.fdsAt);
      if (funcInfo.length > 0) {
        attr.set("func_info_rec_size", 8).setU64("func_info", encoded.funcAt)
          .set("func_info_cnt", funcInfo.length);
      }
      if (lineInfo.length > 0) {
        attr.set("line_info_rec_size", 16).setU64("line_info", encoded.lineAt)
          .set("line_info_cnt", lineInfo.length);
      }
    }

    if (logLevel === 0) {
      // insns and license live in the module-level scratch, which is always reachable.
      const fd = info === undefined ? progLoad(attr) : progLoad(attr, info);
      if (fd >= 0) return new Program(fd, type);
      // Rejected: load again with a log to say why.
      return loadWithLog(attr, type, 1, options.logSize ?? DEFAULT_LOG_SIZE, -fd, false, info);
    }
    return loadWithLog(attr, type, logLevel, options.logSize ?? DEFAULT_LOG_SIZE, 0, true, info);
  }

  /**
   * Opens the program with the given id (`BPF_PROG_GET_FD_BY_ID`).
   *
   * @throws {BpfError} `ENOENT` when no program has that id.
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
   * using again = Program.fromId(prog.id);
   * again.tag === prog.tag; // true
   * ```
   */
  static fromId(id: number): Program {
    return Program.#adopt(openById(BpfCmd.PROG_GET_FD_BY_ID, id, "program"), `program id ${id}`);
  }

  /** Wraps an fd just opened (by id or pin), closing it if it is not a usable program. */
  static #adopt(fd: number, what: string): Program {
    try {
      const kind = bpfObjectKind(fd);
      if (kind !== undefined && kind !== "prog") {
        throw new TypeError(`${what} is a BPF ${kind}, not a program`);
      }
      const info = readProgramInfo(fd);
      const prog = new Program(fd, info.type);
      prog.#info = info;
      return prog;
    } catch (e) {
      sys().close(fd);
      throw e;
    }
  }

  /**
   * Opens a program pinned in bpffs (`BPF_OBJ_GET`).
   *
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
   * const path = `/sys/fs/bpf/doc_prog_${Deno.pid}`;
   * prog.pin(path);
   * using again = Program.fromPin(path);
   * Program.unpin(path);
   * ```
   */
  static fromPin(path: string): Program {
    return Program.#adopt(openPinned(path), path);
  }

  /**
   * Ids of every program loaded in the kernel (`BPF_PROG_GET_NEXT_ID`), in ascending order.
   *
   * @example
   * ```ts
   * import { Program } from "@tsbpf/core";
   * console.log(Program.list().length);
   * ```
   */
  static list(): number[] {
    return listIds(BpfCmd.PROG_GET_NEXT_ID);
  }

  /** The file descriptor. @throws {Error} once closed. */
  get fd(): number {
    return this.#handle.fd;
  }

  /** Whether {@link Program.close} has run. */
  get closed(): boolean {
    return this.#handle.closed;
  }

  /** The program type number. */
  get type(): number {
    return this.#type;
  }

  /** The program type's kernel name, e.g. `"xdp"`. */
  get typeName(): string {
    return progTypeLabel(this.#type);
  }

  /** The kernel's id of the program (stable while it is loaded). */
  get id(): number {
    return this.#cachedInfo().id;
  }

  /** The program's tag: a hash of its instructions, 16 hex digits (as bpftool shows it). */
  get tag(): string {
    return this.#cachedInfo().tag;
  }

  /** The name given at load. */
  get name(): string {
    return this.#cachedInfo().name;
  }

  #cachedInfo(): ProgramInfo {
    return this.#info ??= readProgramInfo(this.fd);
  }

  /**
   * Fresh information from `BPF_OBJ_GET_INFO_BY_FD`: id, tag, type, name, sizes, verified
   * instruction count, load time, used map ids and run statistics.
   *
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
   * const info = prog.info();
   * console.log(info.verifiedInsns, info.mapIds);
   * ```
   */
  info(): ProgramInfo {
    return this.#info = readProgramInfo(this.fd);
  }

  /**
   * The instructions as the kernel holds them after the verifier's rewrites (map fds become
   * map ids or addresses, helper calls are resolved, some context accesses are rewritten).
   *
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
   * prog.xlated().length; // 2 slots
   * ```
   */
  xlated(): Insn[] {
    return decodeInsns(readProgramInfoArrays(this.fd, { xlated: true }).xlated!);
  }

  /**
   * The JIT-compiled machine code of the program (empty when the JIT is off).
   *
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
   * prog.jited().byteLength; // 0 where the JIT is off
   * ```
   */
  jited(): Uint8Array {
    return readProgramInfoArrays(this.fd, { jited: true }).jited!;
  }

  /**
   * The translated program, disassembled: what the kernel made of it, one numbered line per
   * instruction (`0: r0 = 0`).
   *
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
   * console.log(prog.dump());
   * ```
   */
  dump(options: DisassembleOptions = {}): string {
    return disassembleLines(this.xlated(), { mapIds: true, ...options })
      .map((l) => `${String(l.index).padStart(4)}: ${l.text}`)
      .join("\n");
  }

  /**
   * Runs the program once or `repeat` times on the given input (`BPF_PROG_TEST_RUN`).
   *
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
   * const { retval } = prog.testRun({ data: new Uint8Array(64) }); // 2 (XDP_PASS)
   * ```
   */
  testRun(options: TestRunOptions = {}): TestRunResult {
    const attr = new Attr(PROG_TEST_RUN_ATTR).set("prog_fd", this.fd);
    const s = sys();
    // One arena holds every buffer the attr points to; passing it to bpf() keeps it alive.
    const dataInSize = options.data?.byteLength ?? 0;
    const dataOutSize = options.dataOutSize ?? (options.data ? dataInSize + 512 : 0);
    const ctxInSize = options.ctx?.byteLength ?? 0;
    const ctxOutSize = options.ctxOutSize ?? ctxInSize;
    const arena = alloc(dataInSize + dataOutSize + ctxInSize + ctxOutSize + 8);
    const base = s.addressOf(arena);
    let at = 0;
    const take = (n: number): [Uint8Array, bigint] => {
      const view = arena.subarray(at, at + n);
      const address = base + BigInt(at);
      at += n;
      return [view, address];
    };
    let dataOut: Uint8Array | undefined;
    let ctxOut: Uint8Array | undefined;
    if (options.data !== undefined) {
      const [view, address] = take(dataInSize);
      view.set(options.data);
      attr.set("data_size_in", dataInSize).setU64("data_in", address);
    }
    if (dataOutSize > 0) {
      const [view, address] = take(dataOutSize);
      dataOut = view;
      attr.set("data_size_out", dataOutSize).setU64("data_out", address);
    }
    if (options.ctx !== undefined) {
      const [view, address] = take(ctxInSize);
      view.set(options.ctx);
      attr.set("ctx_size_in", ctxInSize).setU64("ctx_in", address);
    }
    if (ctxOutSize > 0) {
      const [view, address] = take(ctxOutSize);
      ctxOut = view;
      attr.set("ctx_size_out", ctxOutSize).setU64("ctx_out", address);
    }
    if (options.repeat !== undefined) attr.set("repeat", options.repeat);
    if (options.flags !== undefined) attr.set("flags", options.flags);
    if (options.cpu !== undefined) attr.set("cpu", options.cpu);
    if (options.batchSize !== undefined) attr.set("batch_size", options.batchSize);
    const r = progTestRun(attr, arena);
    if (r < 0) {
      const needed = -r === Errno.ENOSPC
        ? ` (the program wrote ${attr.get("data_size_out")} bytes of data, ${
          attr.get("ctx_size_out")
        } of context; raise dataOutSize or ctxOutSize)`
        : "";
      throw new BpfError(BpfCmd.PROG_TEST_RUN, -r, `${this.typeName} program${needed}`);
    }
    const result: TestRunResult = {
      retval: attr.get("retval"),
      duration: attr.get("duration"),
    };
    if (dataOut !== undefined) result.dataOut = dataOut.slice(0, attr.get("data_size_out"));
    if (ctxOut !== undefined) result.ctxOut = ctxOut.slice(0, attr.get("ctx_size_out"));
    return result;
  }

  /**
   * Pins the program in bpffs, so that it outlives this process (`BPF_OBJ_PIN`).
   *
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
   * prog.pin(`/sys/fs/bpf/doc_prog_${Deno.pid}`);
   * prog.unpin();
   * ```
   */
  pin(path: string): void {
    this.#handle.pin(path);
  }

  /** Where {@link Program.pin} last pinned this program, until unpinned. */
  get pinnedPath(): string | undefined {
    return this.#handle.pinnedPath;
  }

  /**
   * Removes a pin: by default the one this handle made with `pin()`. The program lives on while
   * anything else holds it.
   *
   * @throws {Error} when no path is given and this handle pinned nothing.
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
   * prog.pin(`/sys/fs/bpf/doc_prog_${Deno.pid}`);
   * prog.unpin();
   * ```
   */
  unpin(path?: string): void {
    this.#handle.unpin(path);
  }

  /**
   * Removes a pin made with {@link Program.pin} (or any bpffs path).
   *
   * @example
   * ```ts
   * import { asm, Program } from "@tsbpf/core";
   * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
   * prog.pin(`/sys/fs/bpf/doc_prog_${Deno.pid}`);
   * Program.unpin(`/sys/fs/bpf/doc_prog_${Deno.pid}`);
   * ```
   */
  static unpin(path: string): void {
    unpinPath(path);
  }

  /** Closes the file descriptor. Idempotent. */
  close(): void {
    this.#handle.close();
  }

  /** `console.log` rendering: Program { id, type, name }. */
  toString(): string {
    return describeHandle(
      "Program",
      () =>
        this.closed
          ? undefined
          : { id: this.id, type: this.typeName, name: this.name, fd: this.fd },
    );
  }

  /** Closes the program at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function loadWithLog(
  attr: Attr,
  type: number,
  logLevel: number,
  firstSize: number,
  firstErrno: number,
  keepLogOnSuccess: boolean,
  info: Uint8Array | undefined,
): Program {
  const s = sys();
  let size = firstSize;
  for (;;) {
    const log = alloc(size);
    attr.set("log_level", logLevel).set("log_size", size).setU64("log_buf", s.addressOf(log));
    attr.set("log_true_size", 0);
    const fd = progLoad(attr, log, info);
    const end = log.indexOf(0);
    const text = textDecoder.decode(end < 0 ? log : log.subarray(0, end));
    if (fd >= 0) return new Program(fd, type, keepLogOnSuccess ? text : undefined);
    const errno = -fd;
    const trueSize = attr.get("log_true_size");
    if (errno === Errno.ENOSPC && size < MAX_LOG_SIZE) {
      size = Math.min(Math.max(trueSize + 1, size * 4), MAX_LOG_SIZE);
      continue;
    }
    // ENOSPC at the largest size: the log was cut short; report what we have.
    // The verifier may have passed the program (and written its log) before the kernel ran out
    // of fds or memory: that is not a verifier refusal.
    if (isResourceErrno(errno, errno === Errno.EPERM && memlockCharged())) {
      throw new ResourceError(BpfCmd.PROG_LOAD, errno, `${progTypeLabel(type)} program`);
    }
    const truncated = errno === Errno.ENOSPC;
    const realErrno = truncated && firstErrno !== 0 ? firstErrno : errno;
    if (text.trim() === "") {
      throw new BpfError(
        BpfCmd.PROG_LOAD,
        firstErrno !== 0 ? firstErrno : errno,
        `${progTypeLabel(type)} program`,
      );
    }
    throw new VerifierError(realErrno, text, truncated);
  }
}

for (const symbol of INSPECT_SYMBOLS) {
  Object.defineProperty(Program.prototype, symbol, {
    value(this: Program): string {
      return this.toString();
    },
  });
}
