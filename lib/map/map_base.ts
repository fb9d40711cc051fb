/**
 * The first layer of `BpfMap`: the map handle it wraps (which owns the fd), the map's shape as
 * properties, its description and kernel info, pinning and closing. Element operations, iteration
 * and batches are the layers above (`map_elements.ts`, `map_iteration.ts`, `map_batch.ts`), and
 * `BpfMap` itself (`map.ts`) adds the constructors.
 *
 * @module
 */
import { describeHandle, INSPECT_SYMBOLS } from "../fd.ts";
import { pinFd, unpinPath } from "../pin.ts";
import type { MapDescription } from "../verifier/maps.ts";
import type { Codec } from "../codec/codec.ts";
import type { MapHandle } from "./handle.ts";
import { type MapInfo, readMapInfo } from "./info.ts";
import type { MapTypeInfo } from "./map_types.ts";

let handleOfMap: (map: BpfMapBase) => MapHandle;

/** The handle behind a map object (for the layers of `BpfMap`; not exported from the package). */
export function handleOf(map: BpfMapBase): MapHandle {
  return handleOfMap(map);
}

/**
 * The handle layer of {@link BpfMap}: the owned fd, the map's shape, `describe()`, `info()`,
 * pinning and closing. Not constructed directly: `BpfMap.create()`, `fromFd()`, `fromId()` and
 * `fromPin()` return a `BpfMap`, which has every layer's methods.
 *
 * @example
 * ```ts
 * import { BpfMap, u32, u64 } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
 * map.keySize; // 4
 * ```
 */
export class BpfMapBase {
  readonly #h: MapHandle;

  static {
    handleOfMap = (map) => map.#h;
  }

  /** Wraps a map handle (which owns the fd). Use `BpfMap`'s static constructors. */
  protected constructor(handle: MapHandle) {
    this.#h = handle;
  }

  // ---------------------------------------------------------------------------------------------
  // Properties

  /** The file descriptor. @throws {MapClosedError} once closed. */
  get fd(): number {
    return this.#h.openFd("fd");
  }

  /** Whether {@link BpfMap.close} has run. */
  get closed(): boolean {
    return this.#h.fd < 0;
  }

  /** Map type number. */
  get type(): number {
    return this.#h.shape.type;
  }

  /** Map type name, e.g. `"hash"`. */
  get typeName(): string {
    return this.#h.spec.name;
  }

  /** The map type's row of the table: supported operations, key and value kinds. */
  get typeInfo(): MapTypeInfo {
    return this.#h.spec;
  }

  /** Key size in bytes. */
  get keySize(): number {
    return this.#h.shape.keySize;
  }

  /** Value size in bytes (one CPU's value, for per-CPU maps). */
  get valueSize(): number {
    return this.#h.shape.valueSize;
  }

  /** max_entries. */
  get maxEntries(): number {
    return this.#h.shape.maxEntries;
  }

  /** map_flags the map was created with. */
  get flags(): number {
    return this.#h.shape.flags;
  }

  /** The name given at creation. */
  get name(): string {
    return this.#h.shape.name;
  }

  /** Whether values are per-CPU arrays. */
  get perCpu(): boolean {
    return this.#h.spec.perCpu;
  }

  /** Values per key: the number of possible CPUs for per-CPU maps, else 1. */
  get cpus(): number {
    return this.#h.ncpu;
  }

  /** The kernel's id of the map. */
  get id(): number {
    if (this.#h.id === 0) this.#h.id = this.info().id;
    return this.#h.id;
  }

  /** Where {@link BpfMap.pin} last pinned the map, if it is still pinned there. */
  get pinnedPath(): string | undefined {
    return this.#h.pinnedAt;
  }

  /**
   * This map as the deep checker's data (`checkProgram({ maps: { [fd]: m.describe() } })`).
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using counts = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * const maps = { [counts.fd]: counts.describe() }; // { type: 1, keySize: 4, … }
   * ```
   */
  describe(): MapDescription {
    const s = this.#h.shape;
    const d: MapDescription = {
      type: s.type,
      keySize: s.keySize,
      valueSize: s.valueSize,
      maxEntries: s.maxEntries,
      flags: s.flags,
      ...(s.name ? { name: s.name } : {}),
    };
    const lock = spinLockOffset(this.#h.valueCodec, 0);
    if (lock !== undefined) {
      d.btf = {};
      d.spinLock = lock;
    } else if (this.#h.valueCodec === undefined && this.#h.fd >= 0) {
      // A codec's BTF has no special field but a spin lock. Without a codec, the map may have
      // been created with BTF elsewhere (an object, another process) whose value holds special
      // fields this map does not know of: the checker is told there is BTF and nothing more.
      const info = readMapInfo(this.#h.fd);
      if (info.btfValueTypeId !== 0) {
        d.btf = { keyTypeId: info.btfKeyTypeId, valueTypeId: info.btfValueTypeId };
      }
    }
    return d;
  }

  /**
   * Fresh `struct bpf_map_info` from the kernel.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * const { id, maxEntries, name } = map.info(); // …, 64, ""
   * ```
   */
  info(): MapInfo {
    const info = readMapInfo(this.#h.openFd("info"));
    this.#h.id = info.id;
    return info;
  }

  // ---------------------------------------------------------------------------------------------
  // Pinning and lifetime

  /**
   * Pins the map in bpffs so that it outlives this process (`BPF_OBJ_PIN`); bpffs is mounted at
   * /sys/fs/bpf first when needed.
   *
   * @throws {BpfError} e.g. `EEXIST` when the path exists.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.pin(`/sys/fs/bpf/doc_map_${Deno.pid}`);
   * map.unpin();
   * ```
   */
  pin(path: string): void {
    pinFd(this.fd, path);
    this.#h.pinnedAt = path;
  }

  /**
   * Removes the pin made by {@link BpfMap.pin} (or the given path).
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.pin(`/sys/fs/bpf/doc_map_${Deno.pid}`);
   * map.unpin();
   * ```
   */
  unpin(path: string | undefined = this.#h.pinnedAt): void {
    if (path === undefined) {
      throw new Error(`unpin(): ${this.#h.label()} was not pinned by this handle`);
    }
    unpinPath(path);
    if (path === this.#h.pinnedAt) this.#h.pinnedAt = undefined;
  }

  /**
   * Closes this handle (idempotent). The map lives on while a program, pin or other fd holds it.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.close(); // later calls throw MapClosedError; close() again is a no-op
   * ```
   */
  close(): void {
    this.#h.close();
  }

  /** `console.log` rendering: BpfMap { id, type, name }. */
  toString(): string {
    return describeHandle(
      "BpfMap",
      () =>
        this.closed ? undefined : {
          id: this.id,
          type: this.typeName,
          name: this.name,
          keySize: this.keySize,
          valueSize: this.valueSize,
          maxEntries: this.maxEntries,
          fd: this.fd,
        },
    );
  }

  /** Closes the map at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

for (const symbol of INSPECT_SYMBOLS) {
  Object.defineProperty(BpfMapBase.prototype, symbol, {
    value(this: BpfMapBase): string {
      return this.toString();
    },
  });
}

/** Byte offset of the first `spinLock` in a value codec, if it has one. */
function spinLockOffset(codec: Codec<unknown> | undefined, base: number): number | undefined {
  if (codec === undefined) return undefined;
  const shape = codec.btf;
  if (shape.kind === "spin_lock") return base;
  if (shape.kind === "struct") {
    for (const f of shape.fields) {
      const o = spinLockOffset(f.codec, base + f.offset);
      if (o !== undefined) return o;
    }
  }
  return undefined;
}
