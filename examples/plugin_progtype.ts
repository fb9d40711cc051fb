/**
 * A program-type plugin: a stricter socket filter that may call only three helpers. Registered in
 * place of the built-in `socket_filter`, its ops decide what the pre-load checker accepts — here a
 * program the kernel itself would load is refused before any system call.
 *
 * Run: `deno run -A examples/plugin_progtype.ts` or `bun examples/plugin_progtype.ts`.
 *
 * @module
 */
import { checkProgram, PreloadCheckError } from "../lib/check/mod.ts";
import {
  getProgType,
  type ProgTypeDef,
  registerProgType,
  resetProgTypes,
} from "../lib/progtype/mod.ts";
import type { Insn } from "../lib/insn/insn.ts";
import { HelperId } from "../types/helpers.ts";
import { Program } from "../lib/program/program.ts";

const builtin = getProgType("socket_filter")!;
const ALLOWED = new Set<number>([
  HelperId.map_lookup_elem,
  HelperId.ktime_get_ns,
  HelperId.get_socket_cookie,
]);

const strictSocketFilter: ProgTypeDef = {
  ...builtin,
  ops: {
    // Wrap the kernel's sk_filter_func_proto(): same prototypes, fewer helpers.
    getFuncProto: (id, ctx) => (ALLOWED.has(id) ? builtin.ops.getFuncProto(id, ctx) : undefined),
  },
};
registerProgType(strictSocketFilter, { replace: true });

// r0 = bpf_get_prandom_u32(); r0 &= 1; exit — a valid socket filter the kernel accepts.
const program: Insn[] = [
  { code: 0x85, dst: 0, src: 0, off: 0, imm: HelperId.get_prandom_u32 },
  { code: 0x57, dst: 0, src: 0, off: 0, imm: 1 },
  { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
];
// r0 = bpf_ktime_get_ns(); r0 &= 1; exit — uses an allowed helper.
const allowed: Insn[] = program.map((x, i) => (i === 0 ? { ...x, imm: HelperId.ktime_get_ns } : x));

try {
  const okFindings = checkProgram({ type: "socket_filter", insns: allowed, license: "GPL" });
  console.log(`bpf_ktime_get_ns: ${okFindings.length} findings`);

  const findings = checkProgram({ type: "socket_filter", insns: program, license: "GPL" });
  console.log(`bpf_get_prandom_u32: ${findings.length} finding(s)`);
  const error = new PreloadCheckError(findings, program, "socket_filter");
  console.log(error.message);

  // The kernel's own socket_filter would have taken it (needs privileges to load).
  try {
    const p = Program.load({ type: "socket_filter", insns: program, license: "GPL", check: false });
    console.log(
      `\nthe kernel accepted the same program (id ${p.id}); the plugin refused it before load`,
    );
    p.close();
  } catch (e) {
    console.log(`\n(no kernel check here: ${(e as Error).message.split("\n")[0]})`);
  }
} finally {
  resetProgTypes(); // back to the built-in definitions
}
