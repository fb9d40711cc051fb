/**
 * The state behind a `BpfMap`: the owned fd, the map's shape and type row, its codecs, and the
 * scratch memory (attrs, key and value buffers, addresses computed once) that every operation
 * reuses. Also the checks and error messages shared by the operations (`crud.ts`, `iterate.ts`,
 * `batch_ops.ts`). Internal: not exported from the package.
 *
 * @module
 */
import { MAP_GET_NEXT_KEY_ATTR, MAP_LOOKUP_ELEM_ATTR } from "../../types/attr.ts";
import { ElemFlag } from "../../types/flags.ts";
import { Errno } from "../../types/errno.ts";
import type { Codec } from "../codec/codec.ts";
import { BpfError } from "../errors.ts";
import { FdHandle } from "../fd.ts";
import { alloc } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import type { Sys } from "../sys/types.ts";
import { BatchReader, type BatchSource, checkBatchChunk } from "./batch.ts";
import { MapClosedError, MapOpNotSupportedError } from "./errors.ts";
import { type MapOp, type MapTypeInfo, mapTypeInfo } from "./map_types.ts";
import { perCpuLayout, type ValueLayout } from "./percpu.ts";
import type { MapCodecs, Shape } from "./types.ts";

const E = MAP_LOOKUP_ELEM_ATTR.fields;
/** Offsets in the elem attr (lookup, update, delete, lookup-and-delete share one layout). */
export const OFF_FD: number = E.map_fd.offset;
/** Offset of `key` in the elem attr. */
export const OFF_KEY: number = E.key.offset;
/** Offset of `value` in the elem attr. */
export const OFF_VALUE: number = E.value.offset;
/** Offset of `flags` in the elem attr. */
export const OFF_FLAGS: number = E.flags.offset;
/** Elem commands that read `flags` (lookup, update, lookup-and-delete) pass the whole struct. */
export const ELEM_SIZE: number = MAP_LOOKUP_ELEM_ATTR.size;
/** Fields of the get_next_key attr. */
export const N: typeof MAP_GET_NEXT_KEY_ATTR.fields = MAP_GET_NEXT_KEY_ATTR.fields;
/** Size of the get_next_key attr. */
export const NEXT_SIZE: number = MAP_GET_NEXT_KEY_ATTR.size;

/** Throws {@link MapClosedError} when `fd` is the closed marker. */
export function closedCheck(fd: number, operation: string, label: () => string): void {
  if (fd < 0) throw new MapClosedError(operation, label());
}

/** Element flags by name, for messages: `NOEXIST|LOCK`. */
export function flagName(flags: number): string {
  const names: string[] = [];
  if ((flags & 3) === ElemFlag.NOEXIST) names.push("NOEXIST");
  if ((flags & 3) === ElemFlag.EXIST) names.push("EXIST");
  if (flags & ElemFlag.LOCK) names.push("LOCK");
  const rest = flags & ~(3 | ElemFlag.LOCK);
  if ((flags & 3) === 3 || rest !== 0) names.push(`0x${(flags & ~ElemFlag.LOCK).toString(16)}`);
  return names.length === 0 ? "ANY" : names.join("|");
}

/**
 * An owned map fd with its shape, codecs and scratch memory. Fields are plain (not `#private`) so
 * that the operation modules reach them directly; the class itself never leaves `lib/map/`.
 */
export class MapHandle {
  readonly owner: FdHandle;
  fd: number;
  readonly s: Sys;
  readonly spec: MapTypeInfo;
  readonly shape: Shape;
  readonly keyCodec: Codec<unknown> | undefined;
  readonly valueCodec: Codec<unknown> | undefined;
  /** One value, or one per possible CPU. */
  readonly layout: ValueLayout;
  /** Values per key: possible CPUs for per-CPU maps, else 1. */
  readonly ncpu: number;
  /** Bytes between two CPUs' values (value size rounded up to 8 for per-CPU maps). */
  readonly stride: number;
  // Scratch: one attr for lookup/update/delete/lookup-and-delete, one for get_next_key.
  readonly elem: Uint8Array<ArrayBuffer>;
  readonly elemView: DataView;
  readonly next: Uint8Array<ArrayBuffer>;
  readonly nextView: DataView;
  readonly key: Uint8Array<ArrayBuffer>;
  readonly keyView: DataView;
  readonly key2: Uint8Array<ArrayBuffer>;
  readonly key2View: DataView;
  readonly value: Uint8Array<ArrayBuffer>;
  readonly valueView: DataView;
  readonly keyAddr: bigint;
  /** Key size, value size (one CPU) and value bytes (all CPUs), as plain fields for hot paths. */
  readonly ks: number;
  readonly vs: number;
  readonly vb: number;
  readonly pcpu: boolean;
  /** Whether get/set/delete are possible (keyed type, operation supported). */
  readonly canGet: boolean;
  readonly canSet: boolean;
  readonly canDelete: boolean;
  id: number;
  pinnedAt: string | undefined;
  /** Set once the kernel refused a batch command: later calls go element by element. */
  batchOff = false;

  /** Wraps an owned map fd whose shape is known; takes ownership only once nothing can throw. */
  constructor(fd: number, shape: Shape, codecs: MapCodecs<unknown, unknown>, id = 0) {
    this.fd = fd;
    this.s = sys();
    this.spec = mapTypeInfo(shape.type);
    this.shape = shape;
    this.id = id;
    this.pinnedAt = undefined;
    this.keyCodec = codecs.key;
    this.valueCodec = codecs.value;
    const layout = perCpuLayout(this.spec.perCpu, shape.valueSize);
    this.layout = layout;
    this.ncpu = layout.ncpu;
    this.stride = layout.stride;
    this.ks = shape.keySize;
    this.vs = shape.valueSize;
    this.vb = layout.bytes;
    this.pcpu = this.spec.perCpu;
    const keyed = this.spec.key !== "none";
    this.canGet = keyed && this.spec.ops.lookup === true;
    this.canSet = keyed && this.spec.ops.update === true;
    this.canDelete = keyed && this.spec.ops.delete === true;

    const s = this.s;
    const keyRoom = Math.max(8, Math.ceil(shape.keySize / 8) * 8);
    this.key = alloc(keyRoom);
    this.key2 = alloc(keyRoom);
    this.value = alloc(Math.max(8, Math.ceil(this.vb / 8) * 8));
    this.keyView = new DataView(this.key.buffer);
    this.key2View = new DataView(this.key2.buffer);
    this.valueView = new DataView(this.value.buffer);
    this.keyAddr = shape.keySize > 0 ? s.addressOf(this.key) : 0n;

    this.elem = alloc(ELEM_SIZE);
    this.elemView = new DataView(this.elem.buffer);
    this.elemView.setUint32(OFF_FD, fd, true);
    this.elemView.setBigUint64(OFF_KEY, this.keyAddr, true);
    this.elemView.setBigUint64(OFF_VALUE, this.vb > 0 ? s.addressOf(this.value) : 0n, true);

    this.next = alloc(NEXT_SIZE);
    this.nextView = new DataView(this.next.buffer);
    this.nextView.setUint32(N.map_fd.offset, fd, true);
    this.nextView.setBigUint64(N.next_key.offset, s.addressOf(this.key2), true);
    // Ownership last: if anything above threw, no finalizer will ever close the fd.
    this.owner = new FdHandle(fd, "map");
  }

  /** `hash map "name" (key 4 B, value 8 B)`, for messages. */
  label(): string {
    const name = this.shape.name ? `"${this.shape.name}" ` : "";
    return `${this.spec.name} map ${name}(key ${this.shape.keySize} B, value ${this.shape.valueSize} B)`;
  }

  /** The fd, or {@link MapClosedError} naming `operation` once closed. */
  openFd(operation: string): number {
    const fd = this.fd;
    if (fd < 0) closedCheck(fd, operation, () => this.label());
    return fd;
  }

  /** Throws {@link MapOpNotSupportedError} when the type does not support `op`. */
  require(op: MapOp, operation: string): void {
    const support = this.spec.ops[op];
    if (support !== true) {
      throw new MapOpNotSupportedError(operation, op, this.spec.name, support, this.shape.name);
    }
  }

  /** Requires `op` and a keyed type (not a queue, stack or bloom filter). */
  keyedOnly(operation: string, op: MapOp): void {
    this.require(op, operation);
    if (this.spec.key === "none") {
      throw new MapOpNotSupportedError(operation, op, this.spec.name, {
        errno: "EINVAL",
        why: this.spec.name === "bloom_filter"
          ? "a bloom filter has no keys; use push(value) and has(value)"
          : this.spec.name === "queue" || this.spec.name === "stack"
          ? "queues and stacks have no keys; use push(), pop() and peek()"
          : "this map type has no keys",
      }, this.shape.name);
    }
  }

  /** Requires `op` and a keyless type with values (queue, stack, bloom filter). */
  keyless(operation: string, op: MapOp): void {
    this.require(op, operation);
    if (this.spec.key !== "none" || this.spec.value === "none") {
      throw new MapOpNotSupportedError(operation, op, this.spec.name, {
        errno: "EINVAL",
        why: this.spec.value === "none"
          ? "this map type has no elements"
          : "push/pop/peek belong to queue, stack and bloom filter maps; use set/get/delete",
      }, this.shape.name);
    }
  }

  /** Throws the {@link BpfError} of a failed element command, with what the errno means here. */
  fail(cmd: number, errno: number, operation: string, flags = 0): never {
    throw new BpfError(cmd, errno, this.elemDetail(errno, operation, flags));
  }

  /** What an element command's errno means for this map. */
  elemDetail(errno: number, operation: string, flags: number): string {
    const where = `${operation}() on ${this.label()}`;
    switch (errno) {
      case Errno.E2BIG:
        return this.spec.key === "index"
          ? `${where}: the index is past the end (max_entries ${this.shape.maxEntries})`
          : `${where}: the map is full (max_entries ${this.shape.maxEntries})`;
      case Errno.EEXIST:
        return `${where}: the key already exists and flags are ${flagName(flags)}`;
      case Errno.ENOENT:
        return `${where}: no element with this key` +
          ((flags & 3) === ElemFlag.EXIST ? " (flags EXIST)" : "");
      case Errno.EINVAL:
        return (flags & ElemFlag.LOCK)
          ? `${where}: BPF_F_LOCK needs a value with a bpf_spin_lock described by BTF`
          : `${where}: the kernel refused the arguments (flags ${flagName(flags)})`;
      case Errno.EPERM:
        return `${where}: the map is frozen, or this handle is read-only or write-only ` +
          `(BPF_F_RDONLY/BPF_F_WRONLY), or the map type refuses writes from userspace`;
      case Errno.EBADF:
        return `${where}: the value is not an open file descriptor of the right kind`;
      case Errno.ENOSPC:
        return `${where}: the value buffer is too small for what the kernel returns`;
      default:
        return where;
    }
  }

  /** Entries per batch chunk: the caller's (checked), else max_entries capped at 1024. */
  defaultChunk(chunk: number | undefined): number {
    if (chunk !== undefined) {
      checkBatchChunk(chunk, this.shape.keySize + this.vb);
      return chunk;
    }
    return Math.max(1, Math.min(1024, this.shape.maxEntries || 1024));
  }

  /** What a batch reader needs of the map; `fd` is read at each call (throws once closed). */
  batchSource(): BatchSource {
    // deno-lint-ignore no-this-alias
    const self = this;
    return {
      get fd(): number {
        return self.openFd("fd");
      },
      keySize: this.shape.keySize,
      valueBytes: this.vb,
      label: this.label(),
    };
  }

  /** A batch reader holding its first chunk, or undefined when the kernel has no batch lookup. */
  tryBatchReader(chunk: number, drain: boolean): BatchReader | undefined {
    const reader = new BatchReader(this.batchSource(), chunk, drain);
    try {
      reader.next();
    } catch (e) {
      if (e instanceof BpfError && (e.errno === Errno.ENOTSUPP || e.errno === Errno.EINVAL)) {
        this.batchOff = true; // an older kernel: fall back from now on
        return undefined;
      }
      throw e;
    }
    return reader;
  }

  /** Closes the fd (idempotent); the scratch attrs get an invalid fd. */
  close(): void {
    if (this.fd < 0) return;
    this.fd = -1;
    this.elemView.setUint32(OFF_FD, 0xffffffff, true);
    this.nextView.setUint32(N.map_fd.offset, 0xffffffff, true);
    this.owner.close();
  }
}
