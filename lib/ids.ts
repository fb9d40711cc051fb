/**
 * Kernel object ids and names: listing ids, opening an object by id, and the kernel's rules for
 * object names. Shared by programs, maps, links and BTF.
 *
 * @module
 */
import { GET_FD_BY_ID_ATTR, GET_NEXT_ID_ATTR } from "../types/attr.ts";
import { Errno } from "../types/errno.ts";
import { Attr } from "./attr.ts";
import { ArgumentError, BpfError } from "./errors.ts";
import { getFdById, type GetFdByIdCmd, getNextId, type GetNextIdCmd } from "./sys/bpf_cmds.ts";

/** `BPF_OBJ_NAME_LEN` − 1. */
const MAX_NAME_LENGTH = 15;

/**
 * Checks a program name the way the kernel's `bpf_obj_name_cpy()` does.
 *
 * @throws {ArgumentError} when it is too long or has a character the kernel refuses.
 * @example
 * ```ts
 * import { validateObjectName } from "@tsbpf/core";
 * validateObjectName("my_prog"); // ok
 * ```
 */
export function validateObjectName(name: string): void {
  if (name.length > MAX_NAME_LENGTH) {
    throw new ArgumentError(
      "name",
      `name "${name}" is ${name.length} characters; the kernel keeps at most ${MAX_NAME_LENGTH}`,
    );
  }
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (!/[A-Za-z0-9_.]/.test(c)) {
      throw new ArgumentError(
        "name",
        `name "${name}" has ${
          JSON.stringify(c)
        } at position ${i}; the kernel accepts only letters, digits, "_" and "."`,
      );
    }
  }
}

/**
 * Ids of every object of one kind in the kernel (`BPF_*_GET_NEXT_ID`), ascending.
 *
 * @example
 * ```ts
 * import { BpfCmd } from "@tsbpf/core";
 * import { listIds } from "./ids.ts";
 * listIds(BpfCmd.PROG_GET_NEXT_ID); // ascending ids of every loaded program
 * ```
 */
export function listIds(cmd: GetNextIdCmd): number[] {
  const attr = new Attr(GET_NEXT_ID_ATTR);
  const ids: number[] = [];
  let start = 0;
  for (;;) {
    attr.set("start_id", start);
    const r = getNextId(cmd, attr);
    if (r < 0) {
      if (-r === Errno.ENOENT) return ids;
      throw new BpfError(cmd, -r);
    }
    start = attr.get("next_id");
    ids.push(start);
  }
}

/**
 * Opens the object with `id` (`BPF_*_GET_FD_BY_ID`) and returns its new fd, owned by the caller.
 *
 * @throws {ArgumentError} for an id that is not a positive 32-bit integer.
 * @throws {BpfError} `ENOENT` when no object of that kind has the id.
 * @example
 * ```ts
 * import { asm, BpfCmd, Program } from "@tsbpf/core";
 * import { openById } from "./ids.ts";
 * import { sys } from "./sys/mod.ts";
 * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
 * const fd = openById(BpfCmd.PROG_GET_FD_BY_ID, prog.id, "program");
 * sys().close(fd);
 * ```
 */
export function openById(cmd: GetFdByIdCmd, id: number, kind: string): number {
  if (!Number.isInteger(id) || id <= 0 || id > 0xffff_ffff) {
    throw new ArgumentError(
      "id",
      `${kind} id must be a positive 32-bit integer, got ${String(id)}`,
    );
  }
  // The id fields of the four commands share offset 0.
  const attr = new Attr(GET_FD_BY_ID_ATTR).set("prog_id", id);
  const fd = getFdById(cmd, attr);
  if (fd < 0) throw new BpfError(cmd, -fd, `${kind} id ${id}`);
  return fd;
}
