/**
 * BPF iterators: an iterator link (`BPF_LINK_CREATE`, `BPF_TRACE_ITER`), and reading its output
 * through `BPF_ITER_CREATE`.
 *
 * @module
 */
import { AttachType } from "../../types/attach_type.ts";
import { ITER_CREATE_ATTR, LINK_CREATE_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { LinkType } from "../../types/link_type.ts";
import { Attr } from "../attr.ts";
import { BpfError } from "../errors.ts";
import { FdHandle } from "../fd.ts";
import { alloc } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { ProgType } from "../../types/prog_type.ts";
import { AttachError } from "./errors.ts";
import { Link } from "./link.ts";
import { type AttachableProgram, programFd } from "./os.ts";
import { Errno } from "../../types/errno.ts";
import { iterCreate, linkCreate } from "../sys/bpf_cmds.ts";

/** Bytes read per `read(2)`. */
const CHUNK = 64 * 1024;
/** `EINTR`. */
const EINTR = Errno.EINTR;
/** `EAGAIN`. */
const EAGAIN = Errno.EAGAIN;

/**
 * One pass over an iterator: a file whose reads run the program over the kernel objects
 * (`BPF_ITER_CREATE`). Read it to the end with {@link IterReader.readAll}.
 *
 * @example
 * ```ts
 * import { asm, AttachType, kernelBtf, Program } from "@tsbpf/core";
 * import { attachIter } from "@tsbpf/core/link";
 * const iterTask = {
 *   type: "tracing" as const,
 *   expectedAttachType: AttachType.TRACE_ITER,
 *   attachBtfId: kernelBtf().get("func", "bpf_iter_task").id,
 *   insns: asm`r0 = 0\nexit`,
 *   license: "GPL",
 * };
 * using prog = Program.load(iterTask);
 * using link = attachIter(prog);
 * using reader = link.open();
 * const bytes = reader.readAll(); // empty: this program prints nothing
 * ```
 */
export class IterReader {
  readonly #handle: FdHandle;

  /** Takes ownership of an iterator fd. Prefer {@link IterLink.open}. */
  constructor(fd: number) {
    this.#handle = new FdHandle(fd, "iterator");
  }

  /** The file descriptor. @throws {Error} once closed. */
  get fd(): number {
    return this.#handle.fd;
  }

  /**
   * Reads up to `max` bytes (one chunk of the program's output; an empty array at the end).
   *
   * @throws {BpfError} when `read(2)` fails (e.g. an error the program's iteration returned).
   * @example
   * ```ts
   * import { asm, AttachType, kernelBtf, Program } from "@tsbpf/core";
   * import { attachIter } from "@tsbpf/core/link";
   * const iterTask = {
   *   type: "tracing" as const,
   *   expectedAttachType: AttachType.TRACE_ITER,
   *   attachBtfId: kernelBtf().get("func", "bpf_iter_task").id,
   *   insns: asm`r0 = 0\nexit`,
   *   license: "GPL",
   * };
   * using prog = Program.load(iterTask);
   * using link = attachIter(prog);
   * using reader = link.open();
   * for (let c = reader.read(); c.length > 0; c = reader.read()) console.log(c.length);
   * ```
   */
  read(max: number = CHUNK): Uint8Array {
    if (!Number.isInteger(max) || max < 1 || max > 0x7fff_f000) {
      throw new RangeError(`read(max): max must be a whole number of bytes ≥ 1, got ${max}`);
    }
    const s = sys();
    const buf = alloc(max);
    for (;;) {
      const r = s.syscall(s.nr.read, BigInt(this.fd), s.addressOf(buf), BigInt(max));
      if (r >= 0n) return buf.slice(0, Number(r));
      const errno = Number(-r);
      if (errno === EINTR || errno === EAGAIN) continue;
      throw new BpfError("read", errno, "BPF iterator");
    }
  }

  /**
   * Reads everything to the end of the iteration.
   *
   * @example
   * ```ts
   * import { asm, AttachType, kernelBtf, Program } from "@tsbpf/core";
   * import { attachIter } from "@tsbpf/core/link";
   * const iterTask = {
   *   type: "tracing" as const,
   *   expectedAttachType: AttachType.TRACE_ITER,
   *   attachBtfId: kernelBtf().get("func", "bpf_iter_task").id,
   *   insns: asm`r0 = 0\nexit`,
   *   license: "GPL",
   * };
   * using prog = Program.load(iterTask);
   * using link = attachIter(prog);
   * using reader = link.open();
   * const all = reader.readAll();
   * ```
   */
  readAll(): Uint8Array {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (let c = this.read(); c.length > 0; c = this.read()) {
      chunks.push(c);
      total += c.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** Closes the iterator fd. Idempotent. */
  close(): void {
    this.#handle.close();
  }

  /** Closes the reader at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * A link of an iterator program. Each {@link IterLink.open} starts a fresh pass over the
 * kernel's objects.
 *
 * @example
 * ```ts
 * import { asm, AttachType, kernelBtf, Program } from "@tsbpf/core";
 * import { attachIter } from "@tsbpf/core/link";
 * const iterTask = {
 *   type: "tracing" as const,
 *   expectedAttachType: AttachType.TRACE_ITER,
 *   attachBtfId: kernelBtf().get("func", "bpf_iter_task").id,
 *   insns: asm`r0 = 0\nexit`,
 *   license: "GPL",
 * };
 * using prog = Program.load(iterTask);
 * using link = attachIter(prog);
 * console.log(link.readText());
 * ```
 */
export class IterLink extends Link {
  /**
   * Opens a pinned iterator link, so that it can be read (`Link.fromPin` gives a plain `Link`).
   *
   * @throws {TypeError} when the pinned link is not an iterator link.
   * @example
   * ```ts
   * import { asm, AttachType, kernelBtf, Program } from "@tsbpf/core";
   * import { attachIter, IterLink } from "@tsbpf/core/link";
   * const iterTask = {
   *   type: "tracing" as const,
   *   expectedAttachType: AttachType.TRACE_ITER,
   *   attachBtfId: kernelBtf().get("func", "bpf_iter_task").id,
   *   insns: asm`r0 = 0\nexit`,
   *   license: "GPL",
   * };
   * using prog = Program.load(iterTask);
   * using link = attachIter(prog);
   * const path = `/sys/fs/bpf/doc_iter_${Deno.pid}`;
   * link.pin(path);
   * using again = IterLink.fromPin(path);
   * console.log(again.readText());
   * IterLink.unpin(path);
   * ```
   */
  static override fromPin(path: string): IterLink {
    const link = super.fromPin(path) as IterLink;
    let typeName: string;
    try {
      const info = link.info();
      if (info.type === LinkType.ITER) return link;
      typeName = info.typeName;
    } catch (e) {
      link.close();
      throw e;
    }
    link.close();
    throw new TypeError(`${path} is a ${typeName} link, not an iterator link`);
  }

  /**
   * Starts a pass over the iterator (`BPF_ITER_CREATE`).
   *
   * @throws {BpfError} when the kernel refuses.
   * @example
   * ```ts
   * import { asm, AttachType, kernelBtf, Program } from "@tsbpf/core";
   * import { attachIter } from "@tsbpf/core/link";
   * const iterTask = {
   *   type: "tracing" as const,
   *   expectedAttachType: AttachType.TRACE_ITER,
   *   attachBtfId: kernelBtf().get("func", "bpf_iter_task").id,
   *   insns: asm`r0 = 0\nexit`,
   *   license: "GPL",
   * };
   * using prog = Program.load(iterTask);
   * using link = attachIter(prog);
   * using reader = link.open();
   * ```
   */
  open(): IterReader {
    const attr = new Attr(ITER_CREATE_ATTR).set("link_fd", this.fd);
    const fd = iterCreate(attr);
    if (fd < 0) throw new BpfError(BpfCmd.ITER_CREATE, -fd, `iterator link ${this.id}`);
    return new IterReader(fd);
  }

  /**
   * Runs one whole pass and returns its output bytes.
   *
   * @example
   * ```ts
   * import { asm, AttachType, kernelBtf, Program } from "@tsbpf/core";
   * import { attachIter } from "@tsbpf/core/link";
   * const iterTask = {
   *   type: "tracing" as const,
   *   expectedAttachType: AttachType.TRACE_ITER,
   *   attachBtfId: kernelBtf().get("func", "bpf_iter_task").id,
   *   insns: asm`r0 = 0\nexit`,
   *   license: "GPL",
   * };
   * using prog = Program.load(iterTask);
   * using link = attachIter(prog);
   * link.readBytes().length; // 0
   * ```
   */
  readBytes(): Uint8Array {
    const reader = this.open();
    try {
      return reader.readAll();
    } finally {
      reader.close();
    }
  }

  /**
   * Runs one whole pass and returns its output as UTF-8 text (what `bpf_seq_printf` wrote).
   *
   * @example
   * ```ts
   * import { asm, AttachType, kernelBtf, Program } from "@tsbpf/core";
   * import { attachIter } from "@tsbpf/core/link";
   * const iterTask = {
   *   type: "tracing" as const,
   *   expectedAttachType: AttachType.TRACE_ITER,
   *   attachBtfId: kernelBtf().get("func", "bpf_iter_task").id,
   *   insns: asm`r0 = 0\nexit`,
   *   license: "GPL",
   * };
   * using prog = Program.load(iterTask);
   * using link = attachIter(prog);
   * console.log(link.readText());
   * ```
   */
  readText(): string {
    return new TextDecoder().decode(this.readBytes());
  }
}

/**
 * Creates an iterator link for a program loaded as `type: "tracing"` with
 * `expectedAttachType: AttachType.TRACE_ITER` and `attachBtfId` of `bpf_iter_<target>` (e.g.
 * `bpf_iter_task`). Read its output with {@link IterLink.readText} or {@link IterLink.open}.
 *
 * @throws {AttachError} `EINVAL` for a program that is not an iterator.
 * @example
 * ```ts
 * import { asm, AttachType, kernelBtf, Program } from "@tsbpf/core";
 * import { attachIter } from "@tsbpf/core/link";
 * const iterTask = {
 *   type: "tracing" as const,
 *   expectedAttachType: AttachType.TRACE_ITER,
 *   attachBtfId: kernelBtf().get("func", "bpf_iter_task").id,
 *   insns: asm`r0 = 0\nexit`,
 *   license: "GPL",
 * };
 * using prog = Program.load(iterTask);
 * using link = attachIter(prog);
 * console.log(link.readText());
 * ```
 */
export function attachIter(program: AttachableProgram): IterLink {
  const target = `attachIter(program ${program.closed ? "closed" : program.id})`;
  const attr = new Attr(LINK_CREATE_ATTR)
    .set("prog_fd", programFd(program, target, [ProgType.TRACING]))
    .set("attach_type", AttachType.TRACE_ITER);
  const fd = linkCreate(attr);
  if (fd < 0) throw new AttachError(target, BpfCmd.LINK_CREATE, -fd);
  return new IterLink(fd);
}

/**
 * Reads one whole pass of an iterator link as text: the same as `link.readText()`.
 *
 * @example
 * ```ts
 * import { asm, AttachType, kernelBtf, Program } from "@tsbpf/core";
 * import { attachIter, readIter } from "@tsbpf/core/link";
 * const iterTask = {
 *   type: "tracing" as const,
 *   expectedAttachType: AttachType.TRACE_ITER,
 *   attachBtfId: kernelBtf().get("func", "bpf_iter_task").id,
 *   insns: asm`r0 = 0\nexit`,
 *   license: "GPL",
 * };
 * using prog = Program.load(iterTask);
 * using link = attachIter(prog);
 * console.log(readIter(link));
 * ```
 */
export function readIter(link: IterLink): string {
  return link.readText();
}
