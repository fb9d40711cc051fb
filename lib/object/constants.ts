/**
 * The `constants` option of `loadObject`: `const volatile` variables of `.rodata` set before load,
 * checked against their BTF types. Internal to `lib/object/`.
 *
 * @module
 */
import { ObjectError } from "../elf/error.ts";
import type { ObjectSpec } from "../elf/spec.ts";

export function constantBytes(
  spec: ObjectSpec,
  constants: Record<string, number | bigint | Uint8Array>,
): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [name, value] of Object.entries(constants)) {
    const sym = spec.elf.symbols.find((s) =>
      s.name === name && spec.elf.sections[s.section]?.name.startsWith(".rodata")
    );
    if (sym === undefined) {
      throw new ObjectError(
        `constant ${name}: no such variable in .rodata (is it const volatile?)`,
      );
    }
    const secName = spec.elf.sections[sym.section].name;
    const g = spec.globals.find((m) => m.name === secName);
    if (g === undefined || sym.size === 0 || sym.value + sym.size > g.valueSize) {
      throw new ObjectError(
        `constant ${name}: the symbol (${sym.size} bytes at offset ${sym.value}) is not inside ` +
          `section ${secName} (${g?.valueSize ?? 0} bytes)`,
      );
    }
    let data = out.get(secName);
    if (data === undefined) {
      out.set(secName, data = new Uint8Array(g.valueSize));
      if (g.data !== undefined) data.set(g.data);
    }
    let bytes: Uint8Array;
    if (value instanceof Uint8Array) bytes = value;
    else bytes = constantValue(spec, name, secName, sym.size, value);
    if (bytes.length !== sym.size) {
      throw new ObjectError(
        `constant ${name}: ${bytes.length} bytes given, the variable has ${sym.size}`,
      );
    }
    data.set(bytes, sym.value);
  }
  return out;
}

/**
 * The bytes of number or bigint `value` for constant `name` of `size` bytes, checked against the
 * variable's BTF type (integer-ness, sign, range; floats for FLOAT types). Without BTF the value
 * must fit `size` bytes as a signed or unsigned integer.
 */
function constantValue(
  spec: ObjectSpec,
  name: string,
  section: string,
  size: number,
  value: unknown,
): Uint8Array {
  const fail = (why: string): never => {
    throw new ObjectError(`constant ${name}: ${why}`);
  };
  // The variable's type, through the section's DATASEC.
  let kind: "int" | "float" | "other" = "int";
  let signed: boolean | undefined;
  let typeName = `${size}-byte integer`;
  const btf = spec.types;
  const datasec = btf?.find("datasec", section);
  if (btf !== undefined && datasec !== undefined) {
    for (const v of datasec.vars) {
      const vt = btf.typeById(v.type);
      if (vt?.kind !== "var" || vt.name !== name) continue;
      const t = btf.resolve(vt.type);
      if (t.kind === "int") {
        signed = (t.encoding & 1) !== 0;
        typeName = t.name;
      } else if (t.kind === "enum" || t.kind === "enum64") {
        signed = t.signed;
        typeName = `enum ${t.name}`;
      } else if (t.kind === "float") {
        kind = "float";
        typeName = t.name;
      } else {
        kind = "other";
        typeName = t.kind;
      }
      break;
    }
  }
  if (typeof value !== "number" && typeof value !== "bigint") {
    return fail(`a number, bigint or Uint8Array is needed, got ${typeof value}`);
  }
  const out = new Uint8Array(size);
  if (kind === "float" && typeof value === "number" && (size === 4 || size === 8)) {
    const v = new DataView(out.buffer);
    if (size === 4) v.setFloat32(0, value, true);
    else v.setFloat64(0, value, true);
    return out;
  }
  if (kind === "other") {
    return fail(`the variable is a ${typeName}: give its ${size} bytes as a Uint8Array`);
  }
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    return fail(
      `${value} is not ${
        Number.isInteger(value) ? "a safe integer (give a bigint)" : "an integer"
      }, and the variable is ${typeName}`,
    );
  }
  const n = BigInt(value);
  const bits = BigInt(size * 8);
  const min = signed === false ? 0n : -(1n << (bits - 1n));
  const max = signed === true ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (n < min || n > max) {
    return fail(`${value} does not fit the variable, ${typeName} (${min}..${max})`);
  }
  let u = BigInt.asUintN(size * 8, n);
  for (let i = 0; i < size; i++, u >>= 8n) out[i] = Number(u & 0xffn);
  return out;
}
