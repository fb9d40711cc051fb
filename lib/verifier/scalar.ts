/**
 * The verifier's scalar domain: a tnum (known bits) with unsigned and signed 64-bit bounds, as in
 * the kernel's `struct bpf_reg_state`, plus an `exact` mark.
 *
 * `exact` is this checker's own addition: it says the bounds are the ones the kernel would hold too
 * (constants, values of a known bit width, ranges inside [0, 2^32) built by operations this module
 * reproduces). A finding or a pruned branch may only rest on exact scalars; anything else makes the
 * interpreter give up rather than guess, so that it never refuses what the kernel accepts.
 *
 * @module
 */

/** 2^64 - 1. */
export const U64_MAX = (1n << 64n) - 1n;
/** -2^63. */
export const S64_MIN = -(1n << 63n);
/** 2^63 - 1. */
export const S64_MAX = (1n << 63n) - 1n;
const U32_MAX = 0xffffffffn;

/**
 * An abstract 64-bit scalar.
 *
 * @example
 * ```ts
 * import { constScalar } from "@tsbpf/core/verifier";
 * constScalar(5n).umax; // 5n
 * ```
 */
export interface Scalar {
  /** Known bits (tnum value). */
  v: bigint;
  /** Unknown bits (tnum mask). */
  m: bigint;
  /** Unsigned lower bound. */
  umin: bigint;
  /** Unsigned upper bound. */
  umax: bigint;
  /** Signed lower bound. */
  smin: bigint;
  /** Signed upper bound. */
  smax: bigint;
  /** The kernel holds the same bounds (see the module doc). */
  exact: boolean;
}

/** As unsigned 64-bit. */
export function u64(x: bigint): bigint {
  return BigInt.asUintN(64, x);
}
/** As signed 64-bit. */
export function s64(x: bigint): bigint {
  return BigInt.asIntN(64, x);
}

/**
 * A known constant.
 *
 * @example
 * ```ts
 * import { constScalar } from "@tsbpf/core/verifier";
 * constScalar(-1n).umax; // 18446744073709551615n
 * ```
 */
export function constScalar(x: bigint): Scalar {
  if (x >= 0n && x <= S64_MAX) {
    return { v: x, m: 0n, umin: x, umax: x, smin: x, smax: x, exact: true };
  }
  const u = u64(x), s = s64(x);
  return { v: u, m: 0n, umin: u, umax: u, smin: s, smax: s, exact: true };
}

/**
 * An unknown value of `bits` bits (zero-extended), e.g. a 4-byte load is `unknownScalar(32)`.
 *
 * @example
 * ```ts
 * import { unknownScalar } from "@tsbpf/core/verifier";
 * unknownScalar(8).umax; // 255n
 * ```
 */
export function unknownScalar(bits = 64): Scalar {
  if (bits >= 64) {
    return {
      v: 0n,
      m: U64_MAX,
      umin: 0n,
      umax: U64_MAX,
      smin: S64_MIN,
      smax: S64_MAX,
      exact: true,
    };
  }
  const max = (1n << BigInt(bits)) - 1n;
  return { v: 0n, m: max, umin: 0n, umax: max, smin: 0n, smax: max, exact: true };
}

/** A copy. */
export function cloneScalar(s: Scalar): Scalar {
  return { v: s.v, m: s.m, umin: s.umin, umax: s.umax, smin: s.smin, smax: s.smax, exact: s.exact };
}

/** Whether the value is known. */
export function isConst(s: Scalar): boolean {
  return s.m === 0n;
}

/** An unknown value the kernel may know better than we do. */
export function inexact(bits = 64): Scalar {
  const s = unknownScalar(bits);
  s.exact = false;
  return s;
}

/** `tnum_range(min, max)`. */
function tnumRange(min: bigint, max: bigint): [bigint, bigint] {
  const chi = min ^ max;
  if (chi === 0n) return [min, 0n];
  const hi = Number(chi >> 32n);
  const bits = hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(Number(chi));
  if (bits > 63) return [0n, U64_MAX];
  const delta = (1n << BigInt(bits)) - 1n;
  return [min & ~delta, delta];
}

/**
 * The kernel's `reg_bounds_sync()` for the 64-bit half: bounds from the tnum, signed from unsigned
 * where they cannot cross the sign, the tnum from the bounds. Marks the result inexact when it
 * leaves the regimes this module reproduces exactly.
 *
 * @example
 * ```ts
 * import { constScalar, sync } from "@tsbpf/core/verifier";
 * sync(constScalar(1n)).exact; // true
 * ```
 */
export function sync(s: Scalar): Scalar {
  // __update_reg64_bounds
  const sv = s64(s.v | (s.m & (1n << 63n))), sx = s64(s.v | (s.m & S64_MAX));
  if (sv > s.smin) s.smin = sv;
  if (sx < s.smax) s.smax = sx;
  if (s.v > s.umin) s.umin = s.v;
  if ((s.v | s.m) < s.umax) s.umax = s.v | s.m;
  // __reg64_deduce_bounds (the non-crossing cases)
  if (s.smin >= 0n || s.smax < 0n) {
    // Signed range on one side of the sign: same as unsigned.
    const lo = u64(s.smin), hi = u64(s.smax);
    if (lo > s.umin) s.umin = lo;
    if (hi < s.umax) s.umax = hi;
  }
  if (s64(s.umin) <= s64(s.umax)) {
    if (s64(s.umin) > s.smin) s.smin = s64(s.umin);
    if (s64(s.umax) < s.smax) s.smax = s64(s.umax);
  }
  // __reg_bound_offset
  const [rv, rm] = tnumRange(s.umin, s.umax);
  const v = s.v | rv, mu = s.m & rm;
  s.v = v & ~mu;
  s.m = mu;
  if (s.v > s.umin) s.umin = s.v;
  if ((s.v | s.m) < s.umax) s.umax = s.v | s.m;
  if (s.umin > s.umax || s.smin > s.smax) {
    // Contradiction: only an inexact input can produce it; the caller treats this as unknown.
    s.exact = false;
    return s;
  }
  if (s.exact) s.exact = regimeExact(s);
  return s;
}

/** The regimes in which our bounds equal the kernel's (see the module doc). */
function regimeExact(s: Scalar): boolean {
  if (s.m === 0n) return true;
  if (s.v === 0n && s.m === U64_MAX && s.umin === 0n && s.umax === U64_MAX) {
    // Fully unknown, or with signed bounds only that cross zero: reg_bounds_sync() derives
    // nothing more from these.
    return (s.smin === S64_MIN && s.smax === S64_MAX) || (s.smin < 0n && s.smax >= 0n);
  }
  if (s.smin >= 0n && s.umax <= U32_MAX && s.smin === s.umin && s.smax === s.umax) return true;
  // A fully unknown tnum with unsigned bounds only, crossing the sign: nothing more either.
  if (
    s.v === 0n && s.m === U64_MAX && s.smin === S64_MIN && s.smax === S64_MAX &&
    s.umin <= S64_MAX && s.umax > S64_MAX
  ) {
    return true;
  }
  // An unknown of a known width (upper bits zero).
  if (s.v === 0n && s.umin === 0n && s.umax === s.m && ((s.m + 1n) & s.m) === 0n) {
    return s.smin === 0n && s.smax === s.m;
  }
  return false;
}

/** The 32-bit view `[u32min, u32max, s32min, s32max]` of an exact scalar, or `undefined`. */
export function bounds32(s: Scalar): [bigint, bigint, bigint, bigint] | undefined {
  if (!s.exact) return undefined;
  if (s.m === 0n) {
    const u = s.v & U32_MAX;
    const sv = BigInt.asIntN(32, u);
    return [u, u, sv, sv];
  }
  if (s.umax <= U32_MAX) {
    const lo = s.umin, hi = s.umax;
    if (hi < 0x80000000n) return [lo, hi, lo, hi];
    if (lo >= 0x80000000n) return [lo, hi, lo - (1n << 32n), hi - (1n << 32n)];
    return [lo, hi, -(1n << 31n), (1n << 31n) - 1n];
  }
  // Full-width unknowns: the low half is unknown.
  if ((s.m & U32_MAX) === U32_MAX) return [0n, U32_MAX, -(1n << 31n), (1n << 31n) - 1n];
  return undefined;
}

/** `tnum_add`. */
function tnumAdd(av: bigint, am: bigint, bv: bigint, bm: bigint): [bigint, bigint] {
  const sm = u64(am + bm), sv = u64(av + bv), sigma = u64(sm + sv);
  const chi = sigma ^ sv, mu = chi | am | bm;
  return [sv & ~mu, mu];
}

/** `tnum_sub`. */
function tnumSub(av: bigint, am: bigint, bv: bigint, bm: bigint): [bigint, bigint] {
  const dv = u64(av - bv), alpha = u64(dv + am), beta = u64(dv - bm);
  const chi = alpha ^ beta, mu = chi | am | bm;
  return [dv & ~mu, mu];
}

/**
 * The kernel's 64-bit ALU on two scalars (`adjust_scalar_min_max_vals`) for the operations this
 * module reproduces; the others give an inexact unknown, and constants are computed exactly.
 *
 * @example
 * ```ts
 * import { alu64, constScalar } from "@tsbpf/core/verifier";
 * alu64(0x00, constScalar(2n), constScalar(3n), false).v; // 5n
 * ```
 */
export function alu64(op: number, a: Scalar, b: Scalar, signed: boolean): Scalar {
  if (a.m === 0n && b.m === 0n) {
    const r = constOp(op, a.v, b.v, signed, 64);
    if (r === undefined) return inexact();
    const c = constScalar(r);
    c.exact = a.exact && b.exact;
    return c;
  }
  const exact = a.exact && b.exact;
  let r: Scalar;
  switch (op) {
    case 0x00: { // add
      const [v, m] = tnumAdd(a.v, a.m, b.v, b.m);
      r = { v, m, umin: 0n, umax: U64_MAX, smin: S64_MIN, smax: S64_MAX, exact };
      if (a.umin + b.umin <= U64_MAX && a.umax + b.umax <= U64_MAX) {
        r.umin = a.umin + b.umin;
        r.umax = a.umax + b.umax;
      }
      if (a.smin + b.smin >= S64_MIN && a.smax + b.smax <= S64_MAX) {
        r.smin = a.smin + b.smin;
        r.smax = a.smax + b.smax;
      }
      break;
    }
    case 0x10: { // sub
      const [v, m] = tnumSub(a.v, a.m, b.v, b.m);
      r = { v, m, umin: 0n, umax: U64_MAX, smin: S64_MIN, smax: S64_MAX, exact };
      if (a.umin >= b.umax) {
        r.umin = a.umin - b.umax;
        r.umax = a.umax - b.umin;
      }
      if (a.smin - b.smax >= S64_MIN && a.smax - b.smin <= S64_MAX) {
        r.smin = a.smin - b.smax;
        r.smax = a.smax - b.smin;
      }
      break;
    }
    case 0x50: { // and
      const v = a.v & b.v, m = (a.m | a.v) & (b.m | b.v) & ~v;
      r = {
        v,
        m,
        umin: v,
        umax: a.umax < b.umax ? a.umax : b.umax,
        smin: S64_MIN,
        smax: S64_MAX,
        exact,
      };
      if (a.smin >= 0n && b.smin >= 0n) {
        r.smin = r.umin;
        r.smax = r.umax;
      }
      break;
    }
    case 0x40: { // or
      const v = a.v | b.v, m = (a.m | b.m) & ~v;
      r = {
        v,
        m,
        umin: a.umin > b.umin ? a.umin : b.umin,
        umax: v | m,
        smin: S64_MIN,
        smax: S64_MAX,
        exact,
      };
      if (a.smin >= 0n && b.smin >= 0n) {
        r.smin = r.umin;
        r.smax = r.umax;
      }
      break;
    }
    case 0x60: // lsh by a constant
    case 0x70: { // rsh by a constant
      if (b.m !== 0n || b.v > 63n) return inexact();
      const k = b.v;
      if (op === 0x70) {
        r = {
          v: a.v >> k,
          m: a.m >> k,
          umin: a.umin >> k,
          umax: a.umax >> k,
          smin: S64_MIN,
          smax: S64_MAX,
          exact,
        };
      } else {
        const v = u64(a.v << k), m = u64(a.m << k);
        r = { v, m, umin: 0n, umax: U64_MAX, smin: S64_MIN, smax: S64_MAX, exact };
        if (k < 64n && (a.umax >> (64n - k)) === 0n) {
          r.umin = a.umin << k;
          r.umax = a.umax << k;
        }
      }
      break;
    }
    default:
      return inexact();
  }
  return sync(r);
}

/** The low 32 bits of an exact scalar as a zero-extended scalar, when they are known as a range. */
function low32(s: Scalar): Scalar | undefined {
  if (!s.exact) return undefined;
  if (s.m === 0n) return constScalar(s.v & U32_MAX);
  if (s.umax <= U32_MAX) return s;
  if ((s.m & U32_MAX) === U32_MAX) return unknownScalar(32);
  return undefined;
}

/**
 * A 32-bit ALU operation on two scalars (result zero-extended). Where the operation, done on the
 * zero-extended low halves, stays within 32 bits (no wrap), its result is the 32-bit result, and
 * its bounds are at least as tight as the kernel's 32-bit ones; anything else is an inexact
 * 32-bit unknown.
 *
 * @example
 * ```ts
 * import { alu32, unknownScalar, constScalar } from "@tsbpf/core/verifier";
 * alu32(0x50, unknownScalar(), constScalar(7n), false).umax; // 7n
 * ```
 */
export function alu32(op: number, a: Scalar, b: Scalar, signed: boolean): Scalar {
  const x = low32(a), y = low32(b);
  if (x === undefined || y === undefined) return inexact(32);
  if (op !== 0x00 && op !== 0x10 && op !== 0x40 && op !== 0x50 && op !== 0x60 && op !== 0x70) {
    if (x.m === 0n && y.m === 0n) {
      const v = constOp(op, x.v, y.v, signed, 32);
      return v === undefined ? inexact(32) : constScalar(v);
    }
    return inexact(32);
  }
  if ((op === 0x60 || op === 0x70) && (y.m !== 0n || y.v > 31n)) return inexact(32);
  const r = alu64(op, x, y, signed);
  if (r.umax > U32_MAX || r.smin < 0n || !r.exact) return inexact(32);
  return r;
}

/**
 * A constant ALU operation of `bits` width, as the interpreter runs it: operands and result are
 * unsigned `bits`-bit values (a 32-bit result is zero-extended); `undefined` when not modelled.
 */
export function constOp(
  op: number,
  a: bigint,
  b: bigint,
  signed: boolean,
  bits: 32 | 64,
): bigint | undefined {
  const z = (x: bigint): bigint => BigInt.asUintN(bits, x);
  const s = (x: bigint): bigint => BigInt.asIntN(bits, x);
  a = z(a);
  b = z(b);
  const shift = b & BigInt(bits - 1);
  switch (op) {
    case 0x00:
      return z(a + b);
    case 0x10:
      return z(a - b);
    case 0x20:
      return z(a * b);
    case 0x30:
      if (b === 0n) return 0n;
      return signed ? z(s(a) / s(b)) : a / b;
    case 0x90:
      if (b === 0n) return a;
      return signed ? z(s(a) % s(b)) : a % b;
    case 0x40:
      return a | b;
    case 0x50:
      return a & b;
    case 0x60:
      return z(a << shift);
    case 0x70:
      return a >> shift;
    case 0xa0:
      return a ^ b;
    case 0xc0:
      return z(s(a) >> shift);
    case 0xb0:
      return b;
    default:
      return undefined;
  }
}

/**
 * `is_scalar_branch_taken()` on exact 64-bit (or 32-bit) views: 1 taken, 0 not taken, -1 unknown.
 * Bounds are given as `[umin, umax, smin, smax]` and tnums as `[v, m]`.
 */
export function branchTaken(
  op: number,
  a: readonly [bigint, bigint, bigint, bigint],
  b: readonly [bigint, bigint, bigint, bigint],
  at: readonly [bigint, bigint] | undefined,
  bt: readonly [bigint, bigint] | undefined,
): number {
  const [umin1, umax1, smin1, smax1] = a;
  const [umin2, umax2, smin2, smax2] = b;
  const c1 = umin1 === umax1, c2 = umin2 === umax2;
  switch (op) {
    case 0x10: // jeq
    case 0x50: { // jne
      let r = -1;
      if (c1 && c2) r = umin1 === umin2 ? 1 : 0;
      else if (at && bt && ((at[0] ^ bt[0]) & ~(at[1] | bt[1])) !== 0n) r = 0;
      else if (umin1 > umax2 || umax1 < umin2) r = 0;
      else if (smin1 > smax2 || smax1 < smin2) r = 0;
      if (r < 0) return -1;
      return op === 0x10 ? r : 1 - r;
    }
    case 0x40: { // jset
      if (!c2 || !at) return -1;
      if ((at[0] & umin2) !== 0n) return 1;
      if (((at[0] | at[1]) & umin2) === 0n) return 0;
      return -1;
    }
    case 0x20: // jgt
      return umin1 > umax2 ? 1 : umax1 <= umin2 ? 0 : -1;
    case 0x30: // jge
      return umin1 >= umax2 ? 1 : umax1 < umin2 ? 0 : -1;
    case 0xa0: // jlt
      return umax1 < umin2 ? 1 : umin1 >= umax2 ? 0 : -1;
    case 0xb0: // jle
      return umax1 <= umin2 ? 1 : umin1 > umax2 ? 0 : -1;
    case 0x60: // jsgt
      return smin1 > smax2 ? 1 : smax1 <= smin2 ? 0 : -1;
    case 0x70: // jsge
      return smin1 >= smax2 ? 1 : smax1 < smin2 ? 0 : -1;
    case 0xc0: // jslt
      return smax1 < smin2 ? 1 : smin1 >= smax2 ? 0 : -1;
    case 0xd0: // jsle
      return smax1 <= smin2 ? 1 : smin1 > smax2 ? 0 : -1;
  }
  return -1;
}

/** The opposite comparison (`false` branch of `op`). */
export function negateJmp(op: number): number {
  switch (op) {
    case 0x10:
      return 0x50;
    case 0x50:
      return 0x10;
    case 0x20:
      return 0xb0;
    case 0xb0:
      return 0x20;
    case 0x30:
      return 0xa0;
    case 0xa0:
      return 0x30;
    case 0x60:
      return 0xd0;
    case 0xd0:
      return 0x60;
    case 0x70:
      return 0xc0;
    case 0xc0:
      return 0x70;
  }
  return -1;
}

/** The comparison with operands swapped (`a op b` ⇔ `b flip(op) a`). */
export function flipJmp(op: number): number {
  switch (op) {
    case 0x20:
      return 0xa0;
    case 0xa0:
      return 0x20;
    case 0x30:
      return 0xb0;
    case 0xb0:
      return 0x30;
    case 0x60:
      return 0xc0;
    case 0xc0:
      return 0x60;
    case 0x70:
      return 0xd0;
    case 0xd0:
      return 0x70;
  }
  return op;
}

/**
 * `regs_refine_cond_op()` (64-bit): narrows `a` and `b` (in place) given that `a op b` holds.
 * JSET refinements are not reproduced: the scalars become inexact instead.
 */
export function refine(op: number, a: Scalar, b: Scalar): void {
  const max = (x: bigint, y: bigint) => x > y ? x : y;
  const min = (x: bigint, y: bigint) => x < y ? x : y;
  switch (op) {
    case 0x10: { // jeq
      const umin = max(a.umin, b.umin), umax = min(a.umax, b.umax);
      const smin = max(a.smin, b.smin), smax = min(a.smax, b.smax);
      const v = a.v | b.v, m = a.m & b.m;
      for (const r of [a, b]) {
        r.umin = umin;
        r.umax = umax;
        r.smin = smin;
        r.smax = smax;
        r.v = v & ~m;
        r.m = m;
      }
      break;
    }
    case 0x50: { // jne: only against a constant
      let x = a, k = b;
      if (!isConst(k)) {
        x = b;
        k = a;
      }
      if (!isConst(k)) break;
      const val = k.v;
      if (x.umin === val) x.umin++;
      if (x.umax === val) x.umax--;
      if (x.smin === s64(val)) x.smin++;
      if (x.smax === s64(val)) x.smax--;
      break;
    }
    case 0x40:
      a.exact = false;
      b.exact = false;
      return;
    case 0x20: // jgt
      a.umin = max(a.umin, b.umin + 1n);
      b.umax = min(b.umax, a.umax - 1n);
      break;
    case 0x30: // jge
      a.umin = max(a.umin, b.umin);
      b.umax = min(b.umax, a.umax);
      break;
    case 0xa0: // jlt
      refine(0x20, b, a);
      return;
    case 0xb0: // jle
      refine(0x30, b, a);
      return;
    case 0x60: // jsgt
      a.smin = max(a.smin, b.smin + 1n);
      b.smax = min(b.smax, a.smax - 1n);
      break;
    case 0x70: // jsge
      a.smin = max(a.smin, b.smin);
      b.smax = min(b.smax, a.smax);
      break;
    case 0xc0:
      refine(0x60, b, a);
      return;
    case 0xd0:
      refine(0x70, b, a);
      return;
  }
  sync(a);
  sync(b);
}

/** `[umin, umax, smin, smax]` of a scalar. */
export function bounds64(s: Scalar): [bigint, bigint, bigint, bigint] {
  return [s.umin, s.umax, s.smin, s.smax];
}

/** The kernel's `tnum_strn()`: `(0x0; 0xff)`, a constant as a number. */
export function tnumText(s: Scalar): string {
  if (s.m === 0n) return `${s64(s.v)}`;
  return `(0x${s.v.toString(16)}; 0x${s.m.toString(16)})`;
}

/** The kernel's textual form of a scalar's state, for findings. */
export function scalarText(s: Scalar): string {
  if (s.m === 0n) return `${s64(s.v)}`;
  const parts: string[] = [];
  if (s.smin !== S64_MIN) parts.push(`smin=${s.smin}`);
  if (s.smax !== S64_MAX) parts.push(`smax=${s.smax}`);
  if (s.umin !== 0n) parts.push(`umin=${s.umin}`);
  if (s.umax !== U64_MAX) parts.push(`umax=${s.umax}`);
  if (s.m !== U64_MAX) parts.push(`var_off=(0x${s.v.toString(16)}; 0x${s.m.toString(16)})`);
  return `scalar(${parts.join(",")})${s.exact ? "" : "?"}`;
}
