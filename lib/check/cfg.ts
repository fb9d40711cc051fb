/**
 * The checker's control-flow pass, after the kernel's `check_cfg()`. Internal to `lib/check/`.
 *
 * @module
 */
import {
  CLS_JMP,
  CLS_JMP32,
  type Columns,
  i32,
  LD_IMM64,
  OP_CALL,
  OP_EXIT,
  OP_JA,
  pooled,
  PSEUDO_CALL,
  PSEUDO_FUNC,
  type Report,
  u8,
} from "./columns.ts";

/**
 * `check_cfg()`: an iterative depth-first walk. Reports jumps into the second slot of an
 * `ld_imm64`, unreachable code (once per unreachable run) and, for unprivileged loads, loops.
 */
export function walkCfg(
  c: Columns,
  privileged: boolean,
  err: Report,
): void {
  const { n, code, src, off, imm } = c;
  const DISCOVERED = 1, EXPLORED = 2;
  const state = pooled("state", u8, n);
  const edge = pooled("edge", u8, n);
  const stack = pooled("stack", i32, n + 1);
  let sp = 0;
  const succ = (t: number, e: number): number => {
    const op = code[t];
    const cls = op & 7;
    if (op === LD_IMM64) {
      if (e === 0) return t + 2;
      return src[t] === PSEUDO_FUNC && e === 1 ? t + imm[t] + 1 : -2;
    }
    if (cls !== CLS_JMP && cls !== CLS_JMP32) return e === 0 ? t + 1 : -2;
    const jop = op & 0xf0;
    if (jop === OP_EXIT) return -2;
    if (jop === OP_CALL) {
      if (e === 0) return t + 1;
      return e === 1 && src[t] === PSEUDO_CALL ? t + imm[t] + 1 : -2;
    }
    if (jop === OP_JA) {
      if (e !== 0) return -2;
      return cls === CLS_JMP ? t + off[t] + 1 : t + imm[t] + 1;
    }
    if (e === 0) return t + 1;
    return e === 1 ? t + off[t] + 1 : -2;
  };
  stack[sp++] = 0;
  state[0] = DISCOVERED;
  let reportedLoop = false;
  while (sp > 0) {
    const t = stack[sp - 1];
    const e = edge[t];
    if (e >= 2) {
      state[t] = EXPLORED;
      sp--;
      continue;
    }
    edge[t] = e + 1;
    const w = succ(t, e);
    if (w === -2 || w < 0 || w >= n) continue; // no edge, or out of range (reported by check_subprogs)
    if (state[w] === 0) {
      state[w] = DISCOVERED;
      stack[sp++] = w;
    } else if (state[w] === DISCOVERED && !privileged && !reportedLoop) {
      reportedLoop = true;
      err(t, "back-edge", `back-edge from insn ${t} to ${w}`);
    }
  }
  for (let i = 0; i < n; i++) {
    if (state[i] !== EXPLORED) {
      err(i, "unreachable", `unreachable insn ${i}`);
      while (i + 1 < n && state[i + 1] !== EXPLORED) i++;
      continue;
    }
    if (code[i] === LD_IMM64 && i + 1 < n) {
      if (state[i + 1] !== 0) err(i, "ldimm64-middle", `jump into the middle of ldimm64 insn ${i}`);
      i++;
    }
  }
}
