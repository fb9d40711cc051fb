/**
 * Creating struct_ops maps: `BPF_MAP_CREATE` with the kernel's `bpf_struct_ops_<name>` value type
 * (`btf_vmlinux_value_type_id`) and the object's BTF.
 *
 * @module
 */
import { MAP_CREATE_ATTR } from "../../types/attr.ts";
import { MapType } from "../../types/map_type.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Attr } from "../attr.ts";
import type { Btf } from "../btf/btf.ts";
import { BpfError } from "../errors.ts";
import { BpfMap } from "../map/map.ts";
import { mapCreate } from "../sys/bpf_cmds.ts";
import { ObjectError } from "../elf/error.ts";
import type { MapSpec } from "../elf/spec.ts";
import { kernelStruct } from "../elf/struct_ops.ts";

/**
 * Creates struct_ops map `m` with the kernel's `bpf_struct_ops_<name>` value type; `btfFd` is the
 * object's loaded BTF (undefined when it did not load: then the map cannot be created, as the
 * kernel wants it).
 *
 * @throws {ObjectError} naming the map when the kernel does not know the struct or refuses the map.
 * @example
 * ```ts
 * import { createStructOpsMap } from "./struct_ops.ts";
 * import { kernelBtf, ObjectSpec } from "@tsbpf/core/elf";
 * const spec = ObjectSpec.parse(Deno.readFileSync("tcp_ca.bpf.o"));
 * declare const btfFd: number; // the object's BTF, loaded
 * using map = createStructOpsMap(spec.map("tcp_ca"), kernelBtf(), "tcp_ca", btfFd, undefined);
 * ```
 */
export function createStructOpsMap(
  m: MapSpec,
  kernel: Btf,
  name: string,
  btfFd: number | undefined,
  btfError: Error | undefined,
): BpfMap {
  const { value } = kernelStruct(m, kernel);
  if (btfFd === undefined) {
    throw new ObjectError(
      `struct_ops map ${m.name} (section "${m.section}"): the kernel needs the object's BTF to ` +
        `create it, and it did not load${btfError ? `: ${btfError.message}` : ""}`,
    );
  }
  const attr = new Attr(MAP_CREATE_ATTR);
  attr.set("map_type", MapType.STRUCT_OPS).set("key_size", 4).set("value_size", value.size)
    .set("max_entries", 1).set("map_flags", m.flags).set("btf_fd", btfFd)
    .set("btf_vmlinux_value_type_id", value.id);
  attr.setBytes("map_name", new TextEncoder().encode(name));
  const fd = mapCreate(attr);
  if (fd < 0) {
    throw new ObjectError(
      `struct_ops map ${m.name} (section "${m.section}"): ${
        new BpfError(BpfCmd.MAP_CREATE, -fd).message
      }`,
    );
  }
  return BpfMap.fromFd(fd);
}
