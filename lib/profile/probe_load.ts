/**
 * The one system call the program probes make: `BPF_PROG_LOAD` of a tiny program, with a verifier
 * log, from preallocated buffers.
 *
 * @module
 */
import { PROG_LOAD_ATTR } from "../../types/attr.ts";
import { Attr } from "../attr.ts";
import { alloc } from "../sys/memory.ts";
import { progLoad } from "../sys/bpf_cmds.ts";
import { sys } from "../sys/mod.ts";
import type { ProbeTarget } from "./variant.ts";

const LOG_SIZE = 1 << 16;

let attr: Attr | undefined;
let insns: Uint8Array<ArrayBuffer> | undefined;
let license: Uint8Array<ArrayBuffer> | undefined;
let log: Uint8Array<ArrayBuffer> | undefined;
const decoder = new TextDecoder();

/** `r0 = 0; exit`. */
const TRIVIAL = [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];

/**
 * The result of one probe load: the program loaded (and was closed), or the errno and the
 * verifier log.
 *
 * @example
 * ```ts
 * import type { LoadResult } from "./probe_load.ts";
 * const r: LoadResult = { ok: false, errno: 13, log: "invalid func unknown#999" };
 * ```
 */
export type LoadResult = { ok: true } | { ok: false; errno: number; log: string };

/**
 * Loads `r1..r5 = 0; call helper; r0 = 0; exit` (with `helper` undefined, `r0 = 0; exit`; or the
 * given instruction bytes, at most 16 instructions) as
 * `target` with the GPL license and a level-1 log, closes the program if it loaded, and says what
 * the kernel answered.
 *
 * @example
 * ```ts
 * import { probeLoad } from "./probe_load.ts";
 * probeLoad({ type: 1, expectedAttachType: 0, attachBtfId: 0, flags: 0 }, 14).ok; // true
 * ```
 */
export function probeLoad(
  target: ProbeTarget,
  helper?: number,
  program?: readonly number[],
): LoadResult {
  const s = sys();
  attr ??= new Attr(PROG_LOAD_ATTR);
  insns ??= alloc(128);
  license ??= alloc(4);
  log ??= alloc(LOG_SIZE);
  license.set([0x47, 0x50, 0x4c, 0]); // "GPL"
  let count: number;
  if (program !== undefined) {
    insns.fill(0);
    insns.set(program);
    count = program.length >>> 3;
  } else if (helper === undefined) {
    insns.set(TRIVIAL);
    count = 2;
  } else {
    insns.fill(0);
    for (let r = 1; r <= 5; r++) {
      insns[(r - 1) * 8] = 0xb7;
      insns[(r - 1) * 8 + 1] = r;
    }
    insns[40] = 0x85;
    new DataView(insns.buffer).setInt32(44, helper, true);
    insns[48] = 0xb7;
    insns[56] = 0x95;
    count = 8;
  }
  log[0] = 0;
  const a = attr.clear()
    .set("prog_type", target.type)
    .set("insn_cnt", count)
    .setU64("insns", s.addressOf(insns))
    .setU64("license", s.addressOf(license))
    .set("log_level", 1)
    .set("log_size", LOG_SIZE)
    .setU64("log_buf", s.addressOf(log))
    .set("prog_flags", target.flags)
    .set("expected_attach_type", target.expectedAttachType)
    .set("attach_btf_id", target.attachBtfId);
  const fd = progLoad(a, insns, log);
  if (fd >= 0) {
    s.close(fd);
    return { ok: true };
  }
  const end = log.indexOf(0);
  return { ok: false, errno: -fd, log: decoder.decode(log.subarray(0, end < 0 ? LOG_SIZE : end)) };
}
