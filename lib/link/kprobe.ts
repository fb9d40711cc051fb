/**
 * Kprobes and kretprobes (the `kprobe` perf PMU, or tracefs `kprobe_events` for `maxactive`) and
 * multi-kprobes (`BPF_LINK_CREATE` with `BPF_TRACE_KPROBE_MULTI`).
 *
 * @module
 */
import { AttachType } from "../../types/attach_type.ts";
import { LINK_CREATE_KPROBE_MULTI_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { ProgType } from "../../types/prog_type.ts";
import { Attr } from "../attr.ts";
import { BpfError } from "../errors.ts";
import { pathExists, processId, readFileText, writeFileText } from "../host_fs.ts";
import { perfEventOpen, PerfType } from "../perf/event.ts";
import { alloc, cString, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { linkCreate } from "../sys/bpf_cmds.ts";
import { AttachError } from "./errors.ts";
import { Link } from "./link.ts";
import { type AttachableProgram, programFd } from "./os.ts";
import { linkPerfEvent } from "./perf_link.ts";
import { liveProfile } from "../profile/live.ts";
import { LinkType } from "../../types/link_type.ts";
import { TRACEFS_PATHS } from "./tracepoint.ts";

const KPROBE_PMU = "/sys/bus/event_source/devices/kprobe";
/** `BPF_F_KPROBE_MULTI_RETURN`. */
const KPROBE_MULTI_RETURN = 1;

/**
 * The message of every kprobe attach on a kernel built without kprobes.
 *
 * @example
 * ```ts
 * import { KPROBES_OFF } from "@tsbpf/core/link";
 * KPROBES_OFF.includes("CONFIG_KPROBES"); // true
 * ```
 */
export const KPROBES_OFF: string =
  "kprobes are compiled out of this kernel (CONFIG_KPROBES is off): it has no kprobe PMU " +
  `(${KPROBE_PMU}) and no kprobe_events in tracefs`;

interface KprobeSupport {
  /** The PMU's type and retprobe config bit, when the kernel has the PMU (4.17+). */
  pmu?: { type: number; retprobeBit: number };
  /** tracefs, when it has `kprobe_events`. */
  tracefs?: string;
}

let support: KprobeSupport | undefined;

/** What the running kernel offers for kprobes, read once. */
function kprobeSupport(): KprobeSupport {
  if (support !== undefined) return support;
  const out: KprobeSupport = {};
  try {
    const type = Number(readFileText(`${KPROBE_PMU}/type`).trim());
    const m = /^config:(\d+)$/.exec(readFileText(`${KPROBE_PMU}/format/retprobe`).trim());
    if (Number.isInteger(type) && m !== null) out.pmu = { type, retprobeBit: Number(m[1]) };
  } catch {
    // No PMU.
  }
  out.tracefs = TRACEFS_PATHS.find((p) => pathExists(`${p}/kprobe_events`));
  return support = out;
}

/**
 * Why kprobes cannot be attached on this kernel, or `undefined` when they can: {@link KPROBES_OFF}
 * when it has neither the kprobe PMU nor tracefs `kprobe_events`.
 *
 * @example
 * ```ts
 * import { kprobesUnavailable } from "@tsbpf/core/link";
 * const why = kprobesUnavailable(); // a string on a kernel without CONFIG_KPROBES
 * ```
 */
export function kprobesUnavailable(): string | undefined {
  const s = kprobeSupport();
  return s.pmu === undefined && s.tracefs === undefined ? KPROBES_OFF : undefined;
}

/**
 * Options of {@link attachKprobe}.
 *
 * @example
 * ```ts
 * import type { KprobeOptions } from "@tsbpf/core/link";
 * const o: KprobeOptions = { retprobe: true, maxactive: 64 };
 * ```
 */
export interface KprobeOptions {
  /** Bytes into the function (kprobes only). */
  offset?: number;
  /** Fire on return (a kretprobe). */
  retprobe?: boolean;
  /** Return instances probed at once (kretprobes; through tracefs `kprobe_events`). */
  maxactive?: number;
  /** `bpf_get_attach_cookie()` value. */
  cookie?: bigint;
}

/** A kprobe made through tracefs: closing the link also removes the event. */
class TracefsKprobeLink extends Link {
  readonly #remove: () => void;
  constructor(fd: number, remove: () => void) {
    super(fd);
    this.#remove = remove;
  }
  override close(): void {
    if (this.closed) return;
    super.close();
    this.#remove();
  }
}

let legacyCount = 0;

/**
 * Attaches a `kprobe` program to a kernel function: a kprobe (or kretprobe) perf event on the
 * `kprobe` PMU, or through tracefs `kprobe_events` when `maxactive` is given or the PMU is
 * missing, then a perf-event link.
 *
 * @throws {AttachError} `EOPNOTSUPP` with {@link KPROBES_OFF} on a kernel built without kprobes;
 *   `ENOENT`/`EINVAL` for an unknown or unprobeable function.
 * @example
 * ```ts
 * import type { Program } from "@tsbpf/core";
 * import { attachKprobe } from "@tsbpf/core/link";
 * declare const prog: Program; // loaded, of the type this attach point takes
 * using link = attachKprobe(prog, "do_sys_openat2");
 * using ret = attachKprobe(prog, "do_sys_openat2", { retprobe: true, maxactive: 32 });
 * ```
 */
export function attachKprobe(
  program: AttachableProgram,
  symbol: string,
  options: KprobeOptions = {},
): Link {
  const { offset = 0, retprobe = false, maxactive, cookie } = options;
  const target = `attachKprobe(${retprobe ? "return " : ""}${symbol}${
    offset ? `+0x${offset.toString(16)}` : ""
  })`;
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(symbol)) {
    throw new RangeError(`${target}: "${symbol}" is not a kernel symbol name`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`${target}: offset must be a non-negative integer`);
  }
  if (retprobe && offset !== 0) throw new RangeError(`${target}: a kretprobe takes no offset`);
  if (maxactive !== undefined && (!retprobe || !Number.isInteger(maxactive) || maxactive < 1)) {
    throw new RangeError(`${target}: maxactive is a positive integer, for kretprobes only`);
  }
  const progFd = programFd(program, target, [ProgType.KPROBE]);
  const sup = kprobeSupport();
  if (sup.pmu === undefined && sup.tracefs === undefined) {
    throw new AttachError(target, "perf_event_open", Errno.EOPNOTSUPP, KPROBES_OFF);
  }
  const useTracefs = maxactive !== undefined || sup.pmu === undefined;
  if (useTracefs && sup.tracefs === undefined) {
    throw new AttachError(
      target,
      "open",
      Errno.ENOENT,
      "maxactive needs tracefs kprobe_events, and tracefs is not mounted",
    );
  }
  let fd: number;
  let remove = (): void => {};
  if (!useTracefs) {
    const name = cString(symbol);
    try {
      fd = perfEventOpen({
        type: sup.pmu!.type,
        config: retprobe ? 1n << BigInt(sup.pmu!.retprobeBit) : 0n,
        samplePeriod: 1,
        config1: sys().addressOf(name),
        config2: BigInt(offset),
      }, { pid: -1, cpu: 0 });
    } catch (e) {
      if (e instanceof BpfError) throw new AttachError(target, "perf_event_open", e.errno);
      throw e;
    } finally {
      retain(name);
    }
  } else {
    const root = sup.tracefs!;
    const event = `tsbpf_${processId()}_${legacyCount++}`;
    const spec = `${retprobe ? `r${maxactive ?? ""}` : "p"}:kprobes/${event} ${symbol}${
      offset ? `+${offset}` : ""
    }`;
    try {
      writeFileText(`${root}/kprobe_events`, `${spec}\n`, { append: true });
    } catch (e) {
      throw new AttachError(target, "write kprobe_events", Errno.EINVAL, (e as Error).message);
    }
    remove = () => {
      try {
        writeFileText(`${root}/kprobe_events`, `-:kprobes/${event}\n`, { append: true });
      } catch {
        // Already gone.
      }
    };
    try {
      const id = Number(readFileText(`${root}/events/kprobes/${event}/id`).trim());
      fd = perfEventOpen({ type: PerfType.TRACEPOINT, config: id, samplePeriod: 1 }, {
        pid: -1,
        cpu: 0,
      });
    } catch (e) {
      remove();
      if (e instanceof BpfError) throw new AttachError(target, "perf_event_open", e.errno);
      throw e;
    }
  }
  return linkPerfEvent(target, progFd, fd, {
    cookie,
    onClose: remove,
    makeLink: useTracefs ? (lfd) => new TracefsKprobeLink(lfd, remove) : undefined,
  });
}

/**
 * What {@link attachKprobeMulti} attaches to: function names, a glob pattern over
 * `available_filter_functions`, or addresses; with one cookie per function.
 *
 * @example
 * ```ts
 * import type { KprobeMultiTarget } from "@tsbpf/core/link";
 * const t: KprobeMultiTarget = { symbols: ["vfs_read", "vfs_write"], cookies: [1n, 2n] };
 * ```
 */
export interface KprobeMultiTarget {
  /** Kernel function names. */
  symbols?: readonly string[];
  /** A glob (`*`, `?`) over tracefs `available_filter_functions`, e.g. `"vfs_*"`. */
  pattern?: string;
  /** Kernel addresses. */
  addresses?: readonly bigint[];
  /** One `bpf_get_attach_cookie()` value per function, in the same order. */
  cookies?: readonly bigint[];
  /** Fire on return. */
  retprobe?: boolean;
}

/** Names matching a glob in `available_filter_functions` (module suffixes dropped). */
function matchFunctions(pattern: string, target: string): string[] {
  const root = TRACEFS_PATHS.find((p) => pathExists(`${p}/available_filter_functions`));
  if (root === undefined) {
    throw new AttachError(
      target,
      "open",
      Errno.ENOENT,
      "a pattern needs tracefs available_filter_functions (tracefs not mounted, or no ftrace)",
    );
  }
  const re = new RegExp(
    "^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") +
      "$",
  );
  const names = new Set<string>();
  for (const line of readFileText(`${root}/available_filter_functions`).split("\n")) {
    const name = line.split(/\s/)[0];
    if (name && re.test(name) && !name.startsWith("__ftrace_invalid_address__")) names.add(name);
  }
  return [...names];
}

/**
 * Attaches a `kprobe` program (loaded with `expectedAttachType: "trace_kprobe_multi"`) to many
 * kernel functions through one link (`BPF_LINK_CREATE`, `BPF_TRACE_KPROBE_MULTI`; 5.18+, needs
 * the kernel's fprobe support).
 *
 * @throws {AttachError} `EOPNOTSUPP` when the kernel has no multi-kprobes (before 5.18, with the
 *   profile's reason; or built without `CONFIG_FPROBE`), `ENOENT` when a pattern matches nothing or a symbol is unknown.
 * @throws {RangeError} when cookies and functions differ in number, or no function is given.
 * @example
 * ```ts
 * import type { Program } from "@tsbpf/core";
 * import { attachKprobeMulti } from "@tsbpf/core/link";
 * declare const prog: Program; // loaded, of the type this attach point takes
 * using link = attachKprobeMulti(prog, { pattern: "vfs_*" });
 * ```
 */
export function attachKprobeMulti(program: AttachableProgram, what: KprobeMultiTarget): Link {
  const label = what.pattern ?? what.symbols?.join(",") ??
    `${what.addresses?.length ?? 0} addresses`;
  const target = `attachKprobeMulti(${what.retprobe ? "return " : ""}${label})`;
  const given = [what.symbols, what.pattern, what.addresses].filter((x) => x !== undefined);
  if (given.length !== 1) {
    throw new RangeError(`${target}: give exactly one of symbols, pattern or addresses`);
  }
  const progFd = programFd(program, target, [ProgType.KPROBE]);
  const symbols = what.pattern !== undefined
    ? matchFunctions(what.pattern, target)
    : what.symbols !== undefined
    ? [...what.symbols]
    : undefined;
  const cnt = symbols?.length ?? what.addresses!.length;
  if (cnt === 0) {
    throw new AttachError(target, "lookup", Errno.ENOENT, "no kernel function matches");
  }
  if (what.cookies !== undefined && what.cookies.length !== cnt) {
    throw new RangeError(`${target}: ${what.cookies.length} cookies for ${cnt} functions`);
  }
  const links = liveProfile().linkType(LinkType.KPROBE_MULTI);
  if (links.state === "no") {
    throw new AttachError(target, BpfCmd.LINK_CREATE, Errno.EOPNOTSUPP, links.reason);
  }
  const s = sys();
  const keep: Uint8Array[] = [];
  const attr = new Attr(LINK_CREATE_KPROBE_MULTI_ATTR)
    .set("prog_fd", progFd)
    .set("attach_type", AttachType.TRACE_KPROBE_MULTI)
    .set("kprobe_multi.flags", what.retprobe ? KPROBE_MULTI_RETURN : 0)
    .set("kprobe_multi.cnt", cnt);
  const u64s = (values: readonly bigint[]): Uint8Array => {
    const b = alloc(values.length * 8);
    const v = new DataView(b.buffer);
    values.forEach((x, i) => v.setBigUint64(i * 8, x, true));
    keep.push(b);
    return b;
  };
  if (symbols !== undefined) {
    const names = symbols.map((n) => cString(n));
    keep.push(...names);
    attr.setU64("kprobe_multi.syms", s.addressOf(u64s(names.map((n) => s.addressOf(n)))));
  } else {
    attr.setU64("kprobe_multi.addrs", s.addressOf(u64s(what.addresses!)));
  }
  if (what.cookies !== undefined) {
    attr.setU64("kprobe_multi.cookies", s.addressOf(u64s(what.cookies)));
  }
  const fd = linkCreate(attr);
  retain(...keep);
  if (fd < 0) {
    const errno = -fd;
    const why = errno === Errno.EOPNOTSUPP
      ? "the kernel has no multi-kprobes (built without CONFIG_FPROBE)"
      : errno === Errno.ESRCH || errno === Errno.ENOENT
      ? "a function is unknown to the kernel or cannot be probed"
      : undefined;
    throw new AttachError(target, BpfCmd.LINK_CREATE, errno, why);
  }
  return new Link(fd);
}
