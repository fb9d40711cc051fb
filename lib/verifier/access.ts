/**
 * The deep checker's memory access rules (`check_mem_access()`): context, map value, packet and
 * other pointer regions, alignment, bounds and spin-lock overlap; stack accesses go to `stack.ts`.
 * Internal to `lib/verifier/`.
 *
 * @module
 */
import { ProgType } from "../../types/prog_type.ts";
import type { CtxAccess } from "../progtype/ctx_access.ts";
import { inexact, isConst, s64, tnumText, unknownScalar } from "./scalar.ts";
import { K, mkReg, type Reg } from "./state.ts";
import { F_RDONLY_PROG, MAX_VAR_OFF } from "./core.ts";
import { InterpStack } from "./stack.ts";

/** The interpreter so far, plus the deep checker's memory access rules (`check_mem_access()`). */
export abstract class InterpAccess extends InterpStack {
  /** `check_mem_access()`: returns the loaded register for reads. */
  access(
    regno: number,
    reg: Reg,
    insnOff: number,
    size: number,
    write: boolean,
    value: Reg | undefined,
    isImm: boolean,
    immValue: number,
  ): Reg | undefined {
    if (reg.k === K.Unknown) this.giveUp("memory access through an unmodelled pointer");
    if (reg.nullUnsure && reg.nullable) {
      this.giveUp("array lookup result: the kernel may know it is not NULL");
    }
    if (reg.k === K.Scalar || reg.nullable || reg.k === K.PktEnd) {
      this.fail(
        reg.nullable ? "null-deref" : "invalid-mem",
        `R${regno} invalid mem access '${this.typeName(reg)}'`,
        reg.nullable
          ? `r${regno} may be NULL here: check it against 0 (e.g. "if r${regno} == 0 goto ...") before dereferencing it.`
          : reg.k === K.Scalar
          ? `r${regno} holds a number, not a pointer: it cannot be dereferenced.`
          : `r${regno} points at the end of the packet, which cannot be dereferenced.`,
        [regno],
      );
    }
    const off = insnOff + reg.off;
    switch (reg.k) {
      case K.Ctx: {
        this.ctxOffset(regno, reg);
        if (write && value !== undefined && value.k !== K.Scalar && !this.allowPtrLeaks) {
          this.fail(
            "ptr-leak",
            `R${value === undefined ? 0 : this.insns[this.pc].src} leaks addr into ctx`,
            "Without CAP_PERFMON a pointer cannot be written to the context.",
          );
        }
        let a: CtxAccess = this.def.ops.isValidAccess?.(insnOff, size, write ? "write" : "read") ??
          { valid: "unknown" };
        if (
          this.def.type === ProgType.CGROUP_SKB && !write && size === 4 && this.bpfCapable &&
          (insnOff === 76 || insnOff === 80)
        ) {
          // cg_skb_is_valid_access(): data and data_end with CAP_BPF.
          a = { valid: true, result: insnOff === 76 ? "pkt" : "pkt_end" };
        }
        if (a.valid === false) {
          this.fail(
            "ctx-access",
            `invalid bpf_context access off=${insnOff} size=${size}`,
            `The ${this.def.name} context has no ${
              write ? "writable" : "readable"
            } field of ${size} bytes at offset ${insnOff}.`,
            [regno],
          );
        }
        if (write) return undefined;
        if (a.valid === "unknown") return mkReg(K.Unknown);
        switch (a.result) {
          case "pkt":
            return mkReg(K.Pkt);
          case "pkt_end":
            return mkReg(K.PktEnd);
          case "pkt_meta":
            return mkReg(K.PktMeta);
          case "scalar":
            return this.scalarReg(unknownScalar(size * 8));
          default:
            return mkReg(K.Unknown);
        }
      }
      case K.Stack:
        return this.stackAccess(regno, reg, insnOff, size, write, value, isImm, immValue);
      case K.MapValue: {
        const map = reg.map!;
        if (write && (map.flags & F_RDONLY_PROG)) {
          this.fail(
            "map-readonly",
            `write into map forbidden, value_size=${map.valueSize} off=${off} size=${size}`,
            "The map was created read-only for programs (BPF_F_RDONLY_PROG).",
            [regno],
          );
        }
        if (write && value !== undefined && value.k !== K.Scalar && !this.allowPtrLeaks) {
          this.fail(
            "ptr-leak",
            `R${this.insns[this.pc].src} leaks addr into map`,
            "Without CAP_PERFMON a pointer cannot be stored in a map: user space could read the kernel address.",
          );
        }
        this.regionCheck(
          regno,
          reg,
          off,
          size,
          map.valueSize,
          "map value",
          `invalid access to map value, value_size=${map.valueSize} off=${"%OFF%"} size=${size}`,
        );
        this.lockOverlap(reg, off, size, true);
        if (write) return undefined;
        // Read-only maps may be frozen (the kernel then knows the values); BTF values may hold
        // typed fields, unless the description says where the special ones are.
        if ((map.hasBtf && map.spinLock < 0) || (map.flags & F_RDONLY_PROG)) {
          return this.scalarReg(inexact(size * 8));
        }
        return this.scalarReg(unknownScalar(size * 8));
      }
      case K.Mem: {
        this.regionCheck(
          regno,
          reg,
          off,
          size,
          reg.memSize,
          "memory",
          `invalid access to memory, mem_size=${reg.memSize} off=${"%OFF%"} size=${size}`,
        );
        if (write) return undefined;
        return this.scalarReg(unknownScalar(size * 8));
      }
      case K.Pkt:
      case K.PktMeta: {
        if (write) {
          const t = this.def.type;
          if (!(t === ProgType.SCHED_CLS || t === ProgType.SCHED_ACT || t === ProgType.XDP)) {
            if (t === ProgType.CGROUP_SKB || t === ProgType.SOCKET_FILTER) {
              this.fail(
                "pkt-write",
                "cannot write into packet",
                `${this.def.name} programs may not write to packet data.`,
                [regno],
              );
            }
            this.giveUp("packet write permission not modelled for this type");
          }
        }
        if (!reg.s.exact) this.giveUp("imprecise packet offset");
        if (reg.s.smin < 0n) {
          this.fail(
            "pkt-bounds",
            `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`,
            "The offset added to the packet pointer may be negative.",
            [regno],
          );
        }
        if (reg.range < 0 || off < 0 || off + size > reg.range) {
          this.fail(
            "pkt-bounds",
            reg.range < 0
              ? `R${regno} offset is outside of the packet`
              : `invalid access to packet, off=${off} size=${size}, R${regno}(id=${reg.id},off=${reg.off},r=${reg.range})`,
            `Bytes ${off}..${
              off + size - 1
            } of the packet are read or written, but the program proved only ${
              Math.max(reg.range, 0)
            } bytes are there on this path: compare the pointer with data_end first (e.g. "if r${regno} + ${
              off + size
            } > data_end goto drop").`,
            [regno],
          );
        }
        if (write) return undefined;
        return this.scalarReg(unknownScalar(size * 8));
      }
      default:
        this.giveUp(`memory access through ${this.typeName(reg)} is not modelled`);
    }
  }

  /** The special-field rule of `check_map_access()`: the spin lock is not plain memory. */
  lockOverlap(reg: Reg, off: number, size: number, direct: boolean): void {
    const map = reg.map!;
    if (map.spinLock < 0) {
      if (map.hasBtf) this.giveUp("map value with BTF fields not described");
      return;
    }
    if (!isConst(reg.s)) this.giveUp("variable offset into a value with a spin lock");
    const lo = off + Number(s64(reg.s.v));
    if (lo < map.spinLock + 4 && map.spinLock < lo + size) {
      this.fail(
        "spin-lock",
        `bpf_spin_lock cannot be accessed ${
          direct ? "directly by load/store" : "indirectly by helper"
        }`,
        "The struct bpf_spin_lock in a map value may only be used through bpf_spin_lock() and bpf_spin_unlock().",
      );
    }
  }

  /** `__check_ptr_off_reg()` for the context pointer: it must be unmodified. */
  ctxOffset(regno: number, reg: Reg): void {
    const expl =
      "The context pointer must be used unmodified, with the field offset in the instruction.";
    if (reg.off < 0) {
      this.fail(
        "ctx-modified",
        `negative offset ctx ptr R${regno} off=${reg.off} disallowed`,
        expl,
        [
          regno,
        ],
      );
    }
    if (reg.off !== 0) {
      this.fail(
        "ctx-modified",
        `dereference of modified ctx ptr R${regno} off=${reg.off} disallowed`,
        expl,
        [regno],
      );
    }
    if (!isConst(reg.s) || reg.s.v !== 0n) {
      if (!reg.s.exact) this.giveUp("imprecise context offset");
      this.fail(
        "ctx-modified",
        `variable ctx access var_off=${tnumText(reg.s)} disallowed`,
        expl,
        [regno],
      );
    }
  }

  /** `check_mem_region_access()`. */
  regionCheck(
    regno: number,
    reg: Reg,
    off: number,
    size: number,
    memSize: number,
    what: string,
    msg: string,
  ): void {
    const v = reg.s;
    if (!v.exact) this.giveUp(`imprecise ${what} offset`);
    const O = BigInt(off);
    if (
      v.smin < 0n &&
      (v.smin === -(1n << 63n) || BigInt.asIntN(32, O + v.smin) !== O + v.smin || v.smin + O < 0n)
    ) {
      this.fail(
        "map-bounds",
        `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`,
        `The offset into the ${what} may be negative.`,
        [regno],
      );
    }
    const lo = O + v.smin;
    if (lo < 0n || lo + BigInt(size) > BigInt(memSize)) {
      this.fail(
        "map-bounds",
        isConst(v)
          ? msg.replace("%OFF%", String(lo))
          : `R${regno} min value is outside of the allowed memory range`,
        `The access of ${size} bytes at offset ${lo} is outside the ${memSize}-byte ${what}.`,
        [regno],
      );
    }
    if (v.umax >= MAX_VAR_OFF) {
      this.fail(
        "map-bounds",
        `R${regno} unbounded memory access, make sure to bounds check any such access`,
        `Nothing bounds the offset added to r${regno}: compare it with a constant before the access.`,
        [regno],
      );
    }
    const hi = O + v.umax;
    if (hi + BigInt(size) > BigInt(memSize)) {
      this.fail(
        "map-bounds",
        isConst(v)
          ? msg.replace("%OFF%", String(hi))
          : `R${regno} max value is outside of the allowed memory range`,
        `The access of ${size} bytes may reach offset ${hi}, past the ${memSize}-byte ${what}.`,
        [regno],
      );
    }
  }
}
