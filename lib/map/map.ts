/**
 * `BpfMap`: a BPF map handle — create, read, write, iterate, batch, pin — with optional typed keys
 * and values (codecs) and no allocation per call on the hot path.
 *
 * @module
 */
import {
  MAP_BATCH_ATTR,
  MAP_CREATE_ATTR,
  MAP_FREEZE_ATTR,
  MAP_GET_NEXT_KEY_ATTR,
  MAP_LOOKUP_ELEM_ATTR,
} from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { ElemFlag } from "../../types/flags.ts";
import type { MapDescription } from "../verifier/maps.ts";
import { Attr } from "../attr.ts";
import { type Codec, CodecError, describeValue } from "../codec/codec.ts";
import { freshBytes } from "../codec/fresh.ts";
import type { FdLike } from "../codec/special.ts";
import { BpfError, isResourceErrno, ResourceError } from "../errors.ts";
import { memlockCharged } from "../caps.ts";
import { bpfObjectKind, describeHandle, FdHandle, INSPECT_SYMBOLS } from "../fd.ts";
import { openPinned, pinFd, unpinPath } from "../pin.ts";
import { listIds, openById } from "../ids.ts";
import { alloc } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import type { Sys } from "../sys/types.ts";
import { BatchReader, type BatchSource, type EntryDecoder, TypedBatchReader } from "./batch.ts";
import { hasSpinLock, mapBtf } from "../btf/builder.ts";
import { loadBtf } from "./btf_load.ts";
import { possibleCpus } from "./cpus.ts";
import { MapClosedError, MapOpNotSupportedError } from "./errors.ts";
import { type MapInfo, readMapInfo } from "./info.ts";
import {
  type MapOp,
  type MapTypeInfo,
  mapTypeInfo,
  type MapTypeInput,
  resolveMapType,
} from "./map_types.ts";
import { readFileText } from "../host_fs.ts";
import { Errno } from "../../types/errno.ts";
import {
  mapBatch,
  type MapBatchCmd,
  mapCreate,
  mapDeleteElem,
  mapFreeze,
  mapGetNextKey,
  mapLookupAndDeleteElem,
  mapLookupElem,
  mapUpdateElem,
} from "../sys/bpf_cmds.ts";
import type {
  BatchOptions,
  IterateOptions,
  MapCodecs,
  MapCreateOptions,
  MapValue,
  Shape,
} from "./types.ts";
import { checkCodecs, createDetail, resolveShape } from "./shape.ts";

export type {
  BatchOptions,
  IterateOptions,
  MapBtfRef,
  MapCodecs,
  MapCreateOptions,
  MapValue,
  PerCpuMapType,
} from "./types.ts";

const ENOENT = Errno.ENOENT;
const ENOTSUPP = Errno.ENOTSUPP;

const E = MAP_LOOKUP_ELEM_ATTR.fields;
const OFF_FD = E.map_fd.offset;
const OFF_KEY = E.key.offset;
const OFF_VALUE = E.value.offset;
const OFF_FLAGS = E.flags.offset;
/** Elem commands that read `flags` (lookup, update, lookup-and-delete) pass the whole struct. */
const ELEM_SIZE = MAP_LOOKUP_ELEM_ATTR.size;
const N = MAP_GET_NEXT_KEY_ATTR.fields;
const NEXT_SIZE = MAP_GET_NEXT_KEY_ATTR.size;
const B = MAP_BATCH_ATTR.fields;

function closedCheck(fd: number, operation: string, label: () => string): void {
  if (fd < 0) throw new MapClosedError(operation, label());
}

function flagName(flags: number): string {
  const names: string[] = [];
  if ((flags & 3) === ElemFlag.NOEXIST) names.push("NOEXIST");
  if ((flags & 3) === ElemFlag.EXIST) names.push("EXIST");
  if (flags & ElemFlag.LOCK) names.push("LOCK");
  const rest = flags & ~(3 | ElemFlag.LOCK);
  if ((flags & 3) === 3 || rest !== 0) names.push(`0x${(flags & ~ElemFlag.LOCK).toString(16)}`);
  return names.length === 0 ? "ANY" : names.join("|");
}

function fdOf(x: FdLike, what: string): number {
  const fd = typeof x === "number" ? x : x?.fd;
  if (!Number.isInteger(fd) || (fd as number) < 0) {
    throw new TypeError(
      `${what} must be a file descriptor or an object with .fd, got ${describeValue(x)}`,
    );
  }
  return fd as number;
}

/**
 * A BPF map. Keys and values are raw `Uint8Array`s of exactly `keySize`/`valueSize` bytes, or
 * typed through codecs (`key: u32, value: struct({ pkts: u64, bytes: u64 })`). Per-CPU maps read
 * and write one value per possible CPU.
 *
 * Every operation reuses scratch memory allocated with the map (attr, key and value buffers whose
 * addresses are computed once), so reads and writes allocate nothing but the values they return.
 *
 * Iteration (`keys()`, `values()`, `entries()`, `for…of`) never yields an entry twice and never
 * loops forever, also when entries are deleted meanwhile (by the loop body, other code or BPF
 * programs): every entry present for the whole iteration is seen exactly once; an entry deleted
 * meanwhile is seen at most once. The kernel's `BPF_MAP_GET_NEXT_KEY` restarts from its first key
 * when the key it is given no longer exists; how that is handled depends on the type
 * (`MapTypeInfo.iterate`):
 * - hash maps (`hash`, `lru_hash`, their per-CPU forms, `hash_of_maps`) are read in chunks with
 *   `BPF_MAP_LOOKUP_BATCH`, whose cursor is a bucket index: a deleted key cannot send the walk
 *   back, and a chunk costs one system call (`{ batch: false }` walks with get_next_key instead);
 * - array-like maps walk increasing indices; a restart shows as a smaller index and is skipped;
 * - other maps (`lpm_trie`, `sockhash`, `devmap_hash`, and hash maps with `batch: false`) walk
 *   with get_next_key one key ahead: the successor of a key is fetched before the key is handed
 *   out, so deleting the current key never causes a restart. When a restart happens anyway (the
 *   prefetched key was deleted), the iterator recognises it by its set of yielded keys (memory
 *   proportional to the number of keys), resumes from the newest recently yielded key that still
 *   exists, and only if none is left re-walks from the start, skipping what it has yielded. The
 *   walk gives up with an error after 8 × max_entries calls, which only a map whose keys are
 *   deleted and re-added faster than it advances can reach.
 *
 * Without a codec, keys and values are `Uint8Array`s of exactly `keySize`/`valueSize` bytes;
 * returned arrays are fresh copies (under Deno small ones share a slab: mind `byteOffset`, and do
 * not transfer or detach their `.buffer`, which other returned values share).
 * `getInto()` reads into a caller's buffer without allocating.
 *
 * @example
 * ```ts
 * import { BpfMap, struct, u32, u64 } from "@tsbpf/core";
 * using counts = BpfMap.create({
 *   type: "hash",
 *   key: u32,
 *   value: struct({ pkts: u64, bytes: u64 }),
 *   maxEntries: 1024,
 * });
 * counts.set(42, { pkts: 3n, bytes: 120n });
 * counts.get(42); // { pkts: 3n, bytes: 120n }
 * for (const [k, v] of counts) console.log(k, v.pkts);
 * ```
 */
export class BpfMap<K = Uint8Array, V = Uint8Array> {
  readonly #handle: FdHandle;
  #fd: number;
  readonly #s: Sys;
  readonly #spec: MapTypeInfo;
  readonly #shape: Shape;
  readonly #keyCodec: Codec<unknown> | undefined;
  readonly #valueCodec: Codec<unknown> | undefined;
  readonly #ncpu: number;
  readonly #stride: number;
  readonly #valueBytes: number;
  // Scratch: one attr for lookup/update/delete/lookup-and-delete, one for get_next_key.
  readonly #elem: Uint8Array<ArrayBuffer>;
  readonly #elemView: DataView;
  readonly #next: Uint8Array<ArrayBuffer>;
  readonly #nextView: DataView;
  readonly #key: Uint8Array<ArrayBuffer>;
  readonly #keyView: DataView;
  readonly #key2: Uint8Array<ArrayBuffer>;
  readonly #key2View: DataView;
  readonly #value: Uint8Array<ArrayBuffer>;
  readonly #valueView: DataView;
  readonly #keyAddr: bigint;
  /** Key size and value bytes (all CPUs), as plain fields for the hot paths. */
  readonly #ks: number;
  readonly #vs: number;
  readonly #vb: number;
  readonly #pcpu: boolean;
  /** Whether get/set/delete are possible (keyed type, operation supported). */
  readonly #canGet: boolean;
  readonly #canSet: boolean;
  readonly #canDelete: boolean;
  #id = 0;
  #pinnedAt: string | undefined;
  #batchOff = false;

  /**
   * Wraps an owned map fd whose shape is known. Prefer {@link BpfMap.create},
   * {@link BpfMap.fromId}, {@link BpfMap.fromPin} or {@link BpfMap.fromFd}.
   */
  private constructor(fd: number, shape: Shape, codecs: MapCodecs<unknown, unknown>, id = 0) {
    this.#fd = fd;
    this.#s = sys();
    this.#spec = mapTypeInfo(shape.type);
    this.#shape = shape;
    this.#id = id;
    this.#keyCodec = codecs.key;
    this.#valueCodec = codecs.value;
    this.#ncpu = this.#spec.perCpu ? possibleCpus() : 1;
    this.#stride = this.#spec.perCpu ? Math.ceil(shape.valueSize / 8) * 8 : shape.valueSize;
    this.#valueBytes = this.#stride * this.#ncpu;
    this.#ks = shape.keySize;
    this.#vs = shape.valueSize;
    this.#vb = this.#valueBytes;
    this.#pcpu = this.#spec.perCpu;
    const keyed = this.#spec.key !== "none";
    this.#canGet = keyed && this.#spec.ops.lookup === true;
    this.#canSet = keyed && this.#spec.ops.update === true;
    this.#canDelete = keyed && this.#spec.ops.delete === true;

    const s = this.#s;
    const keyRoom = Math.max(8, Math.ceil(shape.keySize / 8) * 8);
    this.#key = alloc(keyRoom);
    this.#key2 = alloc(keyRoom);
    this.#value = alloc(Math.max(8, Math.ceil(this.#valueBytes / 8) * 8));
    this.#keyView = new DataView(this.#key.buffer);
    this.#key2View = new DataView(this.#key2.buffer);
    this.#valueView = new DataView(this.#value.buffer);
    this.#keyAddr = shape.keySize > 0 ? s.addressOf(this.#key) : 0n;

    this.#elem = alloc(ELEM_SIZE);
    this.#elemView = new DataView(this.#elem.buffer);
    this.#elemView.setUint32(OFF_FD, fd, true);
    this.#elemView.setBigUint64(OFF_KEY, this.#keyAddr, true);
    this.#elemView.setBigUint64(
      OFF_VALUE,
      this.#valueBytes > 0 ? s.addressOf(this.#value) : 0n,
      true,
    );

    this.#next = alloc(NEXT_SIZE);
    this.#nextView = new DataView(this.#next.buffer);
    this.#nextView.setUint32(N.map_fd.offset, fd, true);
    this.#nextView.setBigUint64(N.next_key.offset, s.addressOf(this.#key2), true);
    // Ownership last: if anything above threw, no finalizer will ever close the fd.
    this.#handle = new FdHandle(fd, "map");
  }

  // ---------------------------------------------------------------------------------------------
  // Creation and opening

  /**
   * Creates a map (`BPF_MAP_CREATE`). Sizes default to the codecs' sizes and to what the type
   * requires; flags the type requires are added; BTF is generated where the kernel needs it.
   * Arguments are checked against the map type table before the system call.
   *
   * @throws {RangeError} / {TypeError} for arguments the kernel would refuse (wrong sizes, a name it
   * rejects, a missing `innerMap`…).
   * @throws {BpfError} when the kernel refuses (e.g. `EPERM` without privileges).
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using m = BpfMap.create({ type: "percpu_array", key: u32, value: u64, maxEntries: 4 });
   * m.get(0); // [0n, 0n, …] one per possible CPU
   * ```
   */
  static create<K = Uint8Array, V = Uint8Array, const T extends MapTypeInput = MapTypeInput>(
    options: MapCreateOptions<K, V> & { type: T },
  ): BpfMap<K, MapValue<T, V>> {
    const type = resolveMapType(options.type);
    const spec = mapTypeInfo(type);
    const shape = resolveShape(spec, options);
    const attr = new Attr(MAP_CREATE_ATTR);
    attr.set("map_type", type)
      .set("key_size", shape.keySize)
      .set("value_size", shape.valueSize)
      .set("max_entries", shape.maxEntries)
      .set("map_flags", shape.flags);
    if (options.name) attr.setBytes("map_name", new TextEncoder().encode(options.name));
    if (options.innerMap !== undefined) {
      attr.set("inner_map_fd", fdOf(options.innerMap, "innerMap"));
    } else if (spec.name === "array_of_maps" || spec.name === "hash_of_maps") {
      throw new TypeError(
        `${spec.name} needs innerMap: a map with the shape of the maps it will hold`,
      );
    }
    if (options.numaNode !== undefined) attr.set("numa_node", options.numaNode);
    if (options.ifindex !== undefined) attr.set("map_ifindex", options.ifindex);
    if (options.mapExtra !== undefined) attr.setU64("map_extra", BigInt(options.mapExtra));

    let btf: FdHandle | undefined;
    try {
      const wantBtf = options.btf ??
        (spec.btf === "required" || (spec.lock && hasSpinLock(options.value as Codec<unknown>)));
      if (typeof wantBtf === "object") {
        attr.set("btf_fd", fdOf(wantBtf.fd, "btf.fd"))
          .set("btf_key_type_id", wantBtf.keyTypeId)
          .set("btf_value_type_id", wantBtf.valueTypeId);
      } else if (wantBtf) {
        if (spec.btf === "none") {
          throw new TypeError(`${spec.name} maps do not take BTF for keys and values`);
        }
        const keyDesc = spec.key === "fd" ? 4 : (options.key as Codec<unknown>) ?? shape.keySize;
        const described = mapBtf(keyDesc, (options.value as Codec<unknown>) ?? shape.valueSize);
        btf = loadBtf(described.blob);
        attr.set("btf_fd", btf.fd)
          .set("btf_key_type_id", described.keyTypeId)
          .set("btf_value_type_id", described.valueTypeId);
      }
      const s = sys();
      const fd = mapCreate(attr);
      if (fd < 0) {
        if (isResourceErrno(-fd, -fd === Errno.EPERM && memlockCharged())) {
          throw new ResourceError(BpfCmd.MAP_CREATE, -fd, `${spec.name} map`);
        }
        throw new BpfError(BpfCmd.MAP_CREATE, -fd, createDetail(spec, shape, -fd));
      }
      try {
        return new BpfMap<K, MapValue<T, V>>(fd, shape, options as MapCodecs<unknown, unknown>);
      } catch (e) {
        s.close(fd);
        throw e;
      }
    } finally {
      // The map holds its own reference to the BTF object.
      btf?.close();
    }
  }

  /**
   * Wraps a map fd that the caller opened, reading its shape with `BPF_OBJ_GET_INFO_BY_FD`.
   *
   * Ownership: the fd is checked first (an integer, open, a BPF map, codecs that fit). If a check
   * fails, the error is thrown and the fd is left exactly as it was, still owned by the caller.
   * Only on success does the returned map own it: `close()` (or `using`, or garbage collection of
   * an unclosed map) closes it, so the caller must not close it as well.
   *
   * @throws {BpfError} `EBADF` when `fd` is not an open fd of a BPF map (with the fd left open);
   * `BPF_OBJ_GET_INFO_BY_FD` failures.
   * @throws {CodecError} when a codec's size does not match the map's key or value size.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * import { openPinned, pinFd, unpinPath } from "../pin.ts";
   * const path = `/sys/fs/bpf/doc_map_${Deno.pid}`;
   * pinFd(map.fd, path);
   * const fdFromElsewhere = openPinned(path);
   * unpinPath(path);
   * using m = BpfMap.fromFd(fdFromElsewhere); // m owns the fd from here on
   * m.maxEntries; // 64
   * ```
   */
  static fromFd<K = Uint8Array, V = Uint8Array>(
    fd: number,
    codecs: MapCodecs<K, V> = {},
  ): BpfMap<K, V> {
    return BpfMap.#adopt<K, V>(fd, codecs, false);
  }

  /** Checks `fd`, then wraps it; on failure closes it only when `owned` (opened here). */
  static #adopt<K, V>(fd: number, codecs: MapCodecs<K, V>, owned: boolean): BpfMap<K, V> {
    let info: MapInfo;
    try {
      if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
        throw new BpfError("BpfMap.fromFd", Errno.EBADF, `${fd} is not a file descriptor`);
      }
      const kind = bpfObjectKind(fd);
      // `undefined`: not an anonymous inode, or /proc unreadable; BPF_OBJ_GET_INFO_BY_FD decides.
      if (kind !== undefined && kind !== "map") {
        throw new BpfError(
          "BpfMap.fromFd",
          Errno.EBADF,
          `fd ${fd} is a BPF ${kind}, not a map` +
            (owned ? "" : " (left open: it still belongs to the caller)"),
        );
      }
      info = readMapInfo(fd);
      checkCodecs(info, codecs as MapCodecs<unknown, unknown>);
    } catch (e) {
      if (owned) sys().close(fd);
      throw e;
    }
    const shape: Shape = {
      type: info.type,
      keySize: info.keySize,
      valueSize: info.valueSize,
      maxEntries: info.maxEntries,
      flags: info.flags,
      name: info.name,
    };
    try {
      return new BpfMap<K, V>(fd, shape, codecs as MapCodecs<unknown, unknown>, info.id);
    } catch (e) {
      if (owned) sys().close(fd);
      throw e;
    }
  }

  /**
   * Opens the map with the given id (`BPF_MAP_GET_FD_BY_ID`). For a per-CPU map, values are
   * arrays: type it as `BpfMap<K, V[]>`. The fd is opened here and owned by the returned map; if
   * the map cannot be wrapped, it is closed before the error is thrown.
   *
   * @throws {BpfError} `ENOENT` when no map has that id.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 2n);
   * using m = BpfMap.fromId(map.id, { key: u32, value: u64 });
   * m.get(1); // 2n
   * ```
   */
  static fromId<K = Uint8Array, V = Uint8Array>(
    id: number,
    codecs: MapCodecs<K, V> = {},
  ): BpfMap<K, V> {
    const fd = openById(BpfCmd.MAP_GET_FD_BY_ID, id, "map");
    return BpfMap.#adopt<K, V>(fd, codecs, true);
  }

  /**
   * Opens a map pinned in bpffs (`BPF_OBJ_GET`). The fd is opened here and owned by the returned
   * map (closed before the error is thrown when the pinned object is not a usable map).
   *
   * @throws {BpfError} `ENOENT` when nothing is pinned there.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * const path = `/sys/fs/bpf/doc_map_${Deno.pid}`;
   * map.pin(path);
   * using m = BpfMap.fromPin(path, { key: u32 });
   * BpfMap.unpin(path);
   * ```
   */
  static fromPin<K = Uint8Array, V = Uint8Array>(
    path: string,
    codecs: MapCodecs<K, V> = {},
  ): BpfMap<K, V> {
    return BpfMap.#adopt<K, V>(openPinned(path), codecs, true);
  }

  /**
   * Ids of every map in the kernel (`BPF_MAP_GET_NEXT_ID`), ascending.
   *
   * @example
   * ```ts
   * import { BpfMap } from "@tsbpf/core";
   * console.log(BpfMap.list().length);
   * ```
   */
  static list(): number[] {
    return listIds(BpfCmd.MAP_GET_NEXT_ID);
  }

  /**
   * Removes a bpffs pin (the map lives on while anything else holds it).
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * const path = `/sys/fs/bpf/doc_map_${Deno.pid}`;
   * map.pin(path);
   * BpfMap.unpin(path);
   * ```
   */
  static unpin(path: string): void {
    unpinPath(path);
  }

  // ---------------------------------------------------------------------------------------------
  // Properties

  /** The file descriptor. @throws {MapClosedError} once closed. */
  get fd(): number {
    closedCheck(this.#fd, "fd", () => this.#label());
    return this.#fd;
  }

  /** Whether {@link BpfMap.close} has run. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Map type number. */
  get type(): number {
    return this.#shape.type;
  }

  /** Map type name, e.g. `"hash"`. */
  get typeName(): string {
    return this.#spec.name;
  }

  /** The map type's row of the table: supported operations, key and value kinds. */
  get typeInfo(): MapTypeInfo {
    return this.#spec;
  }

  /** Key size in bytes. */
  get keySize(): number {
    return this.#shape.keySize;
  }

  /** Value size in bytes (one CPU's value, for per-CPU maps). */
  get valueSize(): number {
    return this.#shape.valueSize;
  }

  /** max_entries. */
  get maxEntries(): number {
    return this.#shape.maxEntries;
  }

  /** map_flags the map was created with. */
  get flags(): number {
    return this.#shape.flags;
  }

  /** The name given at creation. */
  get name(): string {
    return this.#shape.name;
  }

  /** Whether values are per-CPU arrays. */
  get perCpu(): boolean {
    return this.#spec.perCpu;
  }

  /** Values per key: the number of possible CPUs for per-CPU maps, else 1. */
  get cpus(): number {
    return this.#ncpu;
  }

  /** The kernel's id of the map. */
  get id(): number {
    if (this.#id === 0) this.#id = this.info().id;
    return this.#id;
  }

  /** Where {@link BpfMap.pin} last pinned the map, if it is still pinned there. */
  get pinnedPath(): string | undefined {
    return this.#pinnedAt;
  }

  /**
   * This map as the deep checker's data (`checkProgram({ maps: { [fd]: m.describe() } })`).
   *
   * @example
   * ```ts ignore
   * const maps = { [counts.fd]: counts.describe() };
   * ```
   */
  describe(): MapDescription {
    const s = this.#shape;
    return {
      type: s.type,
      keySize: s.keySize,
      valueSize: s.valueSize,
      maxEntries: s.maxEntries,
      flags: s.flags,
    };
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
    closedCheck(this.#fd, "info", () => this.#label());
    const info = readMapInfo(this.#fd);
    this.#id = info.id;
    return info;
  }

  #label(): string {
    const name = this.#shape.name ? `"${this.#shape.name}" ` : "";
    return `${this.#spec.name} map ${name}(key ${this.#shape.keySize} B, value ${this.#shape.valueSize} B)`;
  }

  #require(op: MapOp, operation: string): void {
    const support = this.#spec.ops[op];
    if (support !== true) {
      throw new MapOpNotSupportedError(operation, op, this.#spec.name, support, this.#shape.name);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Encoding into scratch

  #encodeKey(key: K, into: DataView, bytes: Uint8Array, operation: string): void {
    const codec = this.#keyCodec;
    if (codec !== undefined) {
      try {
        codec.encode(key, into, 0);
      } catch (e) {
        if (e instanceof CodecError) throw this.#badArgument(operation, e.within("key"));
        throw e;
      }
      return;
    }
    if (!(key instanceof Uint8Array)) {
      throw new TypeError(
        `${operation}(): key must be a Uint8Array of ${this.#shape.keySize} bytes (or give the map a key codec), got ${
          describeValue(key)
        }`,
      );
    }
    if (key.length !== this.#shape.keySize) {
      throw new RangeError(
        `${operation}(): key must be exactly ${this.#shape.keySize} bytes for ${this.#label()}, got ${key.length}`,
      );
    }
    bytes.set(key);
  }

  /** Writes a key into the scratch key buffer (the hot path of get/set/delete). */
  #putKey(key: K, operation: string): void {
    const codec = this.#keyCodec;
    if (codec !== undefined) {
      try {
        codec.encode(key, this.#keyView, 0);
      } catch (e) {
        if (e instanceof CodecError) throw this.#badArgument(operation, e.within("key"));
        throw e;
      }
      return;
    }
    const n = this.#ks;
    if (!(key instanceof Uint8Array) || key.length !== n) {
      this.#encodeKey(key, this.#keyView, this.#key, operation); // throws the precise error
      return;
    }
    const dst = this.#key;
    if (n <= 16) { for (let i = 0; i < n; i++) dst[i] = key[i]; }
    else dst.set(key);
  } /** Writes a value into the scratch value buffer (the hot path of set). */
  #putValue(value: V, operation: string): void {
    const codec = this.#valueCodec;
    if (codec === undefined && !this.#pcpu) {
      const n = this.#vs;
      if (value instanceof Uint8Array && value.length === n && n <= 64) {
        const dst = this.#value;
        for (let i = 0; i < n; i++) dst[i] = value[i];
        return;
      }
    } else if (codec !== undefined && !this.#pcpu) {
      try {
        codec.encode(value, this.#valueView, 0);
      } catch (e) {
        if (e instanceof CodecError) throw this.#badArgument(operation, e.within("value"));
        throw e;
      }
      return;
    }
    this.#encodeValue(value, operation); // per-CPU, large values, or the precise error
  }

  #badArgument(operation: string, e: CodecError): CodecError {
    return new CodecError(`${e.problem} — in ${operation}() on ${this.#label()}`, e.path);
  }

  #decodeKey(view: DataView, bytes: Uint8Array, offset = 0): K {
    const codec = this.#keyCodec;
    if (codec !== undefined) return codec.decode(view, offset) as K;
    return freshBytes(bytes, offset, this.#shape.keySize) as K;
  }

  #encodeValue(value: V, operation: string, into = this.#valueView, base = 0): void {
    if (!this.#spec.perCpu) {
      this.#encodeOne(value, into, base, operation, "value");
      return;
    }
    if (!Array.isArray(value) || value.length !== this.#ncpu) {
      throw new RangeError(
        `${operation}(): ${this.#spec.name} values are arrays of one value per possible CPU (${this.#ncpu}), got ${
          describeValue(value)
        }`,
      );
    }
    for (let c = 0; c < this.#ncpu; c++) {
      this.#encodeOne(value[c], into, base + c * this.#stride, operation, `value[${c}]`);
    }
  }

  #encodeOne(
    value: unknown,
    into: DataView,
    offset: number,
    operation: string,
    what: string,
  ): void {
    const codec = this.#valueCodec;
    if (codec !== undefined) {
      try {
        codec.encode(value, into, offset);
      } catch (e) {
        if (e instanceof CodecError) throw this.#badArgument(operation, e.within(what));
        throw e;
      }
      return;
    }
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(
        `${operation}(): ${what} must be a Uint8Array of ${this.#shape.valueSize} bytes (or give the map a value codec), got ${
          describeValue(value)
        }`,
      );
    }
    if (value.length !== this.#shape.valueSize) {
      throw new RangeError(
        `${operation}(): ${what} must be exactly ${this.#shape.valueSize} bytes for ${this.#label()}, got ${value.length}`,
      );
    }
    if (into === this.#valueView && offset === 0 && value.length <= 64) {
      const dst = this.#value;
      for (let i = 0; i < value.length; i++) dst[i] = value[i];
    } else {
      new Uint8Array(into.buffer, into.byteOffset + offset, value.length).set(value);
    }
  }

  #decodeValue(view: DataView = this.#valueView, base = 0): V {
    const codec = this.#valueCodec;
    if (!this.#spec.perCpu) {
      if (codec !== undefined) return codec.decode(view, base) as V;
      if (view === this.#valueView) return freshBytes(this.#value, 0, this.#shape.valueSize) as V;
      const src = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      return freshBytes(src, base, this.#shape.valueSize) as V;
    }
    const out = new Array(this.#ncpu);
    for (let c = 0; c < this.#ncpu; c++) {
      const off = base + c * this.#stride;
      if (codec !== undefined) out[c] = codec.decode(view, off);
      else {
        const src = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
        out[c] = freshBytes(src, off, this.#shape.valueSize);
      }
    }
    return out as V;
  }

  #fail(cmd: number, errno: number, operation: string, flags = 0): never {
    throw new BpfError(cmd, errno, this.#elemDetail(errno, operation, flags));
  }

  #elemDetail(errno: number, operation: string, flags: number): string {
    const where = `${operation}() on ${this.#label()}`;
    switch (errno) {
      case 7: // E2BIG
        return this.#spec.key === "index"
          ? `${where}: the index is past the end (max_entries ${this.#shape.maxEntries})`
          : `${where}: the map is full (max_entries ${this.#shape.maxEntries})`;
      case 17: // EEXIST
        return `${where}: the key already exists and flags are ${flagName(flags)}`;
      case 2: // ENOENT
        return `${where}: no element with this key` +
          ((flags & 3) === ElemFlag.EXIST ? " (flags EXIST)" : "");
      case 22: // EINVAL
        return (flags & ElemFlag.LOCK)
          ? `${where}: BPF_F_LOCK needs a value with a bpf_spin_lock described by BTF`
          : `${where}: the kernel refused the arguments (flags ${flagName(flags)})`;
      case 1: // EPERM
        return `${where}: the map is frozen, or this handle is read-only or write-only ` +
          `(BPF_F_RDONLY/BPF_F_WRONLY), or the map type refuses writes from userspace`;
      case 9: // EBADF
        return `${where}: the value is not an open file descriptor of the right kind`;
      case 28: // ENOSPC
        return `${where}: the value buffer is too small for what the kernel returns`;
      default:
        return where;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Element operations

  /**
   * Looks a key up (`BPF_MAP_LOOKUP_ELEM`). Returns `undefined` when the key is absent. `flags`
   * may be `ElemFlag.LOCK` (copy under the value's `bpf_spin_lock`).
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(42, 1n);
   * const v = map.get(42); // 1n (undefined when absent)
   * ```
   */
  get(key: K, flags = 0): V | undefined {
    const fd = this.#fd;
    if (fd < 0) closedCheck(fd, "get", () => this.#label());
    if (!this.#canGet) this.#keyedOnly("get", "lookup");
    this.#putKey(key, "get");
    this.#elemView.setUint32(OFF_FLAGS, flags, true);
    const r = mapLookupElem(this.#elem);
    if (r < 0) {
      if (r === -ENOENT) return undefined;
      this.#fail(BpfCmd.MAP_LOOKUP_ELEM, -r, "get", flags);
    }
    return this.#decodeValue();
  }

  /**
   * Looks a key up into `out` without allocating: raw value bytes (all CPUs' values for per-CPU
   * maps, each rounded up to 8 bytes). Returns false when the key is absent.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(7, 5n);
   * const out = new Uint8Array(map.valueSize);
   * if (map.getInto(7, out)) console.log(out[0]); // 5
   * ```
   */
  getInto(key: K, out: Uint8Array, flags = 0): boolean {
    const fd = this.#fd;
    if (fd < 0) closedCheck(fd, "getInto", () => this.#label());
    if (!this.#canGet) this.#keyedOnly("getInto", "lookup");
    const vb = this.#vb;
    if (!(out instanceof Uint8Array)) {
      throw new TypeError(`getInto(): out must be a Uint8Array, got ${describeValue(out)}`);
    }
    if (out.length < vb) {
      throw new RangeError(`getInto(): out holds ${out.length} bytes, the value needs ${vb}`);
    }
    this.#putKey(key, "getInto");
    this.#elemView.setUint32(OFF_FLAGS, flags, true);
    const r = mapLookupElem(this.#elem);
    if (r < 0) {
      if (r === -ENOENT) return false;
      this.#fail(BpfCmd.MAP_LOOKUP_ELEM, -r, "getInto", flags);
    }
    const src = this.#value;
    if (vb <= 64) { for (let i = 0; i < vb; i++) out[i] = src[i]; }
    else out.set(src.subarray(0, vb));
    return true;
  }

  #keyedOnly(operation: string, op: MapOp): void {
    this.#require(op, operation);
    if (this.#spec.key === "none") {
      throw new MapOpNotSupportedError(operation, op, this.#spec.name, {
        errno: "EINVAL",
        why: this.#spec.name === "bloom_filter"
          ? "a bloom filter has no keys; use push(value) and has(value)"
          : this.#spec.name === "queue" || this.#spec.name === "stack"
          ? "queues and stacks have no keys; use push(), pop() and peek()"
          : "this map type has no keys",
      }, this.#shape.name);
    }
  }

  /**
   * Writes a value (`BPF_MAP_UPDATE_ELEM`). `flags`: `ElemFlag.ANY` (default), `NOEXIST` (only a
   * new key), `EXIST` (only an existing key), optionally or-ed with `LOCK`.
   *
   * @throws {BpfError} e.g. `EEXIST` with NOEXIST, `ENOENT` with EXIST, `E2BIG` when full.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * import { ElemFlag } from "@tsbpf/core";
   * map.set(42, 7n);
   * map.set(43, 1n, ElemFlag.NOEXIST);
   * ```
   */
  set(key: K, value: V, flags = 0): this {
    const fd = this.#fd;
    if (fd < 0) closedCheck(fd, "set", () => this.#label());
    if (!this.#canSet) this.#keyedOnly("set", "update");
    this.#putKey(key, "set");
    this.#putValue(value, "set");
    this.#elemView.setUint32(OFF_FLAGS, flags, true);
    const r = mapUpdateElem(this.#elem);
    if (r < 0) this.#fail(BpfCmd.MAP_UPDATE_ELEM, -r, "set", flags);
    return this;
  }

  /**
   * Deletes a key (`BPF_MAP_DELETE_ELEM`). Returns false when it was absent.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(42, 1n);
   * map.delete(42); // true
   * ```
   */
  delete(key: K): boolean {
    const fd = this.#fd;
    if (fd < 0) closedCheck(fd, "delete", () => this.#label());
    if (!this.#canDelete) this.#keyedOnly("delete", "delete");
    this.#putKey(key, "delete");
    const r = mapDeleteElem(this.#elem);
    if (r < 0) {
      if (r === -ENOENT) return false;
      this.#fail(BpfCmd.MAP_DELETE_ELEM, -r, "delete");
    }
    return true;
  }

  /**
   * Whether a key is present. For a bloom filter, whether a value may have been pushed (`false`:
   * certainly not).
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(42, 1n);
   * map.has(42); // true
   * using bloom = BpfMap.create({ type: "bloom_filter", value: u64, maxEntries: 64 });
   * bloom.push(5n);
   * bloom.has(6n); // false means never pushed
   * ```
   */
  has(keyOrValue: K | V): boolean {
    const fd = this.#fd;
    if (fd < 0) closedCheck(fd, "has", () => this.#label());
    if (this.#spec.name === "bloom_filter") {
      this.#encodeValue(keyOrValue as V, "has");
      this.#elemView.setUint32(OFF_FLAGS, 0, true);
      const r = mapLookupElem(this.#elem);
      if (r < 0) {
        if (r === -ENOENT) return false;
        this.#fail(BpfCmd.MAP_LOOKUP_ELEM, -r, "has");
      }
      return true;
    }
    if (!this.#canGet) this.#keyedOnly("has", "lookup");
    this.#putKey(keyOrValue as K, "has");
    this.#elemView.setUint32(OFF_FLAGS, 0, true);
    const r = mapLookupElem(this.#elem);
    if (r < 0) {
      if (r === -ENOENT) return false;
      this.#fail(BpfCmd.MAP_LOOKUP_ELEM, -r, "has");
    }
    return true;
  }

  /**
   * Looks a key up and deletes it in one step (`BPF_MAP_LOOKUP_AND_DELETE_ELEM`; hash maps).
   * Returns `undefined` when the key was absent.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(42, 9n);
   * const last = map.getAndDelete(42); // 9n
   * ```
   */
  getAndDelete(key: K, flags = 0): V | undefined {
    const fd = this.#fd;
    if (fd < 0) closedCheck(fd, "getAndDelete", () => this.#label());
    this.#keyedOnly("getAndDelete", "lookupAndDelete");
    this.#putKey(key, "getAndDelete");
    this.#elemView.setUint32(OFF_FLAGS, flags, true);
    const r = mapLookupAndDeleteElem(this.#elem);
    if (r < 0) {
      if (r === -ENOENT) return undefined;
      this.#fail(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, -r, "getAndDelete", flags);
    }
    return this.#decodeValue();
  }

  /**
   * The key after `key` in the kernel's order (`BPF_MAP_GET_NEXT_KEY`), the first key when `key`
   * is `undefined`, or `undefined` at the end. Note the kernel's rule: when `key` is not in the
   * map (e.g. just deleted), hash maps answer with their first key.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n).set(2, 2n);
   * for (let k = map.nextKey(); k !== undefined; k = map.nextKey(k)) console.log(k);
   * ```
   */
  nextKey(key?: K): K | undefined {
    const fd = this.#fd;
    if (fd < 0) closedCheck(fd, "nextKey", () => this.#label());
    this.#keyedOnly("nextKey", "getNextKey");
    if (key === undefined || key === null) {
      this.#nextView.setBigUint64(N.key.offset, 0n, true);
    } else {
      this.#putKey(key, "nextKey");
      this.#nextView.setBigUint64(N.key.offset, this.#keyAddr, true);
    }
    const r = mapGetNextKey(this.#next);
    if (r < 0) {
      if (r === -ENOENT) return undefined;
      this.#fail(BpfCmd.MAP_GET_NEXT_KEY, -r, "nextKey");
    }
    return this.#decodeKey(this.#key2View, this.#key2);
  }

  // ---------------------------------------------------------------------------------------------
  // Queue, stack, bloom filter

  #keyless(operation: string, op: MapOp): void {
    this.#require(op, operation);
    if (this.#spec.key !== "none" || this.#spec.value === "none") {
      throw new MapOpNotSupportedError(operation, op, this.#spec.name, {
        errno: "EINVAL",
        why: this.#spec.value === "none"
          ? "this map type has no elements"
          : "push/pop/peek belong to queue, stack and bloom filter maps; use set/get/delete",
      }, this.#shape.name);
    }
  }

  /**
   * Pushes a value onto a queue, stack or bloom filter (`BPF_MAP_UPDATE_ELEM` with no key). With
   * `ElemFlag.EXIST`, a full queue or stack drops its oldest element instead of failing.
   *
   * @throws {BpfError} `E2BIG` when a queue or stack is full (without EXIST).
   * @example
   * ```ts
   * import { BpfMap, u64 } from "@tsbpf/core";
   * using queue = BpfMap.create({ type: "queue", value: u64, maxEntries: 8 });
   * queue.push(1n);
   * using bloom = BpfMap.create({ type: "bloom_filter", value: u64, maxEntries: 64 });
   * bloom.push(5n);
   * ```
   */
  push(value: V, flags = 0): void {
    const fd = this.#fd;
    if (fd < 0) closedCheck(fd, "push", () => this.#label());
    this.#keyless("push", "update");
    this.#encodeValue(value, "push");
    this.#elemView.setUint32(OFF_FLAGS, flags, true);
    const r = mapUpdateElem(this.#elem);
    if (r < 0) this.#fail(BpfCmd.MAP_UPDATE_ELEM, -r, "push", flags);
  }

  /**
   * Removes and returns the next element of a queue (oldest) or stack (newest)
   * (`BPF_MAP_LOOKUP_AND_DELETE_ELEM`); `undefined` when empty.
   *
   * @example
   * ```ts
   * import { BpfMap, u64 } from "@tsbpf/core";
   * using queue = BpfMap.create({ type: "queue", value: u64, maxEntries: 8 });
   * queue.push(1n);
   * const v = queue.pop(); // 1n
   * ```
   */
  pop(): V | undefined {
    const fd = this.#fd;
    if (fd < 0) closedCheck(fd, "pop", () => this.#label());
    this.#keyless("pop", "lookupAndDelete");
    this.#elemView.setUint32(OFF_FLAGS, 0, true);
    const r = mapLookupAndDeleteElem(this.#elem);
    if (r < 0) {
      if (r === -ENOENT) return undefined;
      this.#fail(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, -r, "pop");
    }
    return this.#decodeValue();
  }

  /**
   * Returns the element {@link BpfMap.pop} would remove, without removing it; `undefined` when
   * empty.
   *
   * @example
   * ```ts
   * import { BpfMap, u64 } from "@tsbpf/core";
   * using stack = BpfMap.create({ type: "stack", value: u64, maxEntries: 8 });
   * stack.push(3n);
   * const next = stack.peek(); // 3n, still in the stack
   * ```
   */
  peek(): V | undefined {
    const fd = this.#fd;
    if (fd < 0) closedCheck(fd, "peek", () => this.#label());
    this.#keyless("peek", "lookup");
    if (this.#spec.name === "bloom_filter") {
      throw new MapOpNotSupportedError("peek", "lookup", this.#spec.name, {
        errno: "EINVAL",
        why: "a bloom filter cannot list its values; use has(value)",
      }, this.#shape.name);
    }
    this.#elemView.setUint32(OFF_FLAGS, 0, true);
    const r = mapLookupElem(this.#elem);
    if (r < 0) {
      if (r === -ENOENT) return undefined;
      this.#fail(BpfCmd.MAP_LOOKUP_ELEM, -r, "peek");
    }
    return this.#decodeValue();
  }

  // ---------------------------------------------------------------------------------------------
  // Freeze

  /**
   * Makes the map read-only for user space from now on (`BPF_MAP_FREEZE`); programs may still
   * write unless the map has `BPF_F_RDONLY_PROG`. Cannot be undone.
   *
   * @throws {BpfError} `EBUSY` when already frozen or writably mapped; `ENOTSUPP` for values with a
   * spin lock or timer.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using config = BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 1 });
   * config.set(0, 42n);
   * config.freeze(); // programs still read it; user space can no longer write
   * ```
   */
  freeze(): void {
    closedCheck(this.#fd, "freeze", () => this.#label());
    this.#require("freeze", "freeze");
    const attr = new Attr(MAP_FREEZE_ATTR).set("map_fd", this.#fd);
    const r = mapFreeze(attr);
    if (r < 0) {
      const detail = -r === 16
        ? `${this.#label()} is already frozen (or mapped writable)`
        : -r === ENOTSUPP
        ? `${this.#label()}: maps whose values hold a spin lock or timer cannot be frozen`
        : this.#label();
      throw new BpfError(BpfCmd.MAP_FREEZE, -r, detail);
    }
  }

  /**
   * Whether the map is frozen (from `/proc/self/fdinfo`).
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.freeze();
   * map.frozen; // true
   * ```
   */
  get frozen(): boolean {
    closedCheck(this.#fd, "frozen", () => this.#label());
    const m = /^frozen:\s*(\d+)/m.exec(readFileText(`/proc/self/fdinfo/${this.#fd}`));
    return m !== null && m[1] !== "0";
  }

  // ---------------------------------------------------------------------------------------------
  // Iteration

  /**
   * Keys, in the kernel's order. See the class documentation for behaviour under concurrent
   * deletes: no entry twice, no endless loop. For array-like maps every index is a key.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n);
   * for (const k of map.keys()) console.log(k);
   * ```
   */
  *keys(options: IterateOptions = {}): Generator<K, void, undefined> {
    for (const e of this.#walk("keys", false, options)) yield e[0];
  }

  /**
   * Values, in the kernel's order of their keys.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n).set(2, 2n);
   * let total = 0n;
   * for (const v of map.values()) total += v; // 3n
   * ```
   */
  *values(options: IterateOptions = {}): Generator<V, void, undefined> {
    for (const e of this.#walk("values", true, options)) yield e[1] as V;
  }

  /**
   * `[key, value]` pairs, in the kernel's order. An entry deleted between reading its key and its
   * value is skipped; for fd arrays (`prog_array`, devmap…) only occupied slots are listed.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n);
   * for (const [k, v] of map.entries()) console.log(k, v);
   * ```
   */
  entries(options: IterateOptions = {}): Generator<[K, V], void, undefined> {
    return this.#walk("entries", true, options) as Generator<[K, V], void, undefined>;
  }

  /**
   * Same as {@link BpfMap.entries}.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n);
   * for (const [k, v] of map) console.log(k, v);
   * ```
   */
  [Symbol.iterator](): Generator<[K, V], void, undefined> {
    return this.entries();
  }

  /**
   * Number of entries, counted by iterating (maps keep no count); for arrays, max_entries, for
   * other array-like maps (prog_array, devmap, …) the occupied slots.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n).set(2, 2n).set(3, 3n);
   * map.count(); // 3
   * ```
   */
  count(): number {
    // Slots of fd arrays, devmaps, cpumaps… may be empty: count only those with a value.
    const spec = this.#spec;
    const sparse = spec.key === "index" && spec.name !== "array" && spec.name !== "percpu_array" &&
      spec.ops.lookup === true;
    let n = 0;
    for (const _ of this.#walk("count", sparse, {})) n++;
    return n;
  }

  /**
   * Walks the map: batch chunks decoded in this generator (one level between the caller and the
   * entries), or a get_next_key walk. The checks run at the first step, as generators do.
   */
  *#walk(
    operation: string,
    withValues: boolean,
    options: IterateOptions,
  ): Generator<[K, V | undefined], void, undefined> {
    closedCheck(this.#fd, operation, () => this.#label());
    if (withValues) this.#require("lookup", operation);
    const mode = this.#spec.iterate;
    if (mode === "none" || this.#spec.key === "none") {
      this.#require("getNextKey", operation);
      throw new MapOpNotSupportedError(operation, "getNextKey", this.#spec.name, {
        errno: "EINVAL",
        why: "this map type has no keys to iterate",
      }, this.#shape.name);
    }
    if (mode === "batch" && options.batch !== false && !this.#batchOff) {
      const reader = this.#tryBatchReader(this.#defaultChunk(options.chunk), false);
      if (reader !== undefined) {
        const ks = this.#shape.keySize;
        const vb = this.#valueBytes;
        const vs = this.#shape.valueSize;
        const rawKey = this.#keyCodec === undefined;
        const rawValue = this.#valueCodec === undefined && !this.#pcpu;
        // The reader already holds the first chunk. Its buffers are its own: the loop body may
        // use the map freely, and they change only when the next chunk is fetched, after the
        // last entry of this one was decoded.
        for (let n = reader.count; n > 0 || !reader.done; n = reader.next()) {
          const keys = reader.keys;
          const values = reader.values;
          const kv = new DataView(keys.buffer);
          const vv = new DataView(values.buffer);
          for (let i = 0; i < n; i++) {
            const key = rawKey
              ? freshBytes(keys, i * ks, ks) as K
              : this.#decodeKey(kv, keys, i * ks);
            yield [
              key,
              rawValue ? freshBytes(values, i * vb, vs) as V : this.#decodeValue(vv, i * vb),
            ];
          }
        }
        return;
      }
    }
    if (withValues && mode !== "index") yield* this.#walkNextKeyValues(operation);
    else yield* this.#walkNextKey(mode === "index", withValues, operation);
  }

  #defaultChunk(chunk: number | undefined): number {
    if (chunk !== undefined) return chunk;
    return Math.max(1, Math.min(1024, this.#shape.maxEntries || 1024));
  }

  /** A batch reader, or undefined when the kernel has no batch lookup for this map. */
  #tryBatchReader(chunk: number, drain: boolean): BatchReader | undefined {
    const reader = new BatchReader(this.#batchSource(), chunk, drain);
    try {
      reader.next();
    } catch (e) {
      if (e instanceof BpfError && (e.errno === ENOTSUPP || e.errno === 22)) {
        this.#batchOff = true; // an older kernel: fall back from now on
        return undefined;
      }
      throw e;
    }
    return reader;
  }

  #batchSource(): BatchSource {
    // deno-lint-ignore no-this-alias
    const self = this;
    return {
      get fd(): number {
        return self.fd;
      },
      keySize: this.#shape.keySize,
      valueBytes: this.#valueBytes,
      label: this.#label(),
    };
  }

  /** All entries of a batch reader (which holds its first chunk), decoded into one array. */
  #collectBatch(reader: BatchReader): [K, V][] {
    const ks = this.#shape.keySize;
    const vb = this.#valueBytes;
    const vs = this.#shape.valueSize;
    const keyCodec = this.#keyCodec;
    const valueCodec = this.#pcpu ? undefined : this.#valueCodec;
    const rawValue = this.#valueCodec === undefined && !this.#pcpu;
    const out: [K, V][] = [];
    for (let n = reader.count; n > 0 || !reader.done; n = reader.next()) {
      const keys = reader.keys;
      const values = reader.values;
      const kv = new DataView(keys.buffer);
      const vv = new DataView(values.buffer);
      for (let i = 0; i < n; i++) {
        const key = keyCodec !== undefined
          ? keyCodec.decode(kv, i * ks) as K
          : freshBytes(keys, i * ks, ks) as K;
        const value = valueCodec !== undefined
          ? valueCodec.decode(vv, i * vb) as V
          : rawValue
          ? freshBytes(values, i * vb, vs) as V
          : this.#decodeValue(vv, i * vb);
        out.push([key, value]);
      }
    }
    return out;
  }

  /**
   * get_next_key walk of a hash-ordered map with values, one key ahead, paying for concurrent
   * deletes only when one happens. For each key: fetch its successor, then read its value. A
   * value that is still there proves the key existed when its successor was fetched, so the
   * successor is genuine (not a restart from the first key): no set of yielded keys is needed,
   * only a log of their bytes. When a value is gone (the key vanished, so its successor may be a
   * restart), the walk hands over to {@link BpfMap.#walkNextKey}, with the set of yielded keys
   * built from the log, which resumes without yielding anything twice.
   */
  *#walkNextKeyValues(operation: string): Generator<[K, V], void, undefined> {
    const ks = this.#shape.keySize;
    const room = Math.max(8, ks);
    // Two key buffers in turn: attrs[i] asks for the successor of bufs[i], into bufs[1 - i].
    const bufs = [alloc(room), alloc(room)];
    const views = [new DataView(bufs[0].buffer), new DataView(bufs[1].buffer)];
    const attrs = [alloc(NEXT_SIZE), alloc(NEXT_SIZE), alloc(NEXT_SIZE)];
    const attrViews = attrs.map((a) => new DataView(a.buffer));
    for (let i = 0; i < 2; i++) {
      attrViews[i].setBigUint64(N.key.offset, this.#s.addressOf(bufs[i]), true);
      attrViews[i].setBigUint64(N.next_key.offset, this.#s.addressOf(bufs[1 - i]), true);
    }
    // attrs[2]: the first key (key NULL), into bufs[0].
    attrViews[2].setBigUint64(N.next_key.offset, this.#s.addressOf(bufs[0]), true);
    const fdOff = N.map_fd.offset;
    const scratch = this.#key;
    let log = new Uint8Array(ks * 256);
    let logged = 0;
    let calls = 0;
    const budget = 1024 + 8 * (this.#shape.maxEntries + 1);

    let fd = this.#fd;
    if (fd < 0) closedCheck(fd, operation, () => this.#label());
    attrViews[2].setUint32(fdOff, fd, true);
    let r = mapGetNextKey(attrs[2]);
    if (r === -ENOENT) return;
    if (r < 0) this.#nextKeyFailed(-r, operation);
    let cur = 0;
    for (;;) {
      fd = this.#fd;
      if (fd < 0) closedCheck(fd, operation, () => this.#label());
      if (++calls > budget) this.#walkGaveUp(operation, calls);
      const key = bufs[cur];
      // The successor first: the loop body may delete this key.
      attrViews[cur].setUint32(fdOff, fd, true);
      r = mapGetNextKey(attrs[cur]); // bufs and attrs live as long as this generator
      if (r < 0 && r !== -ENOENT) this.#nextKeyFailed(-r, operation);
      const more = r === 0;
      // The value, through the map's scratch (the loop body only runs between yields).
      for (let i = 0; i < ks; i++) scratch[i] = key[i];
      this.#elemView.setUint32(OFF_FLAGS, 0, true);
      const lr = mapLookupElem(this.#elem);
      if (lr === -ENOENT) {
        // The key vanished: its successor may be a restart. Resume with the set of yielded keys.
        const idOf = ks <= 6 ? bytesToNumber : bytesToString;
        const seen = new Set<number | string>();
        const history: Uint8Array[] = [];
        for (let off = 0; off < logged; off += ks) {
          const k = log.subarray(off, off + ks);
          seen.add(idOf(k, ks));
          if (off >= logged - 32 * ks) history.push(k.slice());
        }
        history.push(key.slice(0, ks)); // the vanished key: where the walk resumes from
        yield* this.#walkNextKey(false, true, operation, {
          seen,
          history,
          from: key.slice(0, ks),
          calls,
        }) as Generator<[K, V], void, undefined>;
        return;
      }
      if (lr < 0) this.#fail(BpfCmd.MAP_LOOKUP_ELEM, -lr, operation);
      if (logged + ks > log.length) {
        const grown = new Uint8Array(log.length * 2);
        grown.set(log);
        log = grown;
      }
      for (let i = 0; i < ks; i++) log[logged + i] = key[i];
      logged += ks;
      yield [this.#decodeKey(views[cur], key), this.#decodeValue()];
      if (!more) return;
      cur = 1 - cur;
    }
  }

  #nextKeyFailed(errno: number, operation: string): never {
    throw new BpfError(BpfCmd.MAP_GET_NEXT_KEY, errno, `${operation}() on ${this.#label()}`);
  }

  #walkGaveUp(operation: string, calls: number): never {
    throw new Error(
      `${operation}() on ${this.#label()} gave up after ${calls} get_next_key calls: keys are deleted faster than the walk advances`,
    );
  }

  /**
   * get_next_key walk with one key of lookahead: the successor of a key is fetched before the key
   * is handed out, so deleting the current key in the loop body costs nothing. When a fetch
   * restarts (its key was deleted meanwhile, and the kernel answers with its first key):
   * - indexed maps: keys only grow, so anything not above the last index is skipped;
   * - hash-ordered maps: the yielded keys are remembered (`seen`), which recognises the restart;
   *   the walk then resumes from the newest recently yielded key that still exists (`history`),
   *   and only when none is left does it re-walk from the start, skipping what it has seen.
   */
  *#walkNextKey(
    indexed: boolean,
    withValues: boolean,
    operation: string,
    resume?: {
      seen: Set<number | string>;
      history: Uint8Array[];
      from: Uint8Array;
      calls: number;
    },
  ): Generator<[K, V | undefined], void, undefined> {
    const s = this.#s;
    const ks = this.#shape.keySize;
    // Own buffers: the loop body may call get/set/delete, which use the map's scratch.
    const from = alloc(Math.max(8, ks));
    const out = alloc(Math.max(8, ks));
    const outView = new DataView(out.buffer);
    const attr = alloc(NEXT_SIZE);
    const av = new DataView(attr.buffer);
    av.setBigUint64(N.next_key.offset, s.addressOf(out), true);
    const fromAddr = s.addressOf(from);
    const seen = indexed ? undefined : resume?.seen ?? new Set<number | string>();
    const idOf = ks <= 6 ? bytesToNumber : bytesToString;
    const HISTORY = 32;
    const history: Uint8Array[] = resume?.history ?? [];
    let last = -1; // last index accepted (indexed maps)
    let calls = resume?.calls ?? 0;
    const budget = 1024 + 8 * (this.#shape.maxEntries + 1);
    const label = this.#label();

    /** get_next_key from `key` (or the first key); the answer lands in `out`. */
    const fetch = (key: Uint8Array | null): boolean => {
      if (++calls > budget) {
        throw new Error(
          `${operation}() on ${label} gave up after ${calls} get_next_key calls: keys are deleted faster than the walk advances`,
        );
      }
      av.setUint32(N.map_fd.offset, this.fd, true);
      if (key === null) av.setBigUint64(N.key.offset, 0n, true);
      else {
        from.set(key);
        av.setBigUint64(N.key.offset, fromAddr, true);
      }
      const r = mapGetNextKey(attr, from, out);
      if (r === -ENOENT) return false;
      if (r < 0) throw new BpfError(BpfCmd.MAP_GET_NEXT_KEY, -r, `${operation}() on ${label}`);
      return true;
    };

    /** Whether the key in `out` is new; if so, remembers it. */
    const accept = (): boolean => {
      if (indexed) {
        const index = outView.getUint32(0, true);
        if (index <= last) return false;
        last = index;
        return true;
      }
      const id = idOf(out, ks);
      if (seen!.has(id)) return false;
      seen!.add(id);
      while (history.length >= HISTORY) history.shift();
      history.push(out.slice(0, ks));
      return true;
    };

    /** The first new key after `key` (null: the first key), or null at the end. */
    const advance = (key: Uint8Array | null): Uint8Array | null => {
      if (!fetch(key)) return null;
      if (accept()) return out.slice(0, ks);
      // A restart (or a key seen before): resume from a recent key that still exists.
      if (!indexed) {
        for (let j = history.length - 2; j >= 0; j--) {
          if (!fetch(history[j])) return null;
          if (accept()) return out.slice(0, ks);
        }
      }
      // Walk on from where the kernel put us, skipping what was already yielded.
      for (;;) {
        if (!fetch(out.slice(0, ks))) return null;
        if (accept()) return out.slice(0, ks);
      }
    };

    let current = advance(resume?.from ?? null);
    while (current !== null) {
      const following = advance(current); // lookahead, before the loop body can delete `current`
      const keyView = new DataView(current.buffer);
      const key = this.#decodeKey(keyView, current);
      if (!withValues) {
        yield [key, undefined];
      } else {
        // Read the value through the map's scratch (the key bytes are copied there).
        this.#key.set(current);
        this.#elemView.setUint32(OFF_FLAGS, 0, true);
        const lr = mapLookupElem(this.#elem);
        if (lr >= 0) yield [key, this.#decodeValue()];
        else if (lr !== -ENOENT) this.#fail(BpfCmd.MAP_LOOKUP_ELEM, -lr, operation);
        // ENOENT: deleted since its key was read (or an empty fd-array slot): skipped.
      }
      current = following;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Batch operations

  /**
   * A preallocated reader over `BPF_MAP_LOOKUP_BATCH` (or `BPF_MAP_LOOKUP_AND_DELETE_BATCH` with
   * `drain`): raw keys and values, chunk by chunk, with no allocation per call, and a columnar
   * view of each chunk through the map's codecs (`key(i)`, `value(i)`: only what is read is
   * decoded, into nothing but the decoded values).
   *
   * @throws {MapOpNotSupportedError} for map types without batch lookup.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n);
   * const r = map.batchReader(4096);
   * let total = 0;
   * for (let n = r.next(); n > 0 || !r.done; n = r.next()) total += n; // 1
   * let sum = 0n; // a map with a u64 value codec
   * for (let n = (r.reset(), r.next()); n > 0 || !r.done; n = r.next()) {
   *   for (let i = 0; i < n; i++) sum += r.value(i);
   * }
   * ```
   */
  batchReader(capacity?: number, drain = false): TypedBatchReader<K, V> {
    closedCheck(this.#fd, "batchReader", () => this.#label());
    this.#require(drain ? "lookupAndDeleteBatch" : "lookupBatch", "batchReader");
    const ks = this.#shape.keySize;
    const vs = this.#shape.valueSize;
    const keyCodec = this.#keyCodec;
    const valueCodec = this.#valueCodec;
    const decodeKey: EntryDecoder<K> = keyCodec !== undefined
      ? (v, _b, o) => keyCodec.decode(v, o) as K
      : (_v, b, o) => freshBytes(b, o, ks) as K;
    const decodeValue: EntryDecoder<V> = this.#pcpu
      ? (v, _b, o) => this.#decodeValue(v, o)
      : valueCodec !== undefined
      ? (v, _b, o) => valueCodec.decode(v, o) as V
      : (_v, b, o) => freshBytes(b, o, vs) as V;
    return new TypedBatchReader(
      this.#batchSource(),
      this.#defaultChunk(capacity),
      drain,
      decodeKey,
      decodeValue,
    );
  }

  /**
   * Reads the whole map, chunk by chunk with `BPF_MAP_LOOKUP_BATCH`; falls back to iteration for
   * map types (or kernels) without it.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 10n);
   * const all = map.batchLookup(); // [[1, 10n]]
   * ```
   */
  batchLookup(options: BatchOptions = {}): [K, V][] {
    closedCheck(this.#fd, "batchLookup", () => this.#label());
    if (this.#spec.ops.lookupBatch === true && !this.#batchOff) {
      const reader = this.#tryBatchReader(this.#defaultChunk(options.chunk), false);
      if (reader !== undefined) return this.#collectBatch(reader);
    }
    return [...this.entries()];
  }

  /**
   * Reads and removes every entry (`BPF_MAP_LOOKUP_AND_DELETE_BATCH`); falls back to reading and
   * deleting entry by entry where the type has no such batch (LPM tries).
   *
   * @throws {MapOpNotSupportedError} for types whose elements cannot be deleted (arrays).
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 10n);
   * const drained = map.batchLookupAndDelete(); // [[1, 10n]], and the map is empty
   * ```
   */
  batchLookupAndDelete(options: BatchOptions = {}): [K, V][] {
    closedCheck(this.#fd, "batchLookupAndDelete", () => this.#label());
    if (this.#spec.ops.lookupAndDeleteBatch === true && !this.#batchOff) {
      const reader = this.#tryBatchReader(this.#defaultChunk(options.chunk), true);
      if (reader !== undefined) return this.#collectBatch(reader);
    }
    this.#require("delete", "batchLookupAndDelete");
    const out: [K, V][] = [];
    for (const [k, v] of this.entries()) {
      if (this.delete(k)) out.push([k, v]);
    }
    return out;
  }

  /**
   * Writes many entries with `BPF_MAP_UPDATE_BATCH` (one system call for all), or one by one for
   * types without it. Returns the number written.
   *
   * @throws {BpfError} on the first entry the kernel refuses; the message says how many were
   * written before it.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.batchUpdate([[1, 10n], [2, 20n]]); // 2
   * ```
   */
  batchUpdate(entries: Iterable<readonly [K, V]>, flags = 0): number {
    closedCheck(this.#fd, "batchUpdate", () => this.#label());
    this.#keyedOnly("batchUpdate", "update");
    if ((flags & ~ElemFlag.LOCK) !== 0) {
      throw new RangeError(
        `batchUpdate() takes only ElemFlag.LOCK (the kernel's batch update has no NOEXIST or ` +
          `EXIST); got flags ${flagName(flags)} — use set() per key for those`,
      );
    }
    const list = Array.isArray(entries) ? entries as (readonly [K, V])[] : [...entries];
    if (list.length === 0) return 0;
    if (this.#spec.ops.updateBatch !== true || this.#batchOff) {
      for (const [k, v] of list) this.set(k, v, flags);
      return list.length;
    }
    const ks = this.#shape.keySize;
    const keys = alloc(list.length * ks);
    const values = alloc(Math.max(8, list.length * this.#valueBytes));
    const vv = new DataView(values.buffer);
    for (let i = 0; i < list.length; i++) {
      const [k, v] = list[i];
      this.#encodeKey(
        k,
        new DataView(keys.buffer, i * ks, ks),
        keys.subarray(i * ks),
        "batchUpdate",
      );
      this.#encodeValue(v, "batchUpdate", vv, i * this.#valueBytes);
    }
    const r = this.#batchWrite(BpfCmd.MAP_UPDATE_BATCH, keys, values, list.length, flags);
    if (r.errno === ENOTSUPP && r.count === 0) {
      this.#batchOff = true;
      for (const [k, v] of list) this.set(k, v, flags);
      return list.length;
    }
    if (r.errno !== 0) {
      throw new BpfError(
        BpfCmd.MAP_UPDATE_BATCH,
        r.errno,
        `batchUpdate() on ${this.#label()}: refused entry ${r.count} after writing ${r.count} of ${list.length}` +
          (r.errno === 7 ? ` (the map is full, max_entries ${this.#shape.maxEntries})` : ""),
      );
    }
    return r.count;
  }

  /**
   * Deletes many keys with `BPF_MAP_DELETE_BATCH`, or one by one for types without it. Keys that
   * are absent are skipped. Returns the number deleted.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.batchUpdate([[1, 10n], [2, 20n], [3, 30n]]);
   * map.batchDelete([1, 2, 3]); // 3
   * ```
   */
  batchDelete(keys: Iterable<K>): number {
    closedCheck(this.#fd, "batchDelete", () => this.#label());
    this.#keyedOnly("batchDelete", "delete");
    const list = Array.isArray(keys) ? keys as K[] : [...keys];
    if (list.length === 0) return 0;
    if (this.#spec.ops.deleteBatch !== true || this.#batchOff) {
      let n = 0;
      for (const k of list) if (this.delete(k)) n++;
      return n;
    }
    const ks = this.#shape.keySize;
    const buf = alloc(list.length * ks);
    for (let i = 0; i < list.length; i++) {
      this.#encodeKey(
        list[i],
        new DataView(buf.buffer, i * ks, ks),
        buf.subarray(i * ks),
        "batchDelete",
      );
    }
    let deleted = 0;
    let start = 0;
    while (start < list.length) {
      // Continue after an absent key from inside the same buffer (no copy).
      const r = this.#batchWrite(
        BpfCmd.MAP_DELETE_BATCH,
        buf,
        undefined,
        list.length - start,
        0,
        start * ks,
      );
      deleted += r.count;
      if (r.errno === 0) break;
      if (r.errno === ENOENT) {
        start += r.count + 1; // skip the absent key
        continue;
      }
      if (r.errno === ENOTSUPP && r.count === 0 && deleted === 0) {
        this.#batchOff = true;
        let n = 0;
        for (const k of list) if (this.delete(k)) n++;
        return n;
      }
      throw new BpfError(
        BpfCmd.MAP_DELETE_BATCH,
        r.errno,
        `batchDelete() on ${this.#label()} after deleting ${deleted} of ${list.length}`,
      );
    }
    return deleted;
  }

  #batchWrite(
    cmd: MapBatchCmd,
    keys: Uint8Array<ArrayBuffer>,
    values: Uint8Array<ArrayBuffer> | undefined,
    count: number,
    elemFlags: number,
    keyOffset = 0,
  ): { count: number; errno: number } {
    const s = this.#s;
    const attr = alloc(MAP_BATCH_ATTR.size);
    const v = new DataView(attr.buffer);
    v.setBigUint64(B.keys.offset, s.addressOf(keys) + BigInt(keyOffset), true);
    if (values !== undefined) v.setBigUint64(B.values.offset, s.addressOf(values), true);
    v.setUint32(B.count.offset, count, true);
    v.setUint32(B.map_fd.offset, this.#fd, true);
    v.setBigUint64(B.elem_flags.offset, BigInt(elemFlags), true);
    const r = mapBatch(cmd, attr, keys, values);
    const written = v.getUint32(B.count.offset, true);
    // The kernel writes the count back only once it has entered its loop, where a failure always
    // leaves it below the input; an unchanged count with an error means nothing was processed.
    return { count: r < 0 && written === count ? 0 : written, errno: r < 0 ? -r : 0 };
  }

  /**
   * Deletes every entry (batch delete where available). Returns the number deleted.
   *
   * @throws {MapOpNotSupportedError} for types whose elements cannot be deleted (arrays).
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n);
   * map.clear(); // 1
   * ```
   */
  clear(): number {
    closedCheck(this.#fd, "clear", () => this.#label());
    this.#keyedOnly("clear", "delete");
    let total = 0;
    for (;;) {
      const keys = [...this.keys()];
      if (keys.length === 0) return total;
      const n = this.batchDelete(keys);
      total += n;
      if (n === 0) return total;
    }
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
    this.#pinnedAt = path;
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
  unpin(path: string | undefined = this.#pinnedAt): void {
    if (path === undefined) {
      throw new Error(`unpin(): ${this.#label()} was not pinned by this handle`);
    }
    unpinPath(path);
    if (path === this.#pinnedAt) this.#pinnedAt = undefined;
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
    if (this.#fd < 0) return;
    this.#fd = -1;
    this.#elemView.setUint32(OFF_FD, 0xffffffff, true);
    this.#nextView.setUint32(N.map_fd.offset, 0xffffffff, true);
    this.#handle.close();
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

function bytesToNumber(b: Uint8Array, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[i];
  return v;
}

function bytesToString(b: Uint8Array, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[i]);
  return s;
}

for (const symbol of INSPECT_SYMBOLS) {
  Object.defineProperty(BpfMap.prototype, symbol, {
    value(this: BpfMap): string {
      return this.toString();
    },
  });
}
