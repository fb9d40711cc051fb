/**
 * Memory that may be handed to the kernel.
 *
 * @module
 */

/**
 * Allocates `size` zeroed bytes backed by their own `ArrayBuffer`, so that the runtime never moves
 * them (Bun relocates small typed arrays whose storage lives inline in the object). Use it for
 * every buffer whose address is stored in a `bpf_attr`.
 *
 * @example
 * ```ts
 * import { alloc } from "./memory.ts";
 * const key = alloc(4);
 * key.byteLength; // 4
 * ```
 */
export function alloc(size: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new ArrayBuffer(size));
}

/**
 * Copies `bytes` into memory from {@link alloc}. Inputs from users go through this before their
 * address is stored in a `bpf_attr`, since their storage may move or be shared.
 *
 * @example
 * ```ts
 * import { pinnedCopy } from "./memory.ts";
 * const b = pinnedCopy(new Uint8Array([1, 2, 3]));
 * b.length; // 3
 * ```
 */
export function pinnedCopy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = alloc(bytes.byteLength);
  out.set(bytes);
  return out;
}

/**
 * Encodes `text` as a NUL-terminated C string in memory from {@link alloc}.
 *
 * @example
 * ```ts
 * import { cString } from "./memory.ts";
 * cString("GPL"); // Uint8Array [71, 80, 76, 0]
 * ```
 */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  const encoded = new TextEncoder().encode(text);
  const out = alloc(encoded.length + 1);
  out.set(encoded);
  return out;
}

/**
 * Decodes a NUL-terminated string from `bytes` (up to the first NUL, or the end).
 *
 * @example
 * ```ts
 * import { readCString } from "./memory.ts";
 * readCString(new Uint8Array([104, 105, 0, 120])); // "hi"
 * ```
 */
export function readCString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

let retainSink = 0;

/**
 * Keeps `buffers` reachable up to this point, so that the garbage collector cannot free memory
 * whose address a system call that just returned was using. Call it after the system call.
 *
 * @example
 * ```ts
 * import { alloc, retain } from "./memory.ts";
 * const name = alloc(16);
 * // … a system call reading `name` through an address …
 * retain(name);
 * ```
 */
export function retain(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) retainSink = (retainSink + (b?.byteLength ?? 0)) | 0;
}
