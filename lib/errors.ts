/**
 * Errors raised by tsbpf when the kernel refuses a request.
 *
 * @module
 */
import { bpfCmdName } from "../types/cmd.ts";
import { ERRNO_MESSAGES, errnoName } from "../types/errno.ts";

/** Hints for one command's errno, before the general ones. */
const COMMAND_HINTS: Readonly<Record<string, string>> = {
  "BPF_PROG_LOAD:ENOSPC": "the log buffer was too small",
  "BPF_PROG_TEST_RUN:ENOSPC": "the output is larger than the data_out or ctx_out buffer",
  "BPF_MAP_CREATE:EINVAL": "the kernel refused the map's type, sizes or flags",
  "BPF_OBJ_PIN:EPERM": "the path is not inside a bpf filesystem",
  "BPF_LINK_CREATE:E2BIG": "the hook holds too many programs (a cgroup hook holds at most 64)",
  "BPF_PROG_ATTACH:E2BIG": "the hook holds too many programs (a cgroup hook holds at most 64)",
  "BPF_OBJ_GET:EPERM": "the path is not inside a bpf filesystem",
  "BPF_MAP_UPDATE_ELEM:E2BIG": "no room for the element",
  "BPF_OBJ_PIN:EEXIST": "something is already pinned at this path: unpin it or choose another",
  "BPF_OBJ_PIN:ENOENT": "the directory of the path does not exist in the bpf filesystem",
  "BPF_PROG_TEST_RUN:EINVAL":
    "the input does not suit this program type (packets need at least a 14-byte Ethernet header; some types take only a context)",
};

/** The capabilities that decide what bpf() allows, by bit number (`linux/capability.h`). */
const BPF_CAPS: readonly [number, string][] = [
  [21, "CAP_SYS_ADMIN"],
  [39, "CAP_BPF"],
  [38, "CAP_PERFMON"],
  [12, "CAP_NET_ADMIN"],
];

let readCapabilities: () => bigint | undefined = () => undefined;

/**
 * Sets how the EPERM hint learns the process's effective capabilities (a bit mask, or `undefined`
 * when unknown). This module stays pure: the object layer (`lib/fd.ts`) installs the reader of
 * `/proc/self/status` from `lib/caps.ts`; without one the hint does not list capabilities.
 *
 * @example
 * ```ts
 * import { BpfError, setCapabilityReader } from "./errors.ts";
 * setCapabilityReader(() => 1n << 39n); // as if the process held CAP_BPF only
 * new BpfError("BPF_PROG_LOAD", 1).message; // "… it has only CAP_BPF"
 * ```
 */
export function setCapabilityReader(read: () => bigint | undefined): void {
  readCapabilities = read;
}

/**
 * What the EPERM hint says. It names as missing only the capabilities this process lacks; when it
 * holds them all, the refusal is the kernel's policy (a vendor patch, an LSM, a sysctl), and the
 * hint says so instead of naming a capability.
 */
function permissionHint(): string {
  const base =
    "the process needs CAP_BPF and CAP_SYS_ADMIN (or CAP_PERFMON/CAP_NET_ADMIN for some types)";
  const caps = readCapabilities();
  if (caps === undefined) return `${base}, or root`;
  const has = (bit: number) => ((caps >> BigInt(bit)) & 1n) === 1n;
  const held = BPF_CAPS.filter(([bit]) => has(bit)).map(([, n]) => n);
  if (held.length === BPF_CAPS.length) {
    return `the process holds ${held.join(", ")}: this kernel refuses it for this process ` +
      "by policy (a vendor patch, an LSM or a sysctl), not for a missing capability";
  }
  return `${base}; it has ${held.length === 0 ? "none of them" : "only " + held.join(", ")}`;
}

const HINTS: Readonly<Record<string, string>> = {
  EACCES: "the kernel denied access (privileges, or a verifier refusal)",
  E2BIG: "a size in the request is larger than this kernel accepts",
  EFAULT: "the kernel could not read or write a buffer it was given",
  EBADF: "the file descriptor is not open, or not a BPF object",
  ENOENT: "no such object",
  ENOMEM:
    "the kernel could not allocate memory: free memory, or on kernels before 5.11 raise RLIMIT_MEMLOCK (ulimit -l)",
  EMFILE: "no file descriptor left in this process: raise ulimit -n (RLIMIT_NOFILE)",
  ENFILE: "the system file table is full: raise fs.file-max",
};

/**
 * A failed `bpf(2)` (or other) system call: which command, the errno number and its symbolic
 * name, and a hint a person can act on.
 *
 * @example
 * ```ts
 * import { BpfError } from "@tsbpf/core";
 * const e = new BpfError("BPF_PROG_LOAD", 1);
 * e.errnoName; // "EPERM"
 * ```
 */
export class BpfError extends Error {
  /** The kernel command or system call that failed, e.g. `"BPF_PROG_LOAD"`. */
  readonly command: string;
  /** The errno number (positive). */
  readonly errno: number;
  /** The errno's symbolic name, e.g. `"EPERM"`. */
  readonly errnoName: string;

  /**
   * Creates the error. `command` is a `bpf_cmd` number or a name; `detail` is added to the message.
   */
  constructor(command: number | string, errno: number, detail?: string) {
    const cmd = typeof command === "number" ? bpfCmdName(command) : command;
    const name = errnoName(errno);
    const text = ERRNO_MESSAGES[errno] ?? "unknown error";
    const hint = COMMAND_HINTS[`${cmd}:${name}`] ??
      (name === "EPERM" ? permissionHint() : HINTS[name]);
    super(
      `${cmd} failed: ${name} (${errno}, ${text})` + (detail ? `: ${detail}` : "") +
        (hint ? ` — ${hint}` : ""),
    );
    this.name = "BpfError";
    this.command = cmd;
    this.errno = errno;
    this.errnoName = name;
  }
}

/** How many lines of the verifier log the message of a {@link VerifierError} shows. */
const TAIL_LINES = 12;

/**
 * A C source position of an instruction, from the program's BTF line_info.
 *
 * @example
 * ```ts
 * import type { SourceLine } from "@tsbpf/core";
 * const s: SourceLine = { file: "prog.bpf.c", line: 11, column: 9, text: "return data[14];" };
 * ```
 */
export interface SourceLine {
  /** The source file name as the compiler recorded it. */
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  /** Column (0 when not recorded). */
  readonly column: number;
  /** The line's text. */
  readonly text: string;
}

/**
 * The verifier refused a program. `log` holds the whole verifier log; the message shows its
 * meaningful tail (the last lines before the statistics line) and, when the log does not already
 * say it, the C source line of the refused instruction (from the program's line_info).
 *
 * @example
 * ```ts
 * import { VerifierError } from "@tsbpf/core";
 * const e = new VerifierError(13, "0: (95) exit\nR0 !read_ok\nprocessed 1 insns\n");
 * e.tail; // ["0: (95) exit", "R0 !read_ok"]
 * e.insn; // 0
 * ```
 */
export class VerifierError extends BpfError {
  /** The whole verifier log. */
  readonly log: string;
  /** The meaningful last lines of the log, as in the message. */
  readonly tail: readonly string[];
  /** Whether the log was cut short by the kernel (it did not fit the largest buffer). */
  readonly truncated: boolean;
  /** The index of the instruction the verifier refused, when the log names it. */
  readonly insn: number | undefined;
  /** The C source line of that instruction, when the caller knew it (line_info). */
  readonly source: SourceLine | undefined;

  /**
   * Creates the error from the errno of `BPF_PROG_LOAD` and the log the kernel wrote. `source` is
   * the C source line of the refused instruction, shown in the message when the log lacks it.
   */
  constructor(errno: number, log: string, truncated = false, source?: SourceLine) {
    const tail = meaningfulTail(log);
    const omitted = log.split("\n").filter((l) => l.trim() !== "").length - tail.length;
    const where = source !== undefined && !log.includes(` @ ${source.file}:${source.line}`)
      ? `\n  ; ${source.text.trim()} @ ${source.file}:${source.line}` +
        (source.column > 0 ? `:${source.column}` : "") + " (the refused instruction's source)"
      : "";
    const detail = tail.length === 0 ? "the verifier wrote no log" : "verifier log" +
      (omitted > 0 ? ` (last ${tail.length} lines, ${omitted} more in .log)` : "") +
      ":\n  " + tail.join("\n  ") + where;
    super("BPF_PROG_LOAD", errno, detail);
    this.name = "VerifierError";
    this.log = log;
    this.tail = tail;
    this.truncated = truncated;
    this.insn = refusedInsn(log);
    this.source = source;
  }
}

/**
 * The index of the instruction a verifier log says was refused: the last instruction the verifier
 * printed (`N: (op) ...`), or the `insn N` of a structured (7.x) report; `undefined` when the log
 * names none (a refusal before the walk, such as `unknown opcode`).
 *
 * @example
 * ```ts
 * import { refusedInsn } from "@tsbpf/core";
 * refusedInsn("0: (b7) r0 = 0\n1: (95) exit\nR0 !read_ok\n"); // 1
 * ```
 */
export function refusedInsn(log: string): number | undefined {
  const structured = /^\s*At:\s*\n\s*insn (\d+)/m.exec(log);
  if (structured) return Number(structured[1]);
  let found: number | undefined;
  for (const m of classicPart(log).matchAll(/^(\d+): \([0-9a-f]{2}\)/gm)) found = Number(m[1]);
  if (found === undefined) {
    const marked = /^\s*>>> (\d+) \| \([0-9a-f]{2}\)/m.exec(log); // the report's instruction context
    if (marked) found = Number(marked[1]);
  }
  return found;
}

/**
 * The last lines of a verifier log that say why it failed: blank lines and the trailing statistics
 * (`processed N insns …`, `verification time …`) dropped, at most a dozen lines. A log that ends
 * with a structured report (Linux 7.x: `Verification failed: …`, `Reason:`, `Suggestion:`) gives
 * the lines before the report, which hold the verifier's own message, then the report's headline
 * and its suggestion.
 *
 * @example
 * ```ts
 * import { meaningfulTail } from "@tsbpf/core";
 * meaningfulTail("a\nb\n\n"); // ["a", "b"]
 * ```
 */
export function meaningfulTail(log: string, maxLines = TAIL_LINES): string[] {
  const lines = log.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
  // The statistics the kernel appends say nothing about why it refused.
  while (lines.length > 1 && STATS_LINE.test(lines[lines.length - 1])) lines.pop();
  const report = lines.findIndex((l) => l.startsWith("Verification failed:"));
  if (report <= 0) return lines.slice(-maxLines);
  const extra = [lines[report]];
  const suggestion = lines.indexOf("Suggestion:", report);
  if (suggestion > 0 && suggestion + 1 < lines.length) {
    extra.push(`Suggestion: ${lines[suggestion + 1].trim()}`);
  }
  const keep = Math.max(1, maxLines - extra.length);
  return [...lines.slice(0, report).slice(-keep), ...extra];
}

/** The part of a verifier log before a structured (7.x) report, or the whole log. */
function classicPart(log: string): string {
  const at = log.indexOf("\nVerification failed:");
  return at < 0 ? log : log.slice(0, at);
}

/** Lines of `BPF_LOG_STATS` output at the end of a verifier log. */
const STATS_LINE =
  /^(processed \d+ insns|verification time \d+ usec|stack depth |insn \d+ cannot be patched)/;

/**
 * An operation on a handle (program, map, link, ring buffer…) that was already closed. Every
 * handle type throws this class or a subclass of it.
 *
 * @example
 * ```ts
 * import { ClosedError } from "@tsbpf/core";
 * const e = new ClosedError("program", "fd");
 * e.message; // "fd: this program is closed"
 * ```
 */
export class ClosedError extends Error {
  /** What kind of handle: `"program"`, `"map"`, `"link"`, `"ring buffer"`… */
  readonly kind: string;
  /** The operation that was refused. */
  readonly operation: string;

  /** Creates the error; `message` replaces the default wording. */
  constructor(kind: string, operation: string, message?: string) {
    super(message ?? `${operation}: this ${kind} is closed`);
    this.name = "ClosedError";
    this.kind = kind;
    this.operation = operation;
  }
}

/** The resource each errno of an exhausted resource names (the hint in `HINTS` says what to raise). */
const RESOURCES: Readonly<Partial<Record<number, "fds" | "memory">>> = {
  24: "fds",
  23: "fds",
  12: "memory",
};

/**
 * A request the kernel refused for lack of a resource, not because it was wrong: `EMFILE` (no
 * file descriptor left in this process), `ENFILE` (system file table full), `ENOMEM`, and `EPERM`
 * from the locked-memory limit on kernels before 5.11 (which charge BPF memory to
 * `RLIMIT_MEMLOCK`). The message says which limit to raise; `resource` names it.
 *
 * @example
 * ```ts
 * import { ResourceError } from "@tsbpf/core";
 * const e = new ResourceError("BPF_MAP_CREATE", 24);
 * e.resource; // "fds"
 * ```
 */
export class ResourceError extends BpfError {
  /** `"fds"`, `"memory"` or `"memlock"`. */
  readonly resource: "fds" | "memory" | "memlock";

  /** Creates the error for `errno` (EMFILE, ENFILE, ENOMEM, or EPERM meaning memlock). */
  constructor(command: number | string, errno: number, detail?: string) {
    const resource: "fds" | "memory" | "memlock" = RESOURCES[errno] ?? "memlock";
    const memlock = "RLIMIT_MEMLOCK is exhausted (kernels before 5.11 charge BPF maps and " +
      "programs to it): raise it (ulimit -l unlimited, or setrlimit(RLIMIT_MEMLOCK))";
    super(
      command,
      errno,
      resource === "memlock" ? (detail ? `${detail}: ${memlock}` : memlock) : detail,
    );
    this.name = "ResourceError";
    this.resource = resource;
  }
}

/**
 * Whether `errno` from a bpf(2) call means an exhausted resource rather than a refusal: EMFILE,
 * ENFILE, ENOMEM, and EPERM when `memlockCharged` (a kernel before 5.11, which charges BPF memory
 * to RLIMIT_MEMLOCK, and a privileged caller: the object layer knows, see `memlockCharged` in
 * `lib/caps.ts`). Callers throw a {@link ResourceError} for these.
 *
 * @example
 * ```ts
 * import { isResourceErrno } from "@tsbpf/core";
 * isResourceErrno(24); // true (EMFILE)
 * ```
 */
export function isResourceErrno(errno: number, memlockCharged = false): boolean {
  return errno === 24 || errno === 23 || errno === 12 || (errno === 1 && memlockCharged);
}

/**
 * An argument the caller gave is out of range or of the wrong kind, found before any system call
 * (a chunk size, an offset, a count). It is a `RangeError`, so existing `catch` code keeps
 * working; `argument` names the parameter.
 *
 * @example
 * ```ts
 * import { ArgumentError } from "@tsbpf/core";
 * const e = new ArgumentError("chunk", "chunk must be an integer 1..1048576, got 1099511627776");
 * e instanceof RangeError; // true
 * ```
 */
export class ArgumentError extends RangeError {
  /** The parameter, e.g. `"chunk"`. */
  readonly argument: string;

  /** Creates the error. */
  constructor(argument: string, message: string) {
    super(message);
    this.name = "ArgumentError";
    this.argument = argument;
  }
}
