/**
 * Argument checks for public functions: a value of the wrong kind is an `ArgumentError` naming
 * the function and the parameter, before anything reads it (never a raw `TypeError` from deep
 * inside). Internal; pure.
 *
 * @module
 */
import { ArgumentError } from "./errors.ts";

/** A short, safe description of any value (never throws, whatever the value). */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`;
  const t = typeof value;
  if (t === "object") {
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    return typeof name === "string" && name !== "Object" ? `a ${name}` : "an object";
  }
  if (t === "number" || t === "bigint" || t === "boolean") return `${t} ${String(value)}`;
  if (t === "string") return `a string of ${(value as string).length}`;
  return t;
}

/** Throws unless `value` is a `Uint8Array`. */
export function requireBytes(fn: string, argument: string, value: unknown): void {
  if (!(value instanceof Uint8Array)) {
    throw new ArgumentError(
      argument,
      `${fn}: ${argument} must be a Uint8Array, got ${kindOf(value)}`,
    );
  }
}

/** Throws unless `value` is a string. */
export function requireString(fn: string, argument: string, value: unknown): void {
  if (typeof value !== "string") {
    throw new ArgumentError(argument, `${fn}: ${argument} must be a string, got ${kindOf(value)}`);
  }
}

/** Throws unless `value` is an array of objects (instructions) or a `Uint8Array`. */
export function requireInsns(fn: string, argument: string, value: unknown): void {
  if (value instanceof Uint8Array) return;
  if (!Array.isArray(value)) {
    throw new ArgumentError(
      argument,
      `${fn}: ${argument} must be an array of instructions or a Uint8Array, got ${kindOf(value)}`,
    );
  }
  for (let i = 0; i < value.length; i++) {
    const x = value[i];
    if (x === null || typeof x !== "object") {
      throw new ArgumentError(
        argument,
        `${fn}: ${argument}[${i}] must be an instruction object, got ${kindOf(x)}`,
      );
    }
  }
}

/** Throws unless `value` is an object (not null, not an array) or undefined when `optional`. */
export function requireObject(
  fn: string,
  argument: string,
  value: unknown,
  optional = false,
): void {
  if (optional && value === undefined) return;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ArgumentError(argument, `${fn}: ${argument} must be an object, got ${kindOf(value)}`);
  }
}

/** Throws unless `value` is an integer in `min..max`. */
export function requireInt(
  fn: string,
  argument: string,
  value: unknown,
  min: number,
  max: number,
): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ArgumentError(
      argument,
      `${fn}: ${argument} must be an integer ${min}..${max}, got ${kindOf(value)}`,
    );
  }
}
