/**
 * The checker's subprogram passes, after the kernel's `add_subprog_and_kfunc()` and
 * `check_subprogs()`: subprogram starts and calls to nowhere, jumps that leave their subprogram,
 * and subprograms that fall through. Internal to `lib/check/`.
 *
 * @module
 */
import {
  CLS_JMP,
  CLS_JMP32,
  type Columns,
  LD_IMM64,
  OP_CALL,
  OP_EXIT,
  pooled,
  PSEUDO_CALL,
  PSEUDO_FUNC,
  PSEUDO_KFUNC_CALL,
  type Report,
  u8,
} from "./columns.ts";

/**
 * `add_subprog_and_kfunc()`: marks subprogram starts (1 at each start and at `n`), reports calls
 * to nowhere and, without CAP_BPF, the first BPF-to-BPF or kfunc call.
 */
export function findSubprogs(c: Columns, bpfCapable: boolean, err: Report): Uint8Array {
  const { n, code, src, imm } = c;
  const subStart = pooled("subStart", u8, n + 1);
  subStart[0] = 1;
  subStart[n] = 1;
  let needCap = -1;
  for (let i = 0; i < n; i++) {
    const op = code[i];
    const isPseudoCall = op === 0x85 && src[i] === PSEUDO_CALL;
    const isPseudoFunc = op === LD_IMM64 && src[i] === PSEUDO_FUNC;
    if (!isPseudoCall && !isPseudoFunc && !(op === 0x85 && src[i] === PSEUDO_KFUNC_CALL)) continue;
    if (!bpfCapable && needCap < 0) {
      needCap = i;
      err(
        i,
        "needs-cap-bpf",
        "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN",
      );
    }
    if (isPseudoCall || isPseudoFunc) {
      const t = i + imm[i] + 1;
      if (t < 0 || t >= n) err(i, "call-dest", "call to invalid destination");
      else subStart[t] = 1;
    }
  }
  return subStart;
}

/** `check_subprogs()`: jumps stay inside their subprogram, which must not fall through. */
export function checkSubprogs(c: Columns, subStart: Uint8Array, err: Report): void {
  const { n, code, off, imm } = c;
  let start = 0, end = 0;
  for (let i = 0; i < n; i++) {
    if (subStart[i]) {
      start = i;
      end = i + 1;
      while (!subStart[end]) end++;
    }
    const op = code[i];
    const cls = op & 7;
    if (
      (cls === CLS_JMP || cls === CLS_JMP32) && (op & 0xf0) !== OP_EXIT && (op & 0xf0) !== OP_CALL
    ) {
      const t = op === 0x06 ? i + imm[i] + 1 : i + off[i] + 1;
      if (t < start || t >= end) err(i, "jump-range", `jump out of range from insn ${i} to ${t}`);
    }
    if (subStart[i + 1] && op !== 0x95 && op !== 0x06 && op !== 0x05) {
      err(i, "last-insn", "last insn is not an exit or jmp");
    }
  }
}
