/**
 * Every map type of Linux 6.18 as data: which operations user space may run on it (and what the
 * kernel answers when it may not), whether keys exist and what they are, whether values are
 * per-CPU, which sizes and flags creation needs, and whether it needs BTF. `BpfMap` consults this
 * table instead of special-casing types.
 *
 * The refusal errnos were read from `kernel/bpf/syscall.c` and the types' `bpf_map_ops`, and are
 * checked against the running kernel by `tests/map_types.test.ts`.
 *
 * @module
 */
import { MapFlag } from "../../types/flags.ts";
import { MAP_TYPE_COUNT, MapType, mapTypeByName, mapTypeName } from "../../types/map_type.ts";
import { ArgumentError } from "../errors.ts";

/**
 * A user-space map operation, by the bpf(2) command behind it. Queue and stack `push` is
 * `update`, `peek` is `lookup` and `pop` is `lookupAndDelete`; a bloom filter's `push` is `update`
 * and `has` is `lookup`.
 *
 * @example
 * ```ts
 * import type { MapOp } from "@tsbpf/core";
 * const op: MapOp = "lookupBatch";
 * ```
 */
export type MapOp =
  | "lookup"
  | "update"
  | "delete"
  | "getNextKey"
  | "lookupAndDelete"
  | "lookupBatch"
  | "lookupAndDeleteBatch"
  | "updateBatch"
  | "deleteBatch"
  | "freeze";

/** Every {@link MapOp}, in table order. */
export const MAP_OPS: readonly MapOp[] = [
  "lookup",
  "update",
  "delete",
  "getNextKey",
  "lookupAndDelete",
  "lookupBatch",
  "lookupAndDeleteBatch",
  "updateBatch",
  "deleteBatch",
  "freeze",
];

/**
 * An operation the kernel refuses for a map type: the errno it answers and why.
 *
 * @example
 * ```ts
 * import type { Refusal } from "@tsbpf/core";
 * const r: Refusal = { errno: "EINVAL", why: "array elements always exist" };
 * ```
 */
export interface Refusal {
  /** The errno name the kernel returns (`ENOTSUPP` is the kernel-internal 524). */
  readonly errno: "EINVAL" | "ENOTSUPP" | "EOPNOTSUPP";
  /** A sentence for the error message. */
  readonly why: string;
}

/**
 * What a map's keys are: `data` (bytes the user chooses), `index` (a u32 below max_entries),
 * `fd` (a file descriptor naming the owner: a socket, file, pidfd or cgroup, for local storage),
 * or `none` (queue, stack, bloom filter, ring buffers, arena).
 *
 * @example
 * ```ts
 * import type { MapKeyKind } from "@tsbpf/core";
 * const k: MapKeyKind = "index";
 * ```
 */
export type MapKeyKind = "data" | "index" | "fd" | "none";

/**
 * What a map's values are: `data`; `fd` (written as a file descriptor, read back as an id);
 * `fd-write-only` (written as a file descriptor, not readable from user space); `socket`
 * (written as a socket fd, read back as the socket cookie when the value is 8 bytes); `none`.
 *
 * @example
 * ```ts
 * import type { MapValueKind } from "@tsbpf/core";
 * const v: MapValueKind = "fd";
 * ```
 */
export type MapValueKind = "data" | "fd" | "fd-write-only" | "socket" | "none";

/**
 * How `keys()`/`entries()` walk the map: `batch` (BPF_MAP_LOOKUP_BATCH with a bucket cursor:
 * immune to concurrent deletes), `index` (get_next_key over increasing u32 indices; a restart is
 * recognised by a smaller index and skipped), `seen` (get_next_key in hash order, remembering
 * yielded keys so that a restart after a concurrent delete yields nothing twice), or `none`.
 *
 * @example
 * ```ts
 * import type { MapIteration } from "@tsbpf/core";
 * const it: MapIteration = "batch";
 * ```
 */
export type MapIteration = "batch" | "index" | "seen" | "none";

/**
 * Description of one map type.
 *
 * @example
 * ```ts
 * import { mapTypeInfo } from "@tsbpf/core/map";
 * mapTypeInfo("percpu_hash").perCpu; // true
 * ```
 */
export interface MapTypeInfo {
  /** `bpf_map_type` number. */
  readonly type: number;
  /** Kernel name in lower case, e.g. `"lru_percpu_hash"`. */
  readonly name: string;
  /** Whether user space can create it by itself with BPF_MAP_CREATE and use it. */
  readonly standalone: boolean;
  /** What keys are. */
  readonly key: MapKeyKind;
  /** What the key fd of local storage names. */
  readonly keyFd?: "socket" | "file" | "pidfd" | "cgroup";
  /** What values are. */
  readonly value: MapValueKind;
  /** Whether user space sees one value per possible CPU (each rounded up to 8 bytes). */
  readonly perCpu: boolean;
  /** Required key size, when fixed. */
  readonly keySize?: number;
  /** Allowed value sizes, when restricted. */
  readonly valueSizes?: readonly number[];
  /** Value size used when neither `valueSize` nor a value codec is given. */
  readonly defaultValueSize?: number;
  /** max_entries: any positive count, `0` (local storage), or a number of pages (arena). */
  readonly maxEntries: "positive" | "zero" | "pages" | "ringbuf-bytes";
  /** Flags creation needs; `BpfMap.create` adds them. */
  readonly requiredFlags: number;
  /** Whether BTF for key and value is `required`, `optional` or not accepted (`none`). */
  readonly btf: "required" | "optional" | "none";
  /** Whether `BPF_F_LOCK` can apply (values with a `bpf_spin_lock`, described by BTF). */
  readonly lock: boolean;
  /** How iteration works. */
  readonly iterate: MapIteration;
  /** Support of each user-space operation: `true`, or how the kernel refuses it. */
  readonly ops: Readonly<Record<MapOp, true | Refusal>>;
  /** What else to know (privileges, value meaning). */
  readonly note?: string;
}

const NOTSUPP = (why: string): Refusal => ({ errno: "ENOTSUPP", why });
const OPNOTSUPP = (why: string): Refusal => ({ errno: "EOPNOTSUPP", why });
const INVAL = (why: string): Refusal => ({ errno: "EINVAL", why });

const NO_BATCH = NOTSUPP("this map type has no batch operations");
const NO_LAD = NOTSUPP(
  "lookup-and-delete exists only for hash maps, stack traces, queues and stacks",
);

/** All operations of a hash table. */
const HASH_OPS: Record<MapOp, true | Refusal> = {
  lookup: true,
  update: true,
  delete: true,
  getNextKey: true,
  lookupAndDelete: true,
  lookupBatch: true,
  lookupAndDeleteBatch: true,
  updateBatch: true,
  deleteBatch: true,
  freeze: true,
};

/** Plain array: elements always exist. */
const ARRAY_OPS: Record<MapOp, true | Refusal> = {
  lookup: true,
  update: true,
  delete: INVAL("array elements always exist and cannot be deleted; overwrite them with zeros"),
  getNextKey: true,
  lookupAndDelete: NO_LAD,
  lookupBatch: true,
  lookupAndDeleteBatch: NOTSUPP("array elements cannot be deleted"),
  updateBatch: true,
  deleteBatch: NOTSUPP("array elements cannot be deleted"),
  freeze: true,
};

/** Arrays of file descriptors (prog_array and friends). */
function fdArrayOps(lookup: true | Refusal, batch: boolean): Record<MapOp, true | Refusal> {
  return {
    lookup,
    update: true,
    delete: true,
    getNextKey: true,
    lookupAndDelete: NO_LAD,
    lookupBatch: batch ? true : NO_BATCH,
    lookupAndDeleteBatch: NO_BATCH,
    updateBatch: batch ? true : NO_BATCH,
    deleteBatch: NO_BATCH,
    freeze: true,
  };
}

/** lookup/update/delete/get_next_key only. */
const BASIC_OPS: Record<MapOp, true | Refusal> = {
  lookup: true,
  update: true,
  delete: true,
  getNextKey: true,
  lookupAndDelete: NO_LAD,
  lookupBatch: NO_BATCH,
  lookupAndDeleteBatch: NO_BATCH,
  updateBatch: NO_BATCH,
  deleteBatch: NO_BATCH,
  freeze: true,
};

const QUEUE_OPS: Record<MapOp, true | Refusal> = {
  lookup: true, // peek
  update: true, // push
  delete: INVAL("queues and stacks have no keys; pop() removes the next element"),
  getNextKey: INVAL("queues and stacks have no keys to iterate"),
  lookupAndDelete: true, // pop
  lookupBatch: NO_BATCH,
  lookupAndDeleteBatch: NO_BATCH,
  updateBatch: NO_BATCH,
  deleteBatch: NO_BATCH,
  freeze: true,
};

const LOCAL_STORAGE_OPS: Record<MapOp, true | Refusal> = {
  lookup: true,
  update: true,
  delete: true,
  getNextKey: NOTSUPP(
    "local storage is keyed by its owner's file descriptor and cannot be iterated",
  ),
  lookupAndDelete: NO_LAD,
  lookupBatch: NO_BATCH,
  lookupAndDeleteBatch: NO_BATCH,
  updateBatch: NO_BATCH,
  deleteBatch: NO_BATCH,
  freeze: true,
};

const RINGBUF_REFUSAL = NOTSUPP(
  "ring buffers carry records through shared memory (mmap), not map elements",
);
const RINGBUF_OPS: Record<MapOp, true | Refusal> = {
  lookup: RINGBUF_REFUSAL,
  update: RINGBUF_REFUSAL,
  delete: RINGBUF_REFUSAL,
  getNextKey: RINGBUF_REFUSAL,
  lookupAndDelete: NO_LAD,
  lookupBatch: NO_BATCH,
  lookupAndDeleteBatch: NO_BATCH,
  updateBatch: NO_BATCH,
  deleteBatch: NO_BATCH,
  freeze: true,
};

type Row = Omit<MapTypeInfo, "type" | "name">;

const hashRow = (perCpu: boolean, lru: boolean): Row => ({
  standalone: true,
  key: "data",
  value: "data",
  perCpu,
  maxEntries: "positive",
  requiredFlags: 0,
  btf: "optional",
  lock: !perCpu,
  iterate: "batch",
  ops: HASH_OPS,
  note: lru ? "LRU: inserting into a full map evicts the least recently used element" : undefined,
});

const arrayRow = (perCpu: boolean): Row => ({
  standalone: true,
  key: "index",
  keySize: 4,
  value: "data",
  perCpu,
  maxEntries: "positive",
  requiredFlags: 0,
  btf: "optional",
  lock: !perCpu,
  iterate: "index",
  ops: ARRAY_OPS,
  note: "every index below max_entries exists, zero-filled at creation; NOEXIST is refused",
});

const localStorageRow = (keyFd: "socket" | "file" | "pidfd" | "cgroup", note: string): Row => ({
  standalone: true,
  key: "fd",
  keyFd,
  keySize: 4,
  value: "data",
  perCpu: false,
  maxEntries: "zero",
  requiredFlags: MapFlag.NO_PREALLOC,
  btf: "required",
  lock: true,
  iterate: "none",
  ops: LOCAL_STORAGE_OPS,
  note,
});

const ROWS: Record<string, Row> = {
  hash: hashRow(false, false),
  array: arrayRow(false),
  prog_array: {
    standalone: true,
    key: "index",
    keySize: 4,
    value: "fd",
    valueSizes: [4],
    defaultValueSize: 4,
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "index",
    ops: fdArrayOps(true, false),
    note: "values are program fds when written and program ids when read",
  },
  perf_event_array: {
    standalone: true,
    key: "index",
    keySize: 4,
    value: "fd-write-only",
    valueSizes: [4],
    defaultValueSize: 4,
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "index",
    ops: fdArrayOps(NOTSUPP("perf event arrays cannot be read from user space"), false),
    note: "values are perf event fds (perf_event_open), usually one per CPU",
  },
  percpu_hash: hashRow(true, false),
  percpu_array: arrayRow(true),
  stack_trace: {
    standalone: true,
    key: "index",
    keySize: 4,
    value: "data",
    defaultValueSize: 127 * 8,
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "index",
    ops: {
      ...BASIC_OPS,
      update: INVAL("stack traces are written only by bpf_get_stackid() in programs"),
      lookupAndDelete: true, // since 6.17
    },
    note: "value size is a multiple of 8 (u64 instruction pointers); ids are stack ids",
  },
  cgroup_array: {
    standalone: true,
    key: "index",
    keySize: 4,
    value: "fd-write-only",
    valueSizes: [4],
    defaultValueSize: 4,
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "index",
    ops: fdArrayOps(NOTSUPP("cgroup arrays cannot be read from user space"), false),
    note: "values are cgroup directory fds",
  },
  lru_hash: hashRow(false, true),
  lru_percpu_hash: hashRow(true, true),
  lpm_trie: {
    standalone: true,
    key: "data",
    value: "data",
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: MapFlag.NO_PREALLOC,
    btf: "optional",
    lock: false,
    iterate: "seen",
    ops: {
      ...HASH_OPS,
      lookupAndDelete: NO_LAD,
      lookupAndDeleteBatch: NOTSUPP("LPM tries have no lookup-and-delete batch"),
    },
    note: "keys are struct bpf_lpm_trie_key_u8 { u32 prefixlen; u8 data[] } (codec: lpmKey(n)); " +
      "lookup is longest-prefix match",
  },
  array_of_maps: {
    standalone: true,
    key: "index",
    keySize: 4,
    value: "fd",
    valueSizes: [4],
    defaultValueSize: 4,
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "index",
    ops: fdArrayOps(true, true),
    note: "needs innerMap (a map of the inner shape); values are map fds written, map ids read",
  },
  hash_of_maps: {
    standalone: true,
    key: "data",
    value: "fd",
    valueSizes: [4],
    defaultValueSize: 4,
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "batch",
    ops: { ...HASH_OPS, lookupAndDelete: NO_LAD },
    note: "needs innerMap (a map of the inner shape); values are map fds written, map ids read",
  },
  devmap: {
    standalone: true,
    key: "index",
    keySize: 4,
    value: "data",
    valueSizes: [4, 8],
    defaultValueSize: 4,
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "index",
    ops: BASIC_OPS,
    note: "values are struct bpf_devmap_val { u32 ifindex; u32 prog fd/id } (4 or 8 bytes); " +
      "needs CAP_NET_ADMIN",
  },
  sockmap: {
    standalone: true,
    key: "index",
    keySize: 4,
    value: "socket",
    valueSizes: [4, 8],
    defaultValueSize: 8,
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "index",
    ops: BASIC_OPS,
    note: "values are socket fds written, socket cookies read (8-byte values only); " +
      "TCP sockets must be listening or established, UDP sockets bound, unix sockets connected",
  },
  cpumap: {
    standalone: true,
    key: "index",
    keySize: 4,
    value: "data",
    valueSizes: [4, 8],
    defaultValueSize: 4,
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "index",
    ops: BASIC_OPS,
    note: "key is a CPU number; values are struct bpf_cpumap_val { u32 qsize; u32 prog fd/id }",
  },
  xskmap: {
    standalone: true,
    key: "index",
    keySize: 4,
    value: "fd-write-only",
    valueSizes: [4],
    defaultValueSize: 4,
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "index",
    ops: {
      ...BASIC_OPS,
      lookup: OPNOTSUPP("XSK maps cannot be read from user space"),
    },
    note: "values are AF_XDP socket fds (bound sockets only)",
  },
  sockhash: {
    standalone: true,
    key: "data",
    value: "socket",
    valueSizes: [4, 8],
    defaultValueSize: 8,
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "seen",
    ops: BASIC_OPS,
    note: "values are socket fds written, socket cookies read (8-byte values only)",
  },
  cgroup_storage: {
    standalone: false,
    key: "data",
    value: "data",
    perCpu: false,
    maxEntries: "zero",
    requiredFlags: 0,
    btf: "optional",
    lock: true,
    iterate: "seen",
    ops: {
      ...BASIC_OPS,
      delete: INVAL("cgroup storage lives as long as the program's attachment"),
    },
    note: "elements exist only while a program using the map is attached to a cgroup",
  },
  reuseport_sockarray: {
    standalone: true,
    key: "index",
    keySize: 4,
    value: "socket",
    valueSizes: [4, 8],
    defaultValueSize: 8,
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "index",
    ops: BASIC_OPS,
    note: "values are SO_REUSEPORT socket fds written, socket cookies read (8-byte values only)",
  },
  percpu_cgroup_storage: {
    standalone: false,
    key: "data",
    value: "data",
    perCpu: true,
    maxEntries: "zero",
    requiredFlags: 0,
    btf: "optional",
    lock: false,
    iterate: "seen",
    ops: {
      ...BASIC_OPS,
      delete: INVAL("cgroup storage lives as long as the program's attachment"),
    },
    note: "elements exist only while a program using the map is attached to a cgroup",
  },
  queue: {
    standalone: true,
    key: "none",
    keySize: 0,
    value: "data",
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "none",
    ops: QUEUE_OPS,
    note:
      "FIFO: push() appends (with EXIST, a full queue drops its oldest), pop()/peek() the oldest",
  },
  stack: {
    standalone: true,
    key: "none",
    keySize: 0,
    value: "data",
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "none",
    ops: QUEUE_OPS,
    note: "LIFO: push() adds (with EXIST, a full stack drops its oldest), pop()/peek() the newest",
  },
  sk_storage: localStorageRow("socket", "keys are socket fds; values live as long as the socket"),
  devmap_hash: {
    standalone: true,
    key: "data",
    keySize: 4,
    value: "data",
    valueSizes: [4, 8],
    defaultValueSize: 4,
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "seen",
    ops: BASIC_OPS,
    note: "values are struct bpf_devmap_val { u32 ifindex; u32 prog fd/id }; needs CAP_NET_ADMIN",
  },
  struct_ops: {
    standalone: false,
    key: "index",
    keySize: 4,
    value: "data",
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "required",
    lock: false,
    iterate: "index",
    ops: {
      ...BASIC_OPS,
      freeze: NOTSUPP("struct_ops maps cannot be frozen"),
    },
    note: "needs the vmlinux BTF id of a kernel struct_ops type (btf_vmlinux_value_type_id)",
  },
  ringbuf: {
    standalone: true,
    key: "none",
    keySize: 0,
    value: "none",
    valueSizes: [0],
    defaultValueSize: 0,
    perCpu: false,
    maxEntries: "ringbuf-bytes",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "none",
    ops: RINGBUF_OPS,
    note: "max_entries is the buffer size in bytes: a power of two and a multiple of the page size",
  },
  inode_storage: localStorageRow(
    "file",
    "keys are fds of open files (their inodes); needs the BPF LSM (CONFIG_BPF_LSM)",
  ),
  task_storage: localStorageRow(
    "pidfd",
    "keys are pidfds (pidfd_open); values live as long as the task",
  ),
  bloom_filter: {
    standalone: true,
    key: "none",
    keySize: 0,
    value: "data",
    perCpu: false,
    maxEntries: "positive",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "none",
    ops: {
      lookup: true, // has
      update: true, // push
      delete: OPNOTSUPP("elements of a bloom filter cannot be removed"),
      getNextKey: OPNOTSUPP("a bloom filter has no keys to iterate"),
      lookupAndDelete: NO_LAD,
      lookupBatch: NO_BATCH,
      lookupAndDeleteBatch: NO_BATCH,
      updateBatch: NO_BATCH,
      deleteBatch: NO_BATCH,
      freeze: true,
    },
    note:
      "push(value) adds, has(value) answers false (certainly absent) or true (probably present); " +
      "mapExtra = number of hash functions (1..15, default 5)",
  },
  user_ringbuf: {
    standalone: true,
    key: "none",
    keySize: 0,
    value: "none",
    valueSizes: [0],
    defaultValueSize: 0,
    perCpu: false,
    maxEntries: "ringbuf-bytes",
    requiredFlags: 0,
    btf: "none",
    lock: false,
    iterate: "none",
    ops: RINGBUF_OPS,
    note: "user space produces records through mmap; programs drain with bpf_user_ringbuf_drain()",
  },
  cgrp_storage: localStorageRow(
    "cgroup",
    "keys are cgroup directory fds; values live as long as the cgroup",
  ),
  arena: {
    standalone: true,
    key: "none",
    keySize: 0,
    value: "none",
    valueSizes: [0],
    defaultValueSize: 0,
    perCpu: false,
    maxEntries: "pages",
    requiredFlags: MapFlag.MMAPABLE,
    btf: "none",
    lock: false,
    iterate: "none",
    ops: {
      lookup: INVAL("an arena is memory shared through mmap, not elements"),
      update: OPNOTSUPP("an arena is memory shared through mmap, not elements"),
      delete: OPNOTSUPP("an arena is memory shared through mmap, not elements"),
      getNextKey: OPNOTSUPP("an arena has no keys"),
      lookupAndDelete: NO_LAD,
      lookupBatch: NO_BATCH,
      lookupAndDeleteBatch: NO_BATCH,
      updateBatch: NO_BATCH,
      deleteBatch: NO_BATCH,
      freeze: true,
    },
    note: "max_entries is the size in pages; mapExtra is the user address to mmap it at (or 0)",
  },
};

function build(): readonly MapTypeInfo[] {
  const out: MapTypeInfo[] = [];
  for (let type = 1; type < MAP_TYPE_COUNT; type++) {
    const name = mapTypeName(type) ?? `type ${type}`;
    const row = ROWS[name];
    if (row === undefined) throw new Error(`map type table has no row for ${name} (${type})`);
    const info: MapTypeInfo = { type, name, ...row };
    if (info.note === undefined) delete (info as { note?: string }).note;
    out.push(Object.freeze(info));
  }
  return Object.freeze(out);
}

/**
 * The table: one {@link MapTypeInfo} per map type of Linux 6.18 (`MapType.HASH` … `MapType.ARENA`),
 * in type order.
 *
 * @example
 * ```ts
 * import { MAP_TYPES } from "@tsbpf/core/map";
 * MAP_TYPES.filter((t) => t.perCpu).map((t) => t.name);
 * // ["percpu_hash", "percpu_array", "lru_percpu_hash", "percpu_cgroup_storage"]
 * ```
 */
export const MAP_TYPES: readonly MapTypeInfo[] = build();

/**
 * A map type given as a `bpf_map_type` number or a kernel name in lower case (`"hash"`,
 * `"percpu_array"`); names of the `BPF_MAP_TYPE_` constants are accepted in any case.
 *
 * @example
 * ```ts
 * import type { MapTypeInput } from "@tsbpf/core";
 * const t: MapTypeInput = "lru_hash";
 * ```
 */
export type MapTypeInput = number | string;

/**
 * Resolves a map type name or number to its number.
 *
 * @throws {ArgumentError} for an unknown name or number.
 * @example
 * ```ts
 * import { resolveMapType } from "@tsbpf/core/map";
 * resolveMapType("percpu_array"); // 6
 * resolveMapType("BPF_MAP_TYPE_HASH"); // 1
 * ```
 */
export function resolveMapType(input: MapTypeInput): number {
  if (typeof input === "number") {
    if (!Number.isInteger(input) || input <= MapType.UNSPEC || input >= MAP_TYPE_COUNT) {
      throw new ArgumentError(
        "unknown",
        `unknown map type ${input}; this kernel knows 1..${MAP_TYPE_COUNT - 1}`,
      );
    }
    return input;
  }
  if (typeof input !== "string") {
    throw new ArgumentError(
      "map",
      `map type must be a number or a name such as "hash", got ${typeof input}`,
    );
  }
  const name = input.replace(/^BPF_MAP_TYPE_/i, "").toLowerCase();
  const t = mapTypeByName(name);
  if (t === undefined || t === MapType.UNSPEC) {
    const close = MAP_TYPES.filter((m) => m.name.includes(name) || name.includes(m.name))
      .map((m) => `"${m.name}"`);
    throw new ArgumentError(
      "unknown",
      `unknown map type "${input}"` +
        (close.length > 0 ? `; did you mean ${close.join(" or ")}?` : "") +
        ` Known: ${MAP_TYPES.map((m) => m.name).join(", ")}`,
    );
  }
  return t;
}

/**
 * The table row of a map type.
 *
 * @throws {ArgumentError} for an unknown type.
 * @example
 * ```ts
 * import { mapTypeInfo } from "@tsbpf/core/map";
 * mapTypeInfo("queue").key; // "none"
 * mapTypeInfo(2).ops.delete; // { errno: "EINVAL", why: "array elements always exist…" }
 * ```
 */
export function mapTypeInfo(type: MapTypeInput): MapTypeInfo {
  return MAP_TYPES[resolveMapType(type) - 1];
}
