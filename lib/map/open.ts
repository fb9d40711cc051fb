/**
 * Where a map's fd comes from: `BPF_MAP_CREATE` (with the shape resolved from the type table and
 * codecs, and generated BTF where the kernel needs it), or an existing map by fd, id or bpffs pin,
 * checked before it is adopted. Returns the handle a `BpfMap` wraps. Internal to `lib/map/`.
 *
 * @module
 */
import { MAP_CREATE_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { MapFlag } from "../../types/flags.ts";
import { Attr } from "../attr.ts";
import { hasSpinLock, mapBtf } from "../btf/builder.ts";
import { type Codec, describeValue } from "../codec/codec.ts";
import type { FdLike } from "../codec/special.ts";
import { memlockCharged } from "../caps.ts";
import { ArgumentError, BpfError, isResourceErrno, ResourceError } from "../errors.ts";
import { bpfObjectKind, type FdHandle } from "../fd.ts";
import { openById } from "../ids.ts";
import { openPinned } from "../pin.ts";
import { mapCreate } from "../sys/bpf_cmds.ts";
import { sys } from "../sys/mod.ts";
import { loadBtf } from "./btf_load.ts";
import { MapHandle } from "./handle.ts";
import { type MapInfo, readMapInfo } from "./info.ts";
import { mapTypeInfo, type MapTypeInput, resolveMapType } from "./map_types.ts";
import { checkCodecs, createDetail, resolveShape } from "./shape.ts";
import type { MapCodecs, MapCreateOptions, Shape } from "./types.ts";

function fdOf(x: FdLike, what: string): number {
  const fd = typeof x === "number" ? x : x?.fd;
  if (!Number.isInteger(fd) || (fd as number) < 0) {
    throw new ArgumentError(
      what,
      `${what} must be a file descriptor or an object with .fd, got ${describeValue(x)}`,
    );
  }
  return fd as number;
}

/** `BPF_MAP_CREATE` from `BpfMap.create` options; the handle owns the new fd. */
export function createMap<K, V>(
  options: MapCreateOptions<K, V> & { type: MapTypeInput },
): MapHandle {
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
    throw new ArgumentError(
      spec.name,
      `${spec.name} needs innerMap: a map with the shape of the maps it will hold`,
    );
  }
  if (options.numaNode !== undefined) attr.set("numa_node", options.numaNode);
  if (options.ifindex !== undefined) attr.set("map_ifindex", options.ifindex);
  if (options.token !== undefined) {
    attr.set("map_token_fd", options.token.fd).set("map_flags", shape.flags | MapFlag.TOKEN_FD);
  }
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
        throw new ArgumentError("btf", `${spec.name} maps do not take BTF for keys and values`);
      }
      const keyDesc = spec.key === "fd" ? 4 : (options.key as Codec<unknown>) ?? shape.keySize;
      const described = mapBtf(keyDesc, (options.value as Codec<unknown>) ?? shape.valueSize);
      btf = loadBtf(described.blob);
      attr.set("btf_fd", btf.fd)
        .set("btf_key_type_id", described.keyTypeId)
        .set("btf_value_type_id", described.valueTypeId);
    }
    const fd = mapCreate(attr);
    if (fd < 0) {
      if (isResourceErrno(-fd, -fd === Errno.EPERM && memlockCharged())) {
        throw new ResourceError(BpfCmd.MAP_CREATE, -fd, `${spec.name} map`);
      }
      throw new BpfError(BpfCmd.MAP_CREATE, -fd, createDetail(spec, shape, -fd));
    }
    try {
      return new MapHandle(fd, shape, options as MapCodecs<unknown, unknown>);
    } catch (e) {
      sys().close(fd);
      throw e;
    }
  } finally {
    // The map holds its own reference to the BTF object.
    btf?.close();
  }
}

/**
 * Checks `fd` (an integer, open, a BPF map, codecs that fit), then wraps it. On failure the fd is
 * closed only when `owned` (opened here); a caller's fd is left as it was.
 */
export function adoptMap<K, V>(fd: number, codecs: MapCodecs<K, V>, owned: boolean): MapHandle {
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
    return new MapHandle(fd, shape, codecs as MapCodecs<unknown, unknown>, info.id);
  } catch (e) {
    if (owned) sys().close(fd);
    throw e;
  }
}

/** Opens the map with the given id (`BPF_MAP_GET_FD_BY_ID`); the handle owns the fd. */
export function openMapById<K, V>(id: number, codecs: MapCodecs<K, V>): MapHandle {
  return adoptMap(openById(BpfCmd.MAP_GET_FD_BY_ID, id, "map"), codecs, true);
}

/** Opens a map pinned in bpffs (`BPF_OBJ_GET`); the handle owns the fd. */
export function openPinnedMap<K, V>(path: string, codecs: MapCodecs<K, V>): MapHandle {
  return adoptMap(openPinned(path), codecs, true);
}
