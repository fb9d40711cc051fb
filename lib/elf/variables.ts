/**
 * Encoding a value for a global variable of a BPF object (`ObjectSpec.setVariable`), checked
 * against the variable's BTF type. Pure.
 *
 * @module
 */
import type { Btf } from "../btf/btf.ts";
import { ArgumentError } from "../errors.ts";

/**
 * What `ObjectSpec.setVariable` accepts: a number or bigint (integers, enums), a boolean (`bool`),
 * a string (char arrays) or the variable's exact bytes.
 *
 * @example
 * ```ts
 * import type { VariableValue } from "@tsbpf/core/elf";
 * const v: VariableValue = 1234n;
 * ```
 */
export type VariableValue = number | bigint | boolean | string | Uint8Array;

const BTF_INT_SIGNED = 1;
const BTF_INT_BOOL = 4;

function intBytes(what: string, n: bigint, size: number, signed: boolean): Uint8Array {
  const bits = BigInt(size * 8);
  const min = signed ? -(1n << (bits - 1n)) : 0n;
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (n < min || n > max) {
    throw new ArgumentError(
      what,
      `${what}: ${n} is outside the range of its ${signed ? "signed" : "unsigned"} ` +
        `${size}-byte type (${min}..${max})`,
    );
  }
  const out = new Uint8Array(size);
  let u = BigInt.asUintN(size * 8, n);
  for (let i = 0; i < size; i++, u >>= 8n) out[i] = Number(u & 0xffn);
  return out;
}

function toBigInt(what: string, value: number | bigint): bigint {
  if (typeof value === "bigint") return value;
  if (!Number.isInteger(value)) {
    throw new ArgumentError(what, `${what}: ${value} is not an integer`);
  }
  return BigInt(value);
}

/**
 * Encodes `value` for variable `name` of `size` bytes whose BTF type is `typeId` in `btf` (0 or
 * no BTF: only numbers, bigints and exact bytes, as an unsigned integer of `size` bytes).
 *
 * @throws {ArgumentError} when the value does not fit the type.
 * @throws {ArgumentError} when the value's kind does not match the type.
 * @example
 * ```ts
 * import { encodeVariable } from "@tsbpf/core/elf";
 * encodeVariable("targ_pid", ".rodata", 7, 4, undefined, 0); // Uint8Array [7, 0, 0, 0]
 * ```
 */
export function encodeVariable(
  name: string,
  section: string,
  value: VariableValue,
  size: number,
  btf: Btf | undefined,
  typeId: number,
): Uint8Array {
  const what = `variable ${name} (${section})`;
  if (value instanceof Uint8Array) {
    if (value.length !== size) {
      throw new ArgumentError(
        what,
        `${what}: ${value.length} bytes given, the variable has ${size}`,
      );
    }
    return value;
  }
  const t = btf !== undefined && typeId !== 0 ? btf.resolve(typeId) : undefined;
  if (t === undefined) {
    if (typeof value === "number" || typeof value === "bigint") {
      return intBytes(what, toBigInt(what, value), size, typeof value === "number" && value < 0);
    }
    throw new ArgumentError(
      what,
      `${what}: without BTF only numbers, bigints and bytes can be set`,
    );
  }
  switch (t.kind) {
    case "int": {
      if ((t.encoding & BTF_INT_BOOL) !== 0 || typeof value === "boolean") {
        if (typeof value !== "boolean" && value !== 0 && value !== 1) {
          throw new ArgumentError(what, `${what}: a bool takes true or false`);
        }
        return intBytes(what, value === true || value === 1 ? 1n : 0n, t.size, false);
      }
      if (typeof value !== "number" && typeof value !== "bigint") {
        throw new ArgumentError(what, `${what}: its type ${t.name} takes a number or bigint`);
      }
      return intBytes(what, toBigInt(what, value), t.size, (t.encoding & BTF_INT_SIGNED) !== 0);
    }
    case "enum":
    case "enum64": {
      if (typeof value === "string") {
        const v = t.values.find((x) => x.name === value);
        if (v === undefined) {
          throw new ArgumentError(what, `${what}: ${value} is not a value of enum ${t.name}`);
        }
        return intBytes(what, BigInt(v.value), t.size, t.signed || BigInt(v.value) < 0n);
      }
      if (typeof value !== "number" && typeof value !== "bigint") {
        throw new ArgumentError(
          what,
          `${what}: enum ${t.name} takes a number, bigint or value name`,
        );
      }
      return intBytes(what, toBigInt(what, value), t.size, t.signed);
    }
    case "ptr":
      if (typeof value !== "number" && typeof value !== "bigint") {
        throw new ArgumentError(what, `${what}: a pointer takes a number or bigint`);
      }
      return intBytes(what, toBigInt(what, value), size, false);
    case "array": {
      const elem = btf!.resolve(t.type);
      if (typeof value === "string" && elem.kind === "int" && elem.size === 1) {
        const enc = new TextEncoder().encode(value);
        if (enc.length + 1 > t.nelems) {
          throw new ArgumentError(
            what,
            `${what}: "${value}" is ${enc.length} bytes; char[${t.nelems}] holds ${
              t.nelems - 1
            } and the NUL`,
          );
        }
        const out = new Uint8Array(size);
        out.set(enc);
        return out;
      }
      throw new ArgumentError(
        what,
        `${what}: an array takes a string (char arrays) or its ${size} bytes`,
      );
    }
    default:
      throw new ArgumentError(what, `${what}: a ${t.kind} takes its ${size} bytes as a Uint8Array`);
  }
}
