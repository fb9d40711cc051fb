/**
 * The deep checker's loads and stores: LDX/STX/ST, atomics, `ld_imm64` (map references) and
 * legacy packet loads. Internal to `lib/verifier/`.
 *
 * @module
 */
import type { Insn } from "../insn/insn.ts";
import type { ResolvedMap } from "./maps.ts";
import { constScalar, inexact, isConst } from "./scalar.ts";
import { K, mkReg, type Reg } from "./state.ts";
import { InterpAccess } from "./access.ts";

/** The interpreter so far, plus the deep checker's loads and stores. */
export abstract class InterpLoadStore extends InterpAccess {
  load(insn: Insn, size: number, signExtend: boolean): void {
    const src = this.use(insn.src);
    const r = this.access(insn.src, src, insn.off, size, false, undefined, false, 0)!;
    if (signExtend && r.k === K.Scalar) {
      r.s = isConst(r.s) ? constScalar(BigInt.asIntN(size * 8, r.s.v)) : inexact();
    }
    this.setReg(insn.dst, r);
  }

  store(insn: Insn, size: number, srcReg: number | undefined, isImm: boolean): void {
    const dst = this.use(insn.dst);
    let value: Reg | undefined;
    if (srcReg !== undefined) {
      value = this.read(srcReg);
    }
    if (value !== undefined && value.k === K.Unknown && dst.k !== K.Stack) {
      this.giveUp("store of an unmodelled value");
    }
    this.access(insn.dst, dst, insn.off, size, true, value, isImm, insn.imm);
  }

  atomic(insn: Insn, size: number, op: number, fetch: boolean): void {
    const src = this.read(insn.src);
    if (op === 0xf0) this.read(0);
    const dst = this.use(insn.dst);
    if (
      dst.k === K.Ctx || dst.k === K.Pkt || dst.k === K.PktMeta || dst.k === K.Sock ||
      dst.k === K.SockCommon || dst.k === K.TcpSock
    ) {
      this.fail(
        "atomic-target",
        `BPF_ATOMIC stores into R${insn.dst} ${this.typeName(dst)} is not allowed`,
        "Atomic operations work only on the stack, map values and similar memory.",
        [insn.dst],
      );
    }
    if (src.k !== K.Scalar) {
      if (src.k === K.Unknown) this.giveUp("atomic with an unmodelled value");
      if (!this.allowPtrLeaks) {
        this.fail(
          "ptr-leak",
          `R${insn.src} leaks addr into mem`,
          "Without CAP_PERFMON a pointer cannot be stored.",
        );
      }
      this.giveUp("atomic with a pointer operand");
    }
    if (dst.k !== K.Stack && dst.k !== K.MapValue && dst.k !== K.Mem) {
      this.giveUp("atomic target not modelled");
    }
    this.access(insn.dst, dst, insn.off, size, false, undefined, false, 0);
    this.access(insn.dst, dst, insn.off, size, true, this.scalarReg(inexact()), false, 0);
    if (op === 0xf0) this.setReg(0, this.scalarReg(inexact(size * 8)));
    else if (fetch) this.setReg(insn.src, this.scalarReg(inexact(size * 8)));
  }

  ldImm64(insn: Insn, next: Insn): void {
    const d = insn.dst;
    switch (insn.src) {
      case 0: {
        const v = (BigInt(next.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0);
        this.setReg(d, this.scalarReg(constScalar(v)));
        return;
      }
      case 1:
      case 2: {
        const map = this.map(insn.imm);
        if (insn.src === 1) {
          const r = mkReg(K.MapPtr);
          r.map = map;
          this.setReg(d, r);
          return;
        }
        if (map.type !== 2) this.giveUp("direct value access to a non-array map");
        if (map.maxEntries !== 1) {
          this.fail(
            "map-value-off",
            `invalid access to map value pointer, value_size=${map.valueSize} off=${
              next.imm >>> 0
            }`,
            "Only an array map of one element has a direct value address.",
          );
        }
        if ((next.imm >>> 0) >= map.valueSize) {
          this.fail(
            "map-value-off",
            `invalid access to map value pointer, value_size=${map.valueSize} off=${
              next.imm >>> 0
            }`,
            "The ld_imm64 map value offset is past the value's end.",
          );
        }
        const r = mkReg(K.MapValue);
        r.map = map;
        r.off = next.imm >>> 0;
        this.setReg(d, r);
        return;
      }
      case 4: {
        const r = mkReg(K.Func);
        r.off = this.pc + 1 + insn.imm;
        this.setReg(d, r);
        return;
      }
      default:
        this.setReg(d, mkReg(K.Unknown));
    }
  }

  map(fd: number): ResolvedMap {
    const m = this.maps.get(fd);
    if (m === undefined || m === null) {
      if (
        !this.warnings.some((w) => w.code === "map-undescribed" && w.message.includes(`fd ${fd} `))
      ) {
        this.warnings.push({
          index: this.pc,
          code: "map-undescribed",
          message: `map fd ${fd} is not described${
            m === null ? " correctly" : ""
          }: code using it was not checked`,
          severity: "warning",
          explanation:
            `Give checkProgram a "maps" entry for fd ${fd} ({ type, keySize, valueSize, maxEntries }) to check the code that uses this map.`,
          registers: {},
        });
      }
      this.giveUp(`map fd ${fd} not described`);
    }
    return m;
  }

  ldAbs(insn: Insn, ind: boolean): void {
    const r6 = this.read(6);
    if (ind) this.use(insn.src);
    if (r6.k !== K.Ctx) {
      if (r6.k === K.Unknown) this.giveUp("r6 not modelled");
      this.fail(
        "ld-abs-ctx",
        "at the time of BPF_LD_ABS|IND R6 != pointer to skb",
        "Legacy packet loads need the context pointer in r6.",
        [6],
      );
    }
    if (this.st.lock !== 0) {
      this.fail(
        "lock-held",
        "BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region",
        "Legacy packet loads may not run while a bpf_spin_lock is held.",
      );
    }
    if (this.st.refs.length > 0) this.giveUp("legacy packet load with references held");
    const f = this.frame();
    for (let i = 1; i <= 5; i++) f.regs[i] = mkReg(K.NotInit);
    // The kernel may narrow the loaded value to the load's width: not relied on.
    f.regs[0] = this.scalarReg(inexact());
  }
}
