/**
 * The deep checker's helper calls (`check_helper_call()`): prototype lookup, arguments, return
 * values, reference tracking and packet invalidation. Internal to `lib/verifier/`.
 *
 * @module
 */
import { HELPER_NAMES } from "../../types/helpers.ts";
import type { FuncProto } from "../progtype/types.ts";
import type { ResolvedMap } from "./maps.ts";
import { inexact, isConst, unknownScalar } from "./scalar.ts";
import { B, type Frame, K, mkReg, ownBytes, type Reg } from "./state.ts";
import { MAX_VAR_OFF } from "./core.ts";
import { InterpCallbacks } from "./callbacks.ts";

/** Map types whose lookup gives a pointer to a value of `value_size` bytes. */
const VALUE_MAPS = new Set([1, 2, 5, 6, 9, 10, 11, 24, 28, 29, 32]);
/** Helpers whose integer result the kernel does not narrow (`do_refine_retval_range`). */
const PLAIN_INT_HELPERS = new Set([
  2,
  3,
  4,
  5,
  6,
  7,
  9,
  10,
  11,
  13,
  14,
  15,
  16,
  23,
  25,
  26,
  28,
  44,
  51,
  65,
  87,
  88,
  89,
  112,
  113,
  125,
  130,
  134,
]);
/** Helpers that leave packet pointers valid (the rest may move the data: pointers are dropped). */
const KEEPS_PKT = new Set([
  1,
  2,
  3,
  5,
  6,
  7,
  8,
  12,
  14,
  15,
  16,
  23,
  25,
  26,
  28,
  51,
  84,
  85,
  86,
  99,
  125,
  130,
  131,
  132,
  133,
  134,
]);

/** Helpers that may move packet data (`bpf_helper_changes_pkt_data()`): packet pointers die. */
const CHANGES_PKT = new Set([
  9,
  10,
  11,
  13,
  18,
  19,
  31,
  38,
  39,
  43,
  44,
  50,
  54,
  63,
  65,
  73,
  74,
  75,
  76,
  90,
  91,
  143,
]);

/** The interpreter so far, plus the deep checker's helper calls (`check_helper_call()`). */
export abstract class InterpHelperCall extends InterpCallbacks {
  proto(id: number): FuncProto | undefined {
    let p = this.protoCache.get(id);
    if (p === undefined) {
      p = this.def.ops.getFuncProto(id, this.lc) ?? null;
      this.protoCache.set(id, p);
    }
    return p ?? undefined;
  }

  helperCall(id: number): number {
    if (this.st.lock !== 0 && id !== 94) {
      this.fail(
        "call-in-lock",
        "function calls are not allowed while holding a lock",
        "Between bpf_spin_lock() and bpf_spin_unlock() the program may not call helpers or functions.",
      );
    }
    const p = this.proto(id);
    if (p === undefined) this.giveUp(`helper ${id} not offered to this type`);
    if (id === 93 || id === 94) return this.spinLockCall(id);
    if (id === 181 || id === 164) return this.callbackCall(id);
    const f = this.frame();
    const name = `${p.name}#${id}`;
    let map: ResolvedMap | undefined;
    let memReg = -1;
    let allocSize = -1;
    let releaseRef = 0;
    let constKey: bigint | undefined;
    let dynRelease: { frame: Frame; slot: number } | undefined;
    for (let i = 0; i < p.args.length; i++) {
      const arg = p.args[i];
      const flags = p.argFlags[i];
      const regno = i + 1;
      if (arg === "ARG_DONTCARE") continue;
      const reg = this.read(regno);
      if (reg.k === K.Unknown) this.giveUp(`argument r${regno} not modelled`);
      const maybeNull = flags.includes("PTR_MAYBE_NULL") || arg.endsWith("_OR_NULL");
      const isNull = reg.k === K.Scalar && isConst(reg.s) && reg.s.v === 0n;
      const typeErr = (expected: string): never =>
        this.fail(
          "helper-arg",
          `R${regno} type=${this.typeName(reg)} expected=${expected}`,
          `Argument ${regno} of ${p.name} must be ${expected}, not ${this.typeName(reg)}.`,
          [regno],
        );
      switch (arg) {
        case "ARG_ANYTHING":
        case "ARG_SCALAR":
          if (reg.k !== K.Scalar && !this.allowPtrLeaks) {
            this.fail(
              "ptr-leak",
              `R${regno} leaks addr into helper function`,
              "Without CAP_PERFMON a pointer cannot be given where a helper expects a number.",
              [regno],
            );
          }
          break;
        case "ARG_CONST_MAP_PTR":
          if (reg.k !== K.MapPtr) typeErr("map_ptr");
          map = reg.map!;
          this.mapCompat(map, id, name);
          break;
        case "ARG_PTR_TO_MAP_KEY":
        case "ARG_PTR_TO_MAP_VALUE":
        case "ARG_PTR_TO_MAP_VALUE_OR_NULL": {
          if (map === undefined) this.giveUp("map argument before its map");
          if (arg === "ARG_PTR_TO_MAP_VALUE_OR_NULL" && isNull) break;
          if (
            !(reg.k === K.Stack || reg.k === K.Pkt || reg.k === K.PktMeta ||
              reg.k === K.MapValue) || reg.nullable
          ) {
            typeErr("fp, pkt, pkt_meta, map_key, map_value");
          }
          const size = arg === "ARG_PTR_TO_MAP_KEY" ? map.keySize : map.valueSize;
          if (size === 0) this.giveUp("map key/value without size");
          this.memArg(regno, reg, size, false);
          if (arg === "ARG_PTR_TO_MAP_KEY") constKey = this.constStackKey(reg, size);
          break;
        }
        case "ARG_PTR_TO_MEM":
        case "ARG_PTR_TO_MEM_OR_NULL":
        case "ARG_PTR_TO_UNINIT_MEM": {
          if (id === 197 && i === 0 && reg.k !== K.MapValue) {
            // bpf_dynptr_from_mem() takes map values only.
            if (reg.k === K.Stack || reg.k === K.Pkt || reg.k === K.Ctx) {
              this.fail(
                "dynptr",
                `Unsupported reg type ${this.typeName(reg)} for bpf_dynptr_from_mem data`,
                "bpf_dynptr_from_mem() makes a dynptr over a map value only.",
                [regno],
              );
            }
            this.giveUp("dynptr data of an unmodelled kind");
          }
          const next = p.args[i + 1];
          if (
            flags.includes("MEM_FIXED_SIZE") ||
            (next !== "ARG_CONST_SIZE" && next !== "ARG_CONST_SIZE_OR_ZERO")
          ) {
            this.giveUp("memory argument without a size argument");
          }
          if (isNull && maybeNull) break;
          if (
            !(reg.k === K.Stack || reg.k === K.Pkt || reg.k === K.PktMeta || reg.k === K.MapValue ||
              reg.k === K.Mem) || reg.nullable
          ) {
            if (reg.k === K.Scalar || reg.nullable) {
              typeErr("fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
            }
            this.giveUp("memory argument of an unmodelled kind");
          }
          memReg = regno;
          break;
        }
        case "ARG_CONST_SIZE":
        case "ARG_CONST_SIZE_OR_ZERO": {
          if (memReg !== regno - 1) this.giveUp("size argument without its memory argument");
          if (reg.k !== K.Scalar) typeErr("scalar");
          const mreg = f.regs[memReg];
          if (mreg.k === K.Scalar) break; // NULL with size: the kernel checks size 0 only
          const v = reg.s;
          if (!v.exact) this.giveUp("imprecise size argument");
          if (v.smin < 0n) {
            this.fail(
              "helper-size",
              `R${regno} min value is negative, either use unsigned or 'var &= const'`,
              "The size given to the helper may be negative.",
              [regno],
            );
          }
          if (v.umax === 0n && arg === "ARG_CONST_SIZE") {
            this.fail(
              "helper-size",
              `R${regno} invalid zero-sized read: u64=[${v.umin},${v.umax}]`,
              "The size given to the helper is 0, which it does not accept.",
              [regno],
            );
          }
          if (v.umax >= MAX_VAR_OFF) {
            this.fail(
              "helper-size",
              `R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`,
              "Nothing bounds the size given to the helper: compare it with a constant first.",
              [regno],
            );
          }
          const write = p.args[i - 1] === "ARG_PTR_TO_UNINIT_MEM" ||
            p.argFlags[i - 1].includes("MEM_UNINIT");
          if (v.umax > 0n) this.memArg(memReg, mreg, Number(v.umax), write);
          break;
        }
        case "ARG_CONST_ALLOC_SIZE_OR_ZERO":
          if (reg.k !== K.Scalar) typeErr("scalar");
          if (!reg.s.exact) this.giveUp("imprecise allocation size");
          if (!isConst(reg.s)) {
            this.fail(
              "helper-size",
              `R${regno} is not a known constant'`,
              "The size of a ring buffer reservation must be a constant.",
              [regno],
            );
          }
          allocSize = Number(reg.s.v);
          break;
        case "ARG_PTR_TO_CTX":
        case "ARG_PTR_TO_CTX_OR_NULL":
          if (isNull && maybeNull) break;
          if (reg.k !== K.Ctx) typeErr("ctx");
          this.ctxOffset(regno, reg);
          break;
        case "ARG_PTR_TO_DYNPTR": {
          const d = this.dynptrArg(regno, reg, flags, id);
          if (d !== undefined) dynRelease = d;
          break;
        }
        case "ARG_PTR_TO_RINGBUF_MEM":
          if (reg.k !== K.Mem || !reg.ringbuf || reg.nullable) {
            if (reg.k === K.Scalar || reg.nullable) typeErr("ringbuf_mem");
            this.giveUp("ringbuf argument of an unmodelled kind");
          }
          if (!isConst(reg.s) || reg.s.v !== 0n) this.giveUp("modified ringbuf pointer");
          if (reg.off !== 0) {
            this.fail(
              "release-offset",
              `R${regno} must have zero offset when passed to release func or trusted arg to kfunc`,
              "Give the helper the pointer that bpf_ringbuf_reserve() returned, unmodified.",
              [regno],
            );
          }
          releaseRef = reg.ref;
          break;
        case "ARG_PTR_TO_BTF_ID_SOCK_COMMON":
        case "ARG_PTR_TO_SOCK_COMMON":
        case "ARG_PTR_TO_SOCKET":
          if (
            !(reg.k === K.Sock || reg.k === K.SockCommon || reg.k === K.TcpSock) || reg.nullable
          ) {
            if (reg.k === K.Scalar || reg.nullable) {
              typeErr("sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
            }
            this.giveUp("socket argument of an unmodelled kind");
          }
          if (flags.includes("OBJ_RELEASE")) {
            if (reg.ref === 0) this.giveUp("release of an unreferenced socket");
            releaseRef = reg.ref;
          }
          break;
        default:
          this.giveUp(`helper argument kind ${arg} not modelled`);
      }
    }
    if (id === 12 && this.st.refs.length > 0) {
      const r = this.st.refs[0];
      this.fail(
        "unreleased-ref",
        `Unreleased reference id=${r.id} alloc_insn=${r.insn}`,
        "A tail call leaves the program: every acquired reference must be released before it.",
      );
    }
    if (dynRelease !== undefined) {
      // unmark_stack_slots_dynptr(): the dynptr's slots become invalid.
      const { frame, slot } = dynRelease;
      ownBytes(frame);
      frame.spills[slot] = undefined;
      frame.spills[slot + 1] = undefined;
      frame.bytes.fill(B.Invalid, slot * 8, slot * 8 + 16);
    }
    if (releaseRef !== 0) {
      const ref = releaseRef;
      if (!this.st.refs.some((r) => r.id === ref)) this.giveUp("release of an unknown reference");
      this.st.refs = this.st.refs.filter((r) => r.id !== ref);
      // mark_reg_invalid(): an unknown scalar for root, uninitialised otherwise.
      for (const r of this.allRegs()) {
        if (r.ref === ref) {
          Object.assign(r, this.allowPtrLeaks ? this.scalarReg(unknownScalar()) : mkReg(K.NotInit));
        }
      }
    }
    // Return value.
    let r0: Reg;
    switch (p.ret) {
      case "RET_INTEGER":
        r0 = this.scalarReg(PLAIN_INT_HELPERS.has(id) ? unknownScalar() : inexact());
        break;
      case "RET_VOID":
        r0 = mkReg(K.NotInit);
        break;
      case "RET_PTR_TO_MAP_VALUE_OR_NULL":
      case "RET_PTR_TO_MAP_VALUE": {
        if (map === undefined || !VALUE_MAPS.has(map.type) || id !== 1) {
          r0 = mkReg(K.Unknown);
          break;
        }
        r0 = mkReg(K.MapValue);
        r0.map = map;
        r0.nullable = true;
        r0.id = ++this.idGen;
        if (map.type === 2 || map.type === 6) {
          // Kernels since 6.13 know an array lookup with a constant in-range key is not NULL;
          // older ones do not, and then it is NULL-checked anyway: taking it as non-NULL never
          // refuses what either accepts. Any other key: NULL on every kernel, unless the kernel
          // may know the key from a spill this checker does not track.
          if (constKey === undefined) r0.nullUnsure = true;
          else if (constKey < BigInt(map.maxEntries)) r0.nullable = false;
        }
        break;
      }
      case "RET_PTR_TO_MEM":
      case "RET_PTR_TO_RINGBUF_MEM_OR_NULL": {
        if (id !== 131 || allocSize < 0) {
          r0 = mkReg(K.Unknown);
          break;
        }
        r0 = mkReg(K.Mem);
        r0.ringbuf = true;
        r0.memSize = allocSize;
        r0.nullable = true;
        r0.id = ++this.idGen;
        r0.ref = r0.id;
        this.st.refs.push({ id: r0.ref, insn: this.pc });
        break;
      }
      case "RET_PTR_TO_SOCKET_OR_NULL":
      case "RET_PTR_TO_SOCK_COMMON_OR_NULL": {
        if (id !== 84 && id !== 85 && id !== 99) {
          r0 = mkReg(K.Unknown);
          break;
        }
        r0 = mkReg(p.ret === "RET_PTR_TO_SOCKET_OR_NULL" ? K.Sock : K.SockCommon);
        r0.nullable = true;
        r0.id = ++this.idGen;
        r0.ref = r0.id;
        this.st.refs.push({ id: r0.ref, insn: this.pc });
        break;
      }
      default:
        r0 = mkReg(K.Unknown);
    }
    for (let i = 1; i <= 5; i++) f.regs[i] = mkReg(K.NotInit);
    f.regs[0] = r0;
    if (!KEEPS_PKT.has(id)) {
      // clear_all_pkt_pointers() after a helper that may move the data (mark_reg_invalid()).
      const known = CHANGES_PKT.has(id);
      for (const r of this.allRegs()) {
        if (r.k === K.Pkt || r.k === K.PktMeta || r.k === K.PktEnd) {
          Object.assign(
            r,
            !known
              ? mkReg(K.Unknown)
              : this.allowPtrLeaks
              ? this.scalarReg(unknownScalar())
              : mkReg(K.NotInit),
          );
        }
      }
    }
    void HELPER_NAMES;
    return this.pc + 1;
  }
}
