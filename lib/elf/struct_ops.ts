/**
 * struct_ops, the pure half: maps of kind `struct_ops` (from `.struct_ops` / `.struct_ops.link`
 * variables) take the kernel's `bpf_struct_ops_<name>` value type, their programs load as
 * `BPF_PROG_TYPE_STRUCT_OPS` with `attach_btf_id` = the struct and `expected_attach_type` = the
 * member index, and the value (data members and program fds) is written when the map is
 * registered.
 *
 * @module
 */
import type { Btf } from "../btf/btf.ts";
import type { BtfStruct } from "../btf/types.ts";
import { ObjectError } from "./error.ts";
import type { MapSpec, ObjectSpec, ProgramSpec } from "./spec.ts";

/**
 * Where a struct_ops program plugs in.
 *
 * @example
 * ```ts
 * import { type StructOpsSlot, structOpsSlot } from "./struct_ops.ts";
 * import { kernelBtf } from "./vmlinux.ts";
 * import { ObjectSpec } from "@tsbpf/core/elf";
 * const spec = ObjectSpec.parse(Deno.readFileSync("tcp_ca.bpf.o"));
 * const slot: StructOpsSlot | undefined = structOpsSlot(spec, spec.program("tsbpf_init"), kernelBtf());
 * slot?.memberIndex; // expected_attach_type
 * ```
 */
export interface StructOpsSlot {
  /** The map whose struct holds the program. */
  readonly map: MapSpec;
  /** The member's name. */
  readonly member: string;
  /** `attach_btf_id`: the struct's id in the kernel's BTF. */
  readonly structId: number;
  /** `expected_attach_type`: the member's index. */
  readonly memberIndex: number;
}

/**
 * The kernel's struct of struct_ops map `m` and its `bpf_struct_ops_<name>` value type.
 *
 * @throws {ObjectError} naming the map when the kernel does not know the struct.
 * @example
 * ```ts
 * import { kernelStruct } from "./struct_ops.ts";
 * import { kernelBtf } from "./vmlinux.ts";
 * import { ObjectSpec } from "@tsbpf/core/elf";
 * const spec = ObjectSpec.parse(Deno.readFileSync("tcp_ca.bpf.o"));
 * kernelStruct(spec.map("tcp_ca"), kernelBtf()).value.size;
 * ```
 */
export function kernelStruct(m: MapSpec, kernel: Btf): { st: BtfStruct; value: BtfStruct } {
  const name = m.structOps!.typeName;
  const st = kernel.find("struct", name);
  const value = kernel.find("struct", `bpf_struct_ops_${name}`);
  if (st === undefined || value === undefined) {
    throw new ObjectError(
      `struct_ops map ${m.name} (section "${m.section}"): the kernel does not know struct_ops ` +
        `type struct ${name} (no struct ${name} / bpf_struct_ops_${name} in its BTF)`,
    );
  }
  return { st, value };
}

/**
 * The struct_ops map and member that use program `p`, or undefined when no struct_ops map refers
 * to it.
 *
 * @throws {ObjectError} when the kernel does not know the struct, or has no such member.
 * @example
 * ```ts
 * import { structOpsSlot } from "./struct_ops.ts";
 * import { kernelBtf } from "./vmlinux.ts";
 * import { ObjectSpec } from "@tsbpf/core/elf";
 * const spec = ObjectSpec.parse(Deno.readFileSync("tcp_ca.bpf.o"));
 * structOpsSlot(spec, spec.program("tsbpf_init"), kernelBtf())?.structId;
 * ```
 */
export function structOpsSlot(
  spec: ObjectSpec,
  p: ProgramSpec,
  kernel: Btf,
): StructOpsSlot | undefined {
  for (const m of spec.maps) {
    if (m.structOps === undefined) continue;
    for (const [member, prog] of Object.entries(m.structOps.programs)) {
      if (prog !== p.name) continue;
      const { st } = kernelStruct(m, kernel);
      const memberIndex = st.members.findIndex((x) => x.name === member);
      if (memberIndex < 0) {
        throw new ObjectError(
          `program ${p.name} (section "${p.section}"): struct ${st.name} of this kernel has no ` +
            `member ${member} (used by struct_ops map ${m.name})`,
        );
      }
      return { map: m, member, structId: st.id, memberIndex };
    }
  }
  return undefined;
}

/**
 * The kernel value of struct_ops map `m`: the object's initializer copied member by member into
 * the kernel's struct layout (inside `bpf_struct_ops_<name>.data`), function members set to the
 * fds of their programs.
 *
 * @throws {ObjectError} naming the map and member when a member with a value has no kernel
 * counterpart or a different size.
 * @example
 * ```ts
 * import { structOpsValue } from "./struct_ops.ts";
 * import { kernelBtf } from "./vmlinux.ts";
 * import { ObjectSpec } from "@tsbpf/core/elf";
 * const spec = ObjectSpec.parse(Deno.readFileSync("tcp_ca.bpf.o"));
 * declare const progs: Record<string, { fd: number }>; // the loaded struct_ops programs
 * const value = structOpsValue(spec.map("tcp_ca"), spec.types!, kernelBtf(), (p) => progs[p].fd);
 * ```
 */
export function structOpsValue(
  m: MapSpec,
  objBtf: Btf,
  kernel: Btf,
  progFd: (name: string) => number,
): Uint8Array {
  const { st, value } = kernelStruct(m, kernel);
  const dataMember = value.members.find((x) => x.name === "data");
  if (dataMember === undefined) {
    throw new ObjectError(`struct_ops map ${m.name}: bpf_struct_ops_${st.name} has no data member`);
  }
  const base = dataMember.bitOffset / 8;
  const out = new Uint8Array(value.size);
  const v = new DataView(out.buffer);
  const local = objBtf.resolve(m.structOps!.typeId);
  if (local.kind !== "struct") throw new ObjectError(`struct_ops map ${m.name}: not a struct`);
  const data = m.data ?? new Uint8Array(local.size);
  for (const lm of local.members) {
    const km = st.members.find((x) => x.name === lm.name);
    const prog = m.structOps!.programs[lm.name];
    const off = lm.bitOffset / 8;
    if (prog !== undefined) {
      if (km === undefined) {
        throw new ObjectError(
          `struct_ops map ${m.name}: member ${lm.name} is not in the kernel's struct ${st.name}`,
        );
      }
      v.setUint32(base + km.bitOffset / 8, progFd(prog), true);
      continue;
    }
    const size = objBtf.sizeOf(lm.type);
    const bytes = data.subarray(off, off + size);
    if (bytes.every((b) => b === 0)) continue;
    if (km === undefined) {
      throw new ObjectError(
        `struct_ops map ${m.name}: member ${lm.name} is set but the kernel's struct ${st.name} ` +
          "has no such member",
      );
    }
    if (kernel.sizeOf(km.type) !== size) {
      throw new ObjectError(
        `struct_ops map ${m.name}: member ${lm.name} is ${size} bytes here and ${
          kernel.sizeOf(km.type)
        } in the kernel`,
      );
    }
    out.set(bytes, base + km.bitOffset / 8);
  }
  return out;
}
