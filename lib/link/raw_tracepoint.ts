/**
 * Raw tracepoints (`BPF_RAW_TRACEPOINT_OPEN`) and BTF tracepoints (`tp_btf`).
 *
 * @module
 */
import { RAW_TRACEPOINT_OPEN_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Attr } from "../attr.ts";
import { kernelBtf } from "../elf/vmlinux.ts";
import { cString } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { AttachError } from "./errors.ts";
import { Link } from "./link.ts";
import { ProgType } from "../../types/prog_type.ts";
import { type AttachableProgram, programFd } from "./os.ts";
import { Errno } from "../../types/errno.ts";
import { rawTracepointOpen as bpfRawTracepointOpen } from "../sys/bpf_cmds.ts";

/** `ENOENT`. */
const ENOENT = Errno.ENOENT;

/**
 * The BTF id a `tp_btf` program loads against: that of the typedef `btf_trace_<name>` in vmlinux
 * BTF. Pass it as `attachBtfId` with `expectedAttachType: AttachType.TRACE_RAW_TP` and type
 * `"tracing"`.
 *
 * @throws {AttachError} `ENOENT` when the kernel has no such tracepoint.
 * @example
 * ```ts
 * import { asm, AttachType, Program } from "@tsbpf/core";
 * import { attachBtfTracepoint, btfTracepointId } from "@tsbpf/core/link";
 * using prog = Program.load({
 *   type: "tracing",
 *   expectedAttachType: AttachType.TRACE_RAW_TP,
 *   attachBtfId: btfTracepointId("sys_enter"),
 *   insns: asm`r0 = 0\nexit`,
 *   license: "GPL",
 * });
 * ```
 */
export function btfTracepointId(name: string): number {
  const t = kernelBtf().find("typedef", `btf_trace_${name}`);
  if (t === undefined) {
    throw new AttachError(
      `btfTracepointId(${name})`,
      "btf lookup",
      ENOENT,
      `no typedef btf_trace_${name} in /sys/kernel/btf/vmlinux`,
    );
  }
  return t.id;
}

function rawTracepointOpen(
  program: AttachableProgram,
  name: string | undefined,
  target: string,
): Link {
  const s = sys();
  // By name: a raw tracepoint program; without (tp_btf): a tracing program with its BTF id.
  const accepted = name === undefined
    ? [ProgType.TRACING]
    : [ProgType.RAW_TRACEPOINT, ProgType.RAW_TRACEPOINT_WRITABLE];
  const attr = new Attr(RAW_TRACEPOINT_OPEN_ATTR).set(
    "prog_fd",
    programFd(program, target, accepted),
  );
  const text = name === undefined ? undefined : cString(name);
  if (text !== undefined) attr.setU64("name", s.addressOf(text));
  const fd = bpfRawTracepointOpen(attr, text);
  if (fd < 0) throw new AttachError(target, BpfCmd.RAW_TRACEPOINT_OPEN, -fd);
  return new Link(fd);
}

/**
 * Attaches a `raw_tracepoint` program to a raw tracepoint such as `"sys_enter"` or
 * `"sched_switch"` (`BPF_RAW_TRACEPOINT_OPEN`). The program's context holds the tracepoint's raw
 * arguments as u64s.
 *
 * @throws {AttachError} `ENOENT` for an unknown tracepoint, `EINVAL` for another program type.
 * @example
 * ```ts
 * import { asm, Program } from "@tsbpf/core";
 * import { attachRawTracepoint } from "@tsbpf/core/link";
 * using prog = Program.load({ type: "raw_tracepoint", insns: asm`r0 = 0\nexit`, license: "GPL" });
 * using link = attachRawTracepoint(prog, "sys_enter");
 * ```
 */
export function attachRawTracepoint(program: AttachableProgram, name: string): Link {
  const target = `attachRawTracepoint(${name})`;
  if (!/^[A-Za-z0-9_]{1,127}$/.test(name)) {
    throw new RangeError(`${target}: a tracepoint name is [A-Za-z0-9_]+`);
  }
  return rawTracepointOpen(program, name, target);
}

/**
 * Attaches a BTF tracepoint (`tp_btf`) program, loaded with `attachBtfId` from
 * {@link btfTracepointId}, to the tracepoint it was loaded for (`BPF_RAW_TRACEPOINT_OPEN`
 * without a name).
 *
 * @throws {AttachError} `EINVAL` when the program was not loaded for a BTF tracepoint.
 * @example
 * ```ts
 * import { asm, AttachType, Program } from "@tsbpf/core";
 * import { attachBtfTracepoint, btfTracepointId } from "@tsbpf/core/link";
 * using prog = Program.load({
 *   type: "tracing",
 *   expectedAttachType: AttachType.TRACE_RAW_TP,
 *   attachBtfId: btfTracepointId("sys_enter"),
 *   insns: asm`r0 = 0\nexit`,
 *   license: "GPL",
 * });
 * using link = attachBtfTracepoint(prog);
 * ```
 */
export function attachBtfTracepoint(program: AttachableProgram): Link {
  return rawTracepointOpen(
    program,
    undefined,
    `attachBtfTracepoint(program ${program.closed ? "closed" : program.id})`,
  );
}
