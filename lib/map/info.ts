/**
 * `struct bpf_map_info`, read with `BPF_OBJ_GET_INFO_BY_FD`.
 *
 * @module
 */
import { OBJ_GET_INFO_BY_FD_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { MAP_INFO_LAYOUT } from "../../types/info.ts";
import { mapTypeName } from "../../types/map_type.ts";
import { Attr } from "../attr.ts";
import { BpfError } from "../errors.ts";
import { readCString } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { objGetInfoByFd } from "../sys/bpf_cmds.ts";

/**
 * What the kernel reports about a map.
 *
 * @example
 * ```ts
 * import { BpfMap, type MapInfo, u32 } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 4 });
 * const info: MapInfo = map.info();
 * console.log(info.id, info.typeName, info.maxEntries); // … "array" 4
 * ```
 */
export interface MapInfo {
  /** Map type number. */
  type: number;
  /** Map type name, e.g. `"hash"`. */
  typeName: string;
  /** Kernel id (stable while the map exists). */
  id: number;
  /** Key size in bytes. */
  keySize: number;
  /** Value size in bytes (of one CPU's value, for per-CPU maps). */
  valueSize: number;
  /** max_entries. */
  maxEntries: number;
  /** map_flags (`MapFlag`). */
  flags: number;
  /** Name given at creation. */
  name: string;
  /** ifindex of the device a map is offloaded to, 0 when none. */
  ifindex: number;
  /** BTF object id, 0 when the map has no BTF. */
  btfId: number;
  /** BTF type id of the key. */
  btfKeyTypeId: number;
  /** BTF type id of the value. */
  btfValueTypeId: number;
  /** BTF type id of a struct_ops value in vmlinux BTF. */
  btfVmlinuxValueTypeId: number;
  /** id of the vmlinux BTF object (struct_ops). */
  btfVmlinuxId: number;
  /** map_extra (bloom filter hash count, arena address). */
  mapExtra: bigint;
  /** Network namespace device of an offloaded map. */
  netnsDev: bigint;
  /** Network namespace inode of an offloaded map. */
  netnsIno: bigint;
}

/**
 * Reads `struct bpf_map_info` of a map fd.
 *
 * @throws {BpfError} e.g. `EBADF`/`EINVAL` when `fd` is not a map.
 * @example
 * ```ts
 * import { BpfMap, readMapInfo, u32 } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 4 });
 * readMapInfo(map.fd).maxEntries; // 4
 * ```
 */
export function readMapInfo(fd: number): MapInfo {
  const s = sys();
  const info = new Attr(MAP_INFO_LAYOUT);
  const attr = new Attr(OBJ_GET_INFO_BY_FD_ATTR)
    .set("bpf_fd", fd)
    .set("info_len", info.size)
    .setU64("info", s.addressOf(info.bytes));
  const r = objGetInfoByFd(attr, info.bytes);
  if (r < 0) throw new BpfError(BpfCmd.OBJ_GET_INFO_BY_FD, -r, `fd ${fd} (map info)`);
  const type = info.get("type");
  return {
    type,
    typeName: mapTypeName(type) ?? `type ${type}`,
    id: info.get("id"),
    keySize: info.get("key_size"),
    valueSize: info.get("value_size"),
    maxEntries: info.get("max_entries"),
    flags: info.get("map_flags"),
    name: readCString(info.getBytes("name")),
    ifindex: info.get("ifindex"),
    btfId: info.get("btf_id"),
    btfKeyTypeId: info.get("btf_key_type_id"),
    btfValueTypeId: info.get("btf_value_type_id"),
    btfVmlinuxValueTypeId: info.get("btf_vmlinux_value_type_id"),
    btfVmlinuxId: info.get("btf_vmlinux_id"),
    mapExtra: info.getU64("map_extra"),
    netnsDev: info.getU64("netns_dev"),
    netnsIno: info.getU64("netns_ino"),
  };
}
