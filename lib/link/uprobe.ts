/**
 * Uprobes and uretprobes through the `uprobe` perf PMU and perf-event links.
 *
 * @module
 */
import { ArgumentError } from "../errors.ts";
import { readFileBytes, readFileText } from "../host_fs.ts";
import { ElfError } from "../elf/error.ts";
import { parseNativeElf, resolveSymbol, SymbolError } from "../elf/native.ts";
import { alloc, cString, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { ProgType } from "../../types/prog_type.ts";
import { AttachError } from "./errors.ts";
import type { Link } from "./link.ts";
import { type AttachableProgram, programFd } from "./os.ts";
import { linkPerfEvent } from "./perf_link.ts";
import { Errno } from "../../types/errno.ts";
import { PerfFlag } from "../../types/os.ts";

/** Where the uprobe PMU describes itself. */
const UPROBE_PMU = "/sys/bus/event_source/devices/uprobe";
/** `sizeof(struct perf_event_attr)` up to `PERF_ATTR_SIZE_VER7`. */
const PERF_ATTR_SIZE = 128;
const PERF_FLAG_FD_CLOEXEC = BigInt(PerfFlag.FD_CLOEXEC);
const ENOENT = Errno.ENOENT;
const ENOEXEC = Errno.ENOEXEC;
const EINVAL = Errno.EINVAL;
const EOPNOTSUPP = Errno.EOPNOTSUPP;

/**
 * What {@link attachUprobe} probes: a function (`symbol`, plus an optional byte `offset` into it)
 * or a raw file `offset` of an executable or shared object, in one process or all of them.
 *
 * @example
 * ```ts
 * import type { UprobeTarget } from "@tsbpf/core/link";
 * const t: UprobeTarget = { path: "libc.so.6", symbol: "malloc", retprobe: true };
 * ```
 */
export interface UprobeTarget {
  /**
   * The executable or shared object: a path, or the file name of a library mapped into this
   * process (e.g. `"libc.so.6"`, found in `/proc/self/maps`).
   */
  path: string;
  /**
   * A function in `.dynsym` or `.symtab`: the bare name (its default version, e.g. `"realpath"`),
   * `name@VER` (that version, hidden or not: `"realpath@GLIBC_2.2.5"`) or `name@@VER` (the default
   * version only), as `readelf --dyn-syms` shows them. An IFUNC (e.g. glibc's `memcpy`) is
   * refused: probe the implementation its resolver picks (e.g. `__memmove_avx_unaligned_erms`).
   */
  symbol?: string;
  /** With `symbol`: bytes into the function; without: the file offset of the instruction. */
  offset?: number;
  /** Only this process (all its threads); -1 (the default) for every process. */
  pid?: number;
  /** Fire on return from the function (a uretprobe) instead of at its entry. */
  retprobe?: boolean;
  /** The value `bpf_get_attach_cookie()` returns in the program. */
  cookie?: bigint;
}

let pmu: { type: number; retprobeBit: number } | undefined;

/** The uprobe PMU's `type` and the `config` bit of `retprobe`, read once. */
function uprobePmu(target: string): { type: number; retprobeBit: number } {
  if (pmu !== undefined) return pmu;
  let type: number;
  let format: string;
  try {
    type = Number(readFileText(`${UPROBE_PMU}/type`).trim());
    format = readFileText(`${UPROBE_PMU}/format/retprobe`).trim();
  } catch {
    throw new AttachError(
      target,
      "perf_event_open",
      EOPNOTSUPP,
      `the kernel has no uprobe PMU (${UPROBE_PMU}): it needs CONFIG_UPROBE_EVENTS`,
    );
  }
  const m = /^config:(\d+)$/.exec(format);
  if (m === null || !Number.isInteger(type)) {
    throw new AttachError(
      target,
      "perf_event_open",
      EOPNOTSUPP,
      `unexpected ${UPROBE_PMU}/format/retprobe: "${format}"`,
    );
  }
  pmu = { type, retprobeBit: Number(m[1]) };
  return pmu;
}

/**
 * The file a path stands for: itself when it contains a `/`, otherwise the library of that file
 * name mapped into this process (an exact file name, or one starting with `name.`, so that
 * `"libc.so"` finds `libc.so.6`).
 *
 * @throws {AttachError} `ENOENT` when no mapped file has that name.
 * @example
 * ```ts
 * import { resolveLibraryPath } from "@tsbpf/core/link";
 * resolveLibraryPath("libc.so.6"); // e.g. "/usr/lib/x86_64-linux-gnu/libc.so.6"
 * ```
 */
export function resolveLibraryPath(path: string): string {
  if (path.includes("/")) return path;
  if (path === "") throw new RangeError("attachUprobe: path is empty");
  const files = new Set<string>();
  for (const line of readFileText("/proc/self/maps").split("\n")) {
    const at = line.indexOf("/");
    if (at >= 0 && !line.endsWith(" (deleted)")) files.add(line.slice(at));
  }
  const name = (f: string): string => f.slice(f.lastIndexOf("/") + 1);
  const found = [...files].find((f) => name(f) === path) ??
    [...files].find((f) => name(f).startsWith(`${path}.`));
  if (found === undefined) {
    throw new AttachError(
      `attachUprobe(${path})`,
      "open",
      ENOENT,
      `${path}: no file of that name is mapped into this process (looked in /proc/self/maps); ` +
        "give a path",
    );
  }
  return found;
}

/** The file offset of `symbol` in `path`, as an {@link AttachError} on failure. */
export function symbolOffset(path: string, symbol: string, target: string): number {
  let bytes: Uint8Array;
  try {
    bytes = readFileBytes(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new AttachError(
      target,
      "open",
      code === "ENOENT" ? ENOENT : code === "EACCES" ? 13 : code === "EISDIR" ? 21 : ENOEXEC,
      `${path}${code === undefined ? `: ${(e as Error).message}` : ""}`,
    );
  }
  try {
    return resolveSymbol(parseNativeElf(bytes), symbol, path).offset;
  } catch (e) {
    if (e instanceof SymbolError) {
      throw new AttachError(
        target,
        "symbol lookup",
        e.reason === "not-found" ? ENOENT : EINVAL,
        e.message.replace(/^ELF: /, ""),
      );
    }
    if (e instanceof ElfError) {
      throw new AttachError(target, "symbol lookup", ENOEXEC, `${path}: ${e.message}`);
    }
    throw e;
  }
}

let refCtrShift: number | undefined;

/** The `config` bit where the uprobe PMU takes `ref_ctr_offset` (4.20+), read once. */
function refCtrBit(target: string): number {
  if (refCtrShift !== undefined) return refCtrShift;
  let format = "";
  try {
    format = readFileText(`${UPROBE_PMU}/format/ref_ctr_offset`).trim();
  } catch {
    // handled below
  }
  const m = /^config:(\d+)-63$/.exec(format);
  if (m === null) {
    throw new AttachError(
      target,
      "perf_event_open",
      EOPNOTSUPP,
      `the uprobe PMU takes no ref_ctr_offset (${UPROBE_PMU}/format/ref_ctr_offset: ` +
        `${format === "" ? "missing" : `"${format}"`}): a semaphore needs Linux 4.20+`,
    );
  }
  refCtrShift = Number(m[1]);
  return refCtrShift;
}

/**
 * Opens the uprobe perf event; the caller owns the fd. A non-zero `refCtrOffset` is the file
 * offset of a reference counter (a USDT semaphore) the kernel increments while the probe is
 * set.
 */
export function openUprobeEvent(
  path: string,
  offset: number,
  pid: number,
  retprobe: boolean,
  target: string,
  refCtrOffset = 0,
): number {
  const s = sys();
  const { type, retprobeBit } = uprobePmu(target);
  const refCtr = refCtrOffset === 0 ? 0n : BigInt(refCtrOffset) << BigInt(refCtrBit(target));
  const attr = alloc(PERF_ATTR_SIZE);
  const name = cString(path);
  const dv = new DataView(attr.buffer);
  dv.setUint32(0, type, true); // type
  dv.setUint32(4, PERF_ATTR_SIZE, true); // size
  dv.setBigUint64(8, (retprobe ? 1n << BigInt(retprobeBit) : 0n) | refCtr, true); // config
  dv.setBigUint64(16, 1n, true); // sample_period
  dv.setUint32(48, 1, true); // wakeup_events
  dv.setBigUint64(56, s.addressOf(name), true); // config1: uprobe_path
  dv.setBigUint64(64, BigInt(offset), true); // config2: probe_offset
  // All processes: pid -1 needs a CPU (the program still runs on every CPU). One process: any CPU.
  const cpu = pid === -1 ? 0n : -1n;
  const fd = s.syscall(
    s.nr.perf_event_open,
    s.addressOf(attr),
    BigInt(pid),
    cpu,
    -1n,
    PERF_FLAG_FD_CLOEXEC,
  );
  retain(attr, name);
  if (fd < 0n) {
    const errno = Number(-fd);
    throw new AttachError(
      target,
      "perf_event_open",
      errno,
      `${path} at file offset 0x${offset.toString(16)}` +
        (errno === ENOENT ? " (no such file)" : "") +
        (errno === 3 /* ESRCH */ ? ` (no process ${pid})` : ""),
    );
  }
  return Number(fd);
}

/**
 * Attaches a `kprobe` program to a user-space function or instruction: a uprobe (or, with
 * `retprobe`, a uretprobe) opened with `perf_event_open` on the `uprobe` PMU, then a perf-event
 * link (`BPF_LINK_CREATE`, `BPF_PERF_EVENT`). `symbol` is resolved to a file offset through the
 * file's `.dynsym`/`.symtab` and program headers. The link holds the perf event; closing it
 * detaches the program.
 *
 * @throws {AttachError} `ENOENT` for a missing file, an unmapped library name or an unknown symbol
 *   (naming it and the file), `EINVAL` for a symbol that is not a function (data, or an IFUNC) or a
 *   program of another type, `ENOEXEC` for a file that is not a native ELF object.
 * @throws {RangeError} for a bad `offset` or `pid`, or neither `symbol` nor `offset`.
 * @example
 * ```ts
 * import { asm, Program } from "@tsbpf/core";
 * import { attachUprobe } from "@tsbpf/core/link";
 * using prog = Program.load({ type: "kprobe", insns: asm`r0 = 0\nexit`, license: "GPL" });
 * using entry = attachUprobe(prog, { path: "libc.so.6", symbol: "malloc" });
 * using exit = attachUprobe(prog, { path: "libc.so.6", symbol: "malloc", retprobe: true });
 * ```
 */
export function attachUprobe(program: AttachableProgram, target: UprobeTarget): Link {
  const { symbol, offset, pid = -1, retprobe = false, cookie } = target;
  const where = `${target.path}:${symbol ?? ""}${
    offset === undefined ? "" : `${symbol === undefined ? "" : "+"}${
      // Hex only for a valid offset: -1 is "-1", not "0x-1".
      Number.isSafeInteger(offset) && offset >= 0 ? `0x${offset.toString(16)}` : String(offset)}`
  }`;
  const label = `attachUprobe(${retprobe ? "return " : ""}${where}${
    pid === -1 ? "" : `, pid ${pid}`
  })`;
  if (offset !== undefined && (!Number.isSafeInteger(offset) || offset < 0)) {
    throw new ArgumentError("offset", `${label}: offset ${offset} is not a non-negative integer`);
  }
  if (!Number.isSafeInteger(pid) || pid < -1 || pid > 0x7fffffff) {
    throw new RangeError(`${label}: pid ${pid} is not -1 or a process id`);
  }
  if (symbol === undefined && offset === undefined) {
    throw new RangeError(`${label}: give a symbol or a file offset`);
  }
  if (cookie !== undefined && (cookie < 0n || cookie >= 1n << 64n)) {
    throw new RangeError(`${label}: cookie ${cookie} does not fit in a u64`);
  }
  const progFd = programFd(program, label, [ProgType.KPROBE]);
  const path = resolveLibraryPath(target.path);
  const fileOffset = symbol === undefined
    ? offset!
    : symbolOffset(path, symbol, label) + (offset ?? 0);
  return linkPerfEvent(label, progFd, openUprobeEvent(path, fileOffset, pid, retprobe, label), {
    cookie,
  });
}
