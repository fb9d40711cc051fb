/**
 * The deep checker's helper argument rules (`check_func_arg()`): memory and size arguments, map
 * keys and values, dynptrs, map compatibility. Internal to `lib/verifier/`.
 *
 * @module
 */
import type { ResolvedMap } from "./maps.ts";
import { isConst, type Scalar } from "./scalar.ts";
import { B, cloneReg, type Frame, K, mkReg, ownBytes, type Reg } from "./state.ts";
import { F_RDONLY_PROG } from "./core.ts";
import { InterpBranch } from "./branch.ts";

const S64_MIN_ = -(1n << 63n);
const S64_MAX_ = (1n << 63n) - 1n;

/** The interpreter so far, plus the deep checker's helper argument rules (`check_func_arg()`). */
export abstract class InterpHelperArgs extends InterpBranch {
  /** The kernel's text of a scalar's range in return-value messages. */
  rangeText(s: Scalar): string {
    if (s.smin === S64_MIN_ && s.smax === S64_MAX_) return "unknown scalar value";
    return `smin=${s.smin} smax=${s.smax}`;
  }

  /**
   * A `struct bpf_dynptr *` argument (`process_dynptr_func()`): an uninitialised one is created in
   * its two stack slots (a ring buffer one holds a reference from now on, even if the reservation
   * fails); an initialised one must be there. Returns the dynptr to release, for OBJ_RELEASE.
   */
  dynptrArg(
    regno: number,
    reg: Reg,
    flags: readonly string[],
    helper: number,
  ): { frame: Frame; slot: number } | undefined {
    if (!this.bpfCapable) this.giveUp("dynptr without CAP_BPF");
    if (reg.k !== K.Stack) {
      if (reg.k === K.Scalar && reg.s.exact) {
        this.fail(
          "dynptr",
          `R${regno} type=scalar expected=fp, dynptr_ptr`,
          "A dynptr argument must point to the stack.",
          [regno],
        );
      }
      this.giveUp("dynptr argument not on the stack");
    }
    if (!isConst(reg.s) || reg.s.v !== 0n) this.giveUp("variable-offset dynptr");
    const off = reg.off;
    const uninit = flags.includes("MEM_UNINIT");
    if (off % 8 !== 0) {
      this.fail(
        "dynptr",
        `cannot pass in dynptr at an offset=${off}`,
        "A struct bpf_dynptr on the stack must be 8-byte aligned.",
        [regno],
      );
    }
    if (off < -512 || off + 16 > 0) this.giveUp("dynptr outside the frame");
    const f = this.st.frames[reg.frame];
    const base = 512 + off;
    const slot = base >> 3;
    const first = f.spills[slot], second = f.spills[slot + 1];
    const isDyn = (r: Reg | undefined) => r !== undefined && r.k === K.Dynptr;
    if (uninit) {
      if (isDyn(first) || isDyn(second)) {
        const r = isDyn(first) ? first! : second!;
        if (r.ref !== 0) {
          this.fail(
            "dynptr",
            "cannot overwrite referenced dynptr",
            "A ring buffer dynptr still holds its record: submit or discard it before reusing its slots.",
            [regno],
          );
        }
        this.giveUp("dynptr created over another");
      }
      for (let i = base; i < base + 16; i++) {
        if (f.bytes[i] === B.Spill && f.spills[i >> 3]?.k !== K.Scalar) {
          this.giveUp("dynptr created over a spilled pointer");
        }
      }
      const ringbuf = flags.includes("DYNPTR_TYPE_RINGBUF");
      if (!ringbuf && !flags.includes("DYNPTR_TYPE_LOCAL")) this.giveUp("dynptr type not modelled");
      const d = mkReg(K.Dynptr);
      d.ringbuf = ringbuf;
      if (ringbuf) {
        d.ref = ++this.idGen;
        this.st.refs.push({ id: d.ref, insn: this.pc });
      }
      d.id = ++this.idGen;
      const d2 = cloneReg(d);
      d2.off = 1;
      ownBytes(f);
      if (base < f.low) f.low = base;
      this.noteDepth(f, -off);
      f.bytes.fill(B.Dynptr, base, base + 16);
      f.spills[slot] = d;
      f.spills[slot + 1] = d2;
      return undefined;
    }
    if (!isDyn(first) || first!.off !== 0 || !isDyn(second) || second!.id !== first!.id) {
      this.fail(
        "dynptr",
        `Expected an initialized dynptr as arg #${regno - 1}`,
        `r${regno} must point to a struct bpf_dynptr initialised earlier on this path.`,
        [regno],
      );
    }
    if (flags.includes("DYNPTR_TYPE_RINGBUF") && !first!.ringbuf) {
      this.fail(
        "dynptr",
        `Expected a dynptr of type ringbuf as arg #${regno - 1}`,
        "This helper takes a ring buffer dynptr.",
        [regno],
      );
    }
    void helper;
    if (flags.includes("OBJ_RELEASE")) {
      if (first!.ref === 0) this.giveUp("release of an unreferenced dynptr");
      if (!this.st.refs.some((r) => r.id === first!.ref)) this.giveUp("unknown dynptr reference");
      this.st.refs = this.st.refs.filter((r) => r.id !== first!.ref);
      return { frame: f, slot };
    }
    return undefined;
  }

  /** `get_constant_map_key()`: a key on the stack this checker knows as a constant. */
  constStackKey(reg: Reg, size: number): bigint | undefined {
    if (reg.k !== K.Stack || !isConst(reg.s) || reg.s.v !== 0n) return undefined;
    const f = this.st.frames[reg.frame];
    const base = 512 + reg.off;
    let zero = true;
    for (let i = 0; i < size; i++) if (f.bytes[base + i] !== B.Zero) zero = false;
    if (zero) return 0n;
    const sp = f.spills[base >> 3];
    if (size === 8 && base % 8 === 0 && sp !== undefined && sp.k === K.Scalar && sp.s.exact) {
      // A full spill of a known constant; of a non-constant, the key is unknown to both.
      return isConst(sp.s) ? sp.s.v : BigInt(Number.MAX_SAFE_INTEGER);
    }
    return undefined;
  }

  /** `check_map_func_compatibility()`, the common rules. */
  mapCompat(map: ResolvedMap, id: number, name: string): void {
    const bad = (): never =>
      this.fail(
        "map-func",
        `cannot pass map_type ${map.type} into func ${name}`,
        `${name.replace(/#.*/, "")} cannot be used with a map of type ${map.type}.`,
      );
    const RINGBUF = 27, PROG_ARRAY = 3, PERF = 4;
    const ringbufFns = [130, 131, 134, 198];
    if (map.type === PROG_ARRAY && id !== 12) bad();
    if (map.type === RINGBUF && ![...ringbufFns, 194].includes(id)) bad();
    if (map.type === PERF && ![22, 25, 41, 55, 121].includes(id)) bad();
    if (id === 12 && map.type !== PROG_ARRAY) bad();
    if (ringbufFns.includes(id) && map.type !== RINGBUF) bad();
    if (id === 25 && map.type !== PERF) bad();
  }

  /** `check_helper_mem_access()` for a pointer argument of `size` bytes. */
  memArg(regno: number, reg: Reg, size: number, write: boolean): void {
    switch (reg.k) {
      case K.Stack: {
        if (!isConst(reg.s) || reg.s.v !== 0n) {
          this.varStackBounds(regno, reg, reg.off, size, write ? " write to" : " read from");
          this.giveUp("variable-offset stack argument");
        }
        const off = reg.off;
        if (off < -512 || off + size > 0) {
          this.fail(
            "stack-bounds",
            `invalid ${write ? "write to" : "read from"} stack R${regno} off=${off} size=${size}`,
            "The memory given to the helper is not all inside the 512-byte stack frame.",
            [regno],
          );
        }
        const f = this.st.frames[reg.frame];
        const base = 512 + off;
        this.noteDepth(f, -off);
        if (write) {
          this.dynptrOverwrite(f, base, size, true);
          ownBytes(f);
          if (base < f.low) f.low = base;
          for (let i = 0; i < size; i++) {
            const sl = (base + i) >> 3;
            if (f.spills[sl] !== undefined) {
              if (f.spills[sl]!.k !== K.Scalar && !this.allowPtrLeaks) {
                this.giveUp("helper writes over a spilled pointer");
              }
              f.spills[sl] = undefined;
              for (let j = sl * 8; j < sl * 8 + 8; j++) {
                if (f.bytes[j] === B.Spill) f.bytes[j] = B.Misc;
              }
            }
            f.bytes[base + i] = B.Misc;
          }
          return;
        }
        for (let i = 0; i < size; i++) {
          const b = f.bytes[base + i];
          if (b === B.Invalid && !this.allowUninitStack) {
            this.fail(
              "uninit-stack",
              `invalid read from stack R${regno} off ${off}+${i} size ${size}`,
              `The helper reads stack byte r10${
                off + i
              }, which was never written (allowed only with CAP_PERFMON).`,
              [regno],
            );
          }
          if (b === B.Dynptr) this.giveUp("helper reads a dynptr slot");
          if (b === B.Spill) {
            const sp = f.spills[(base + i) >> 3];
            if (sp !== undefined && sp.k !== K.Scalar && !this.allowPtrLeaks) {
              this.giveUp("helper reads a spilled pointer");
            }
          }
        }
        return;
      }
      case K.Pkt:
      case K.PktMeta:
        this.access(regno, reg, 0, size, false, undefined, false, 0);
        return;
      case K.MapValue: {
        const map = reg.map!;
        if (write && (map.flags & F_RDONLY_PROG)) this.giveUp("helper writes into a read-only map");
        this.regionCheck(
          regno,
          reg,
          reg.off,
          size,
          map.valueSize,
          "map value",
          `invalid access to map value, value_size=${map.valueSize} off=%OFF% size=${size}`,
        );
        this.lockOverlap(reg, reg.off, size, false);
        return;
      }
      case K.Mem:
        this.regionCheck(
          regno,
          reg,
          reg.off,
          size,
          reg.memSize,
          "memory",
          `invalid access to memory, mem_size=${reg.memSize} off=%OFF% size=${size}`,
        );
        return;
      default:
        this.giveUp("helper memory of an unmodelled kind");
    }
  }
}
