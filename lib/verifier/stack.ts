/**
 * The deep checker's stack rules (`check_stack_read()`, `check_stack_write()`): variable-offset
 * bounds, spills and fills, partial and uninitialised slots, and slots that hold a dynptr. Internal to
 * `lib/verifier/`.
 *
 * @module
 */
import { constScalar, inexact, isConst, tnumText } from "./scalar.ts";
import { B, cloneReg, type Frame, K, ownBytes, type Reg } from "./state.ts";
import { MAX_VAR_OFF } from "./core.ts";
import { InterpAlu } from "./alu.ts";

/** The interpreter so far, plus the deep checker's stack rules (`check_stack_read()`, `check_stack_write()`). */
export abstract class InterpStack extends InterpAlu {
  /**
   * `check_stack_access_within_bounds()` for a variable offset: refuses what may leave the frame
   * (the caller gives up on what stays inside).
   */
  varStackBounds(regno: number, reg: Reg, off: number, size: number, what: string): void {
    const v = reg.s;
    if (!v.exact) return;
    if (isConst(v)) this.giveUp("constant variable offset");
    if (
      size > 1 &&
      (((Number(v.v & 0xffn) + off) & (size - 1)) !== 0 || (v.m & BigInt(size - 1)) !== 0n)
    ) {
      return; // alignment is checked first, in words not reproduced here
    }
    if (v.smax >= MAX_VAR_OFF || v.smin <= -MAX_VAR_OFF) {
      this.fail(
        "stack-bounds",
        `invalid unbounded variable-offset${what} stack R${regno}`,
        "The offset added to the stack pointer is not bounded.",
        [regno],
      );
    }
    const min = v.smin + BigInt(off), max = v.smax + BigInt(off) + BigInt(size);
    if (min < -512n || max > 0n) {
      this.fail(
        "stack-bounds",
        `invalid variable-offset${what} stack R${regno} var_off=${
          tnumText(v)
        } off=${off} size=${size}`,
        `The access may reach stack offsets ${min}..${max - 1n}, outside the 512-byte frame.`,
        [regno],
      );
    }
  }

  stackAccess(
    regno: number,
    reg: Reg,
    insnOff: number,
    size: number,
    write: boolean,
    value: Reg | undefined,
    isImm: boolean,
    immValue: number,
  ): Reg | undefined {
    if (!isConst(reg.s) || reg.s.v !== 0n) {
      this.varStackBounds(regno, reg, reg.off + insnOff, size, write ? " write to" : " read from");
      this.giveUp("variable-offset stack access");
    }
    const off = reg.off + insnOff;
    if (off % size !== 0) {
      this.fail(
        "stack-misaligned",
        `misaligned stack access off 0+${reg.off}+${insnOff} size ${size}`,
        "Stack accesses must be aligned to their size.",
        [regno],
      );
    }
    if (off < -512 || off + size > 0) {
      this.fail(
        "stack-bounds",
        `invalid ${write ? "write to" : "read from"} stack R${regno} off=${off} size=${size}`,
        "The access falls outside the 512-byte stack frame (r10-512 .. r10-1).",
        [regno],
      );
    }
    const f = this.st.frames[reg.frame];
    const base = 512 + off;
    const slot = base >> 3;
    this.noteDepth(f, -off);
    if (write) {
      this.dynptrOverwrite(f, base, size, false);
      ownBytes(f);
      if (base < f.low) f.low = base;
      // Scrub spills the write touches.
      for (let sl = base >> 3; sl <= (base + size - 1) >> 3; sl++) {
        if (f.spills[sl] !== undefined) {
          f.spills[sl] = undefined;
          for (let j = sl * 8; j < sl * 8 + 8; j++) if (f.bytes[j] === B.Spill) f.bytes[j] = B.Misc;
        }
      }
      if (size === 8 && value !== undefined) {
        f.bytes.fill(B.Spill, base, base + 8);
        f.spills[slot] = cloneReg(value);
        return undefined;
      }
      if (size === 8 && isImm && immValue !== 0 && this.bpfCapable) {
        f.bytes.fill(B.Spill, base, base + 8);
        f.spills[slot] = this.scalarReg(constScalar(BigInt(immValue)));
        return undefined;
      }
      const zero = isImm
        ? immValue === 0
        : value !== undefined && value.k === K.Scalar && isConst(value.s) && value.s.v === 0n;
      if (value !== undefined && value.k !== K.Scalar) {
        if (!this.allowPtrLeaks) this.giveUp("partial pointer spill (unprivileged)");
      }
      f.bytes.fill(zero ? B.Zero : B.Misc, base, base + size);
      return undefined;
    }
    // Read.
    const spill = f.spills[slot];
    if (spill !== undefined && spill.k === K.Dynptr) this.giveUp("read of a dynptr slot");
    if (spill !== undefined && size === 8 && off % 8 === 0) return cloneReg(spill);
    let zeros = 0;
    for (let i = 0; i < size; i++) {
      const b = f.bytes[base + i];
      if (b === B.Spill) {
        const sp = f.spills[(base + i) >> 3];
        if (sp !== undefined && sp.k !== K.Scalar && sp.k !== K.Unknown && sp.k !== K.NotInit) {
          this.fail(
            "stack-fill",
            "invalid size of register fill",
            `A spilled ${
              this.typeName(sp)
            } pointer is read back with ${size} bytes: pointers are filled whole (8 bytes).`,
            [regno],
          );
        }
        if (sp === undefined || sp.k !== K.Scalar) this.giveUp("partial read of a spilled pointer");
        return this.scalarReg(inexact(size * 8));
      }
      if (b === B.Invalid && !this.allowUninitStack) {
        this.fail(
          "uninit-stack",
          `invalid read from stack off ${off}+${i} size ${size}`,
          `Stack byte r10${
            off + i
          } is read before anything was written to it (allowed only with CAP_PERFMON).`,
          [regno],
        );
      }
      if (b === B.Zero) zeros++;
    }
    if (zeros === size) return this.scalarReg(constScalar(0n));
    return this.scalarReg(inexact(size * 8));
  }

  /**
   * A write over a dynptr's slots: a helper may not (`potential write to dynptr`); a store
   * destroys an unreferenced dynptr (`destroy_if_dynptr_stack_slot()`) and may not touch a
   * referenced one.
   */
  dynptrOverwrite(f: Frame, base: number, size: number, helper: boolean): void {
    for (let i = base; i < base + size; i++) {
      if (f.bytes[i] !== B.Dynptr) continue;
      const d = f.spills[i >> 3];
      if (d === undefined || d.k !== K.Dynptr) this.giveUp("dynptr slot without its dynptr");
      if (helper) {
        this.fail(
          "dynptr",
          `potential write to dynptr at off=${(i & ~7) - 512} disallowed`,
          "The helper would write over a struct bpf_dynptr on the stack.",
        );
      }
      if (d.ref !== 0) {
        this.fail(
          "dynptr",
          "cannot overwrite referenced dynptr",
          "A ring buffer dynptr still holds its record: submit or discard it before writing over it.",
        );
      }
      const first = (i >> 3) - d.off;
      ownBytes(f);
      f.spills[first] = undefined;
      f.spills[first + 1] = undefined;
      f.bytes.fill(B.Invalid, first * 8, first * 8 + 16);
    }
  }
}
