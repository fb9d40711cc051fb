/**
 * What a program's load failure means inside an object: the C source line of the refused
 * instruction, unresolved CO-RE relocations, a missing license, trampolines and struct_ops the kernel
 * refuses. Internal to `lib/object/`.
 *
 * @module
 */
import { Errno } from "../../types/errno.ts";
import { BpfError, VerifierError } from "../errors.ts";
import type { CoreResult } from "../elf/core.ts";
import { ObjectError } from "../elf/error.ts";
import type { ObjectSpec, ProgramSpec } from "../elf/spec.ts";

const TRAMPOLINE_SECTIONS = /^(fentry|fexit|fmod_ret|lsm|lsm_cgroup|freplace)(\.s)?$/;

export function where(p: ProgramSpec): string {
  return `program ${p.name} (section "${p.section}")`;
}

/**
 * A verifier refusal with the C source line of the refused instruction, from the program's
 * line_info, when the kernel's log does not show it (older kernels print the line without
 * ` @ file:line`, some print no source at all).
 */
export function withSourceLine(e: unknown, p: ProgramSpec, spec: ObjectSpec): unknown {
  if (!(e instanceof VerifierError) || e.insn === undefined || spec.types === undefined) return e;
  let best: ProgramSpec["btfExt"]["lineInfo"][number] | undefined;
  for (const l of p.btfExt.lineInfo) {
    if (l.insn <= e.insn && (!best || l.insn >= best.insn)) best = l;
  }
  if (best === undefined) return e;
  try {
    const source = {
      file: spec.types.string(best.fileNameOff).split("/").pop()!,
      line: best.line,
      column: best.column,
      text: spec.types.string(best.lineOff),
    };
    return new VerifierError(e.errno, e.log, e.truncated, source);
  } catch {
    return e; // a line_info string offset outside the object's BTF: no source to show
  }
}

/** The error of a program load, with what the kernel's refusal means for this program. */
export function explainLoadError(
  e: unknown,
  p: ProgramSpec,
  results: readonly CoreResult[],
): unknown {
  const poisoned = results.filter((r) => r.poisoned);
  if (e instanceof VerifierError && poisoned.length > 0) {
    return new ObjectError(
      `program ${p.name}: the verifier refused it after ${poisoned.length} CO-RE ` +
        `relocation(s) could not be resolved: ${poisoned.map((r) => r.description).join("; ")}`,
      { cause: e },
    );
  }
  if (p.license === "" && e instanceof Error && /GPL/.test(e.message)) {
    return new ObjectError(
      `${where(p)}: it calls a GPL-only helper or kfunc, and the object has no "license" ` +
        "section, so its license is empty (not GPL-compatible); add char LICENSE[] " +
        'SEC("license") = "GPL"; if the code is GPL',
      { cause: e },
    );
  }
  const section = p.section.replace(/^\?/, "").split("/")[0];
  if (e instanceof BpfError && e.errno === Errno.EPERM && TRAMPOLINE_SECTIONS.test(section)) {
    return new ObjectError(
      `${where(p)}: this kernel refuses BPF trampolines (EPERM): ${section} programs attach ` +
        "through a trampoline, which it does not allow; turn the program off (autoload = false) " +
        "to load the rest of the object",
      { cause: e },
    );
  }
  if (
    (e instanceof BpfError || e instanceof VerifierError) && p.typeName === "struct_ops" &&
    (e as BpfError).errno === Errno.ENOTSUPP
  ) {
    return new ObjectError(
      `${where(p)}: this kernel refuses struct_ops programs (ENOTSUPP): struct_ops runs through ` +
        "a BPF trampoline, which it does not support",
      { cause: e },
    );
  }
  return e;
}
