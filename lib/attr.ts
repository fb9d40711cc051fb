/**
 * Reading and writing `bpf_attr` (and `bpf_*_info`) structures from their declarative layouts in
 * `types/attr.ts`.
 *
 * @module
 */
import type { AttrLayout } from "../types/attr.ts";
import { ArgumentError } from "./errors.ts";

/**
 * A zeroed buffer shaped by an {@link AttrLayout}, with field access by uapi member name (typed:
 * `F` is the layout's field names, so a misspelt field does not compile).
 * Addresses of other buffers are written with {@link Attr.setU64} from `sys().addressOf(buf)`;
 * the caller keeps those buffers referenced until the system call returns.
 *
 * @example
 * ```ts
 * import { Attr } from "./attr.ts";
 * import { PROG_LOAD_ATTR } from "@tsbpf/core/types";
 * const attr = new Attr(PROG_LOAD_ATTR).set("prog_type", 1).set("insn_cnt", 2);
 * attr.get("insn_cnt"); // 2
 * ```
 */
export class Attr<F extends string = string> {
  /** The layout this buffer follows. */
  readonly layout: AttrLayout<F>;
  /** The bytes handed to the kernel. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** A view over {@link Attr.bytes}. */
  readonly view: DataView;

  /**
   * Allocates a zeroed buffer of `layout.size` bytes (or `size`, when larger), backed by its own
   * `ArrayBuffer` (as `alloc()` of `lib/sys/memory.ts` does) so that the runtime never moves it.
   */
  constructor(layout: AttrLayout<F>, size: number = layout.size) {
    this.layout = layout;
    this.bytes = new Uint8Array(new ArrayBuffer(Math.max(size, layout.size)));
    this.view = new DataView(this.bytes.buffer);
  }

  /** The size to pass to the kernel: the end of the layout's last field. */
  get size(): number {
    return this.layout.size;
  }

  #field(name: F): { offset: number; size: number; kind: string } {
    const f = this.layout.fields[name] as
      | { offset: number; size: number; kind: string }
      | undefined;
    if (f === undefined) {
      throw new ArgumentError("name", `${this.layout.name} has no field ${name}`);
    }
    return f;
  }

  /**
   * Writes an integer field (u8, u16, u32, s32 or u64/ptr).
   *
   * @throws {ArgumentError} when the value is not an integer that fits the field.
   */
  set(name: F, value: number | bigint): this {
    const f = this.#field(name);
    const o = f.offset;
    if (f.size === 8) {
      const v = BigInt(value);
      if (v < 0n || v > 0xffff_ffff_ffff_ffffn) this.#outOfRange(name, value, "u64");
      this.view.setBigUint64(o, v, true);
      return this;
    }
    const v = Number(value);
    const [min, max] = f.kind === "s32"
      ? [-0x8000_0000, 0x7fff_ffff]
      : [0, f.size === 1 ? 0xff : f.size === 2 ? 0xffff : 0xffff_ffff];
    if (!Number.isInteger(v) || v < min || v > max) this.#outOfRange(name, value, f.kind);
    switch (f.size) {
      case 1:
        this.view.setUint8(o, v);
        break;
      case 2:
        this.view.setUint16(o, v, true);
        break;
      case 4:
        if (f.kind === "s32") this.view.setInt32(o, v, true);
        else this.view.setUint32(o, v, true);
        break;
      default:
        throw new ArgumentError(
          this.layout.name,
          `${this.layout.name}.${name} is ${f.size} bytes, not an integer`,
        );
    }
    return this;
  }

  #outOfRange(name: string, value: number | bigint, kind: string): never {
    throw new ArgumentError(
      this.layout.name,
      `${this.layout.name}.${name} (${kind}) cannot hold ${value}`,
    );
  }

  /** Writes a 64-bit field (an address, or a u64). */
  setU64(name: F, value: bigint): this {
    return this.set(name, value);
  }

  /** Copies `data` into a byte-array field (zero-filling the rest). */
  setBytes(name: F, data: Uint8Array): this {
    const f = this.#field(name);
    if (data.length > f.size) {
      throw new ArgumentError(
        this.layout.name,
        `${this.layout.name}.${name} holds ${f.size} bytes, got ${data.length}`,
      );
    }
    this.bytes.fill(0, f.offset, f.offset + f.size);
    this.bytes.set(data, f.offset);
    return this;
  }

  /**
   * Reads an integer field as a number. A 64-bit field above 2^53 cannot be a number exactly:
   * read those with {@link Attr.getU64}.
   *
   * @throws {ArgumentError} for a 64-bit value above `Number.MAX_SAFE_INTEGER`.
   */
  get(name: F): number {
    const f = this.#field(name);
    switch (f.size) {
      case 1:
        return this.view.getUint8(f.offset);
      case 2:
        return this.view.getUint16(f.offset, true);
      case 4:
        return f.kind === "s32"
          ? this.view.getInt32(f.offset, true)
          : this.view.getUint32(f.offset, true);
      case 8: {
        const v = this.view.getBigUint64(f.offset, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
          throw new ArgumentError(
            this.layout.name,
            `${this.layout.name}.${name} is ${v}: read it with getU64()`,
          );
        }
        return Number(v);
      }
      default:
        throw new ArgumentError(
          this.layout.name,
          `${this.layout.name}.${name} is ${f.size} bytes, not an integer`,
        );
    }
  }

  /** Reads a 64-bit field as bigint. */
  getU64(name: F): bigint {
    const f = this.#field(name);
    if (f.size !== 8) {
      throw new ArgumentError("name", `${this.layout.name}.${name} is not 64-bit`);
    }
    return this.view.getBigUint64(f.offset, true);
  }

  /** A view of a byte-array field's bytes. */
  getBytes(name: F): Uint8Array {
    const f = this.#field(name);
    return this.bytes.subarray(f.offset, f.offset + f.size);
  }

  /** Zeroes every byte. */
  clear(): this {
    this.bytes.fill(0);
    return this;
  }
}
