/**
 * Kernel BTF objects other than vmlinux, as the object loader needs them: kernel modules' BTF
 * (for kfuncs, typed ksyms and attach targets that live in a module) and the BTF of a loaded
 * program (the target of `freplace/` or of `fentry/`/`fexit/` on a BPF function). Each is opened
 * by id (`BPF_BTF_GET_FD_BY_ID`), and its fd is what the kernel wants in `fd_array`,
 * `ld_imm64`'s second immediate or `attach_btf_obj_fd`.
 *
 * @module
 */
import { OBJ_GET_INFO_BY_FD_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { BTF_INFO_LAYOUT, PROG_INFO_LAYOUT } from "../../types/info.ts";
import { Attr } from "../attr.ts";
import type { Btf } from "../btf/btf.ts";
import { parseBtf } from "../btf/btf.ts";
import type { BtfKindName, BtfType } from "../btf/types.ts";
import { BpfError } from "../errors.ts";
import { listIds, openById } from "../ids.ts";
import { kernelModuleBtf } from "../elf/vmlinux.ts";
import { ObjectError } from "../elf/error.ts";
import { objGetInfoByFd } from "../sys/bpf_cmds.ts";
import { alloc, readCString, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";

/** What `bpf_btf_info` says of a BTF object. */
interface BtfObjectInfo {
  readonly id: number;
  readonly name: string;
  readonly kernelBtf: boolean;
  readonly size: number;
}

/** `bpf_btf_info` up to `id`: what kernels before 5.11 (no name, no kernel_btf) know. */
const BTF_INFO_V1_SIZE = 16;

function btfInfo(fd: number, data?: Uint8Array<ArrayBuffer>): BtfObjectInfo {
  const name = alloc(64);
  const info = new Attr(BTF_INFO_LAYOUT)
    .setU64("name", sys().addressOf(name))
    .set("name_len", name.byteLength);
  if (data !== undefined) {
    info.setU64("btf", sys().addressOf(data)).set("btf_size", data.byteLength);
  }
  const attr = new Attr(OBJ_GET_INFO_BY_FD_ATTR)
    .set("bpf_fd", fd)
    .set("info_len", info.bytes.byteLength)
    .setU64("info", sys().addressOf(info.bytes));
  let r = objGetInfoByFd(attr, info.bytes, name);
  if (r === -Errno.E2BIG) {
    // Before 5.11 the kernel refuses the name fields: ask for the first ones only (no module
    // BTF objects exist there either).
    info.setU64("name", 0n).set("name_len", 0);
    attr.set("info_len", BTF_INFO_V1_SIZE);
    r = objGetInfoByFd(attr, info.bytes, name);
  }
  retain(data);
  if (r < 0) throw new BpfError(BpfCmd.OBJ_GET_INFO_BY_FD, -r, `BTF fd ${fd}`);
  return {
    id: info.get("id"),
    name: readCString(name),
    kernelBtf: info.get("kernel_btf") !== 0,
    size: info.get("btf_size"),
  };
}

/**
 * The kernel's BTF objects (vmlinux and each loaded module with BTF), by name and id
 * (`BPF_BTF_GET_NEXT_ID`, `bpf_btf_info.kernel_btf`); empty when the process may not list BTF
 * objects.
 */
export function listKernelBtfObjects(): { name: string; id: number }[] {
  const out: { name: string; id: number }[] = [];
  let ids: number[];
  try {
    ids = listIds(BpfCmd.BTF_GET_NEXT_ID);
  } catch {
    return out; // not allowed to list (no CAP_SYS_ADMIN)
  }
  for (const id of ids) {
    let fd: number;
    try {
      fd = openById(BpfCmd.BTF_GET_FD_BY_ID, id, "BTF");
    } catch {
      continue; // gone meanwhile
    }
    try {
      const info = btfInfo(fd);
      if (info.kernelBtf && info.name !== "") out.push({ name: info.name, id });
    } finally {
      sys().close(fd);
    }
  }
  return out;
}

/**
 * A type found in a kernel module's BTF: the module, the fd of its BTF object (owned by the
 * `ModuleBtfs` that found it) and the type (its id is in the module's split numbering).
 */
export interface ModuleBtfType {
  readonly module: string;
  readonly fd: number;
  readonly type: BtfType;
  /** The module's BTF (split on vmlinux). */
  readonly btf: Btf;
}

/**
 * The BTF objects of the kernel's loaded modules, listed once on first use (`BPF_BTF_GET_NEXT_ID`)
 * and opened as types are found in them. `close()` closes the opened fds.
 */
export class ModuleBtfs {
  #modules: { name: string; id: number }[] | undefined;
  readonly #fds = new Map<string, number>();

  /** Loaded modules with BTF, by name and BTF object id. */
  #list(): { name: string; id: number }[] {
    return this.#modules ??= listKernelBtfObjects().filter((o) => o.name !== "vmlinux");
  }

  /**
   * The first loaded module whose own BTF types include a `kind` named `name`, with its BTF
   * object opened; undefined when none has it.
   */
  find(kind: BtfKindName, name: string): ModuleBtfType | undefined {
    for (const m of this.#list()) {
      let btf: Btf;
      try {
        btf = kernelModuleBtf(m.name);
      } catch {
        continue; // no /sys/kernel/btf/<module> (unloaded meanwhile)
      }
      const t = btf.lookup(name, kind).find((x) => x.id >= btf.firstId);
      if (t === undefined) continue;
      let fd = this.#fds.get(m.name);
      if (fd === undefined) {
        fd = openById(BpfCmd.BTF_GET_FD_BY_ID, m.id, `BTF of module ${m.name}`);
        this.#fds.set(m.name, fd);
      }
      return { module: m.name, fd, type: t, btf };
    }
    return undefined;
  }

  /** The BTF of every loaded module (split on vmlinux), for CO-RE candidates vmlinux lacks. */
  all(): Btf[] {
    const out: Btf[] = [];
    for (const m of this.#list()) {
      try {
        out.push(kernelModuleBtf(m.name));
      } catch {
        // unloaded meanwhile
      }
    }
    return out;
  }

  /** Closes the module BTF fds opened by `find`. */
  close(): void {
    for (const fd of this.#fds.values()) sys().close(fd);
    this.#fds.clear();
  }
}

/**
 * The BTF a loaded program was loaded with (its `btf_id`), read back from the kernel and parsed:
 * where an `freplace/` program, or `fentry/`/`fexit/` of a BPF function, finds its target.
 *
 * @throws {ObjectError} when the program has no BTF (loaded without func info).
 */
export function programBtf(progFd: number, what: string): Btf {
  const info = new Attr(PROG_INFO_LAYOUT);
  const attr = new Attr(OBJ_GET_INFO_BY_FD_ATTR)
    .set("bpf_fd", progFd)
    .set("info_len", info.bytes.byteLength)
    .setU64("info", sys().addressOf(info.bytes));
  const r = objGetInfoByFd(attr, info.bytes);
  if (r < 0) throw new BpfError(BpfCmd.OBJ_GET_INFO_BY_FD, -r, what);
  const btfId = info.get("btf_id");
  if (btfId === 0) {
    throw new ObjectError(
      `${what} has no BTF (it was loaded without func info), so no function of it can be a target`,
    );
  }
  const fd = openById(BpfCmd.BTF_GET_FD_BY_ID, btfId, `BTF of ${what}`);
  try {
    const size = btfInfo(fd).size;
    const data = alloc(size);
    btfInfo(fd, data);
    return parseBtf(data);
  } finally {
    sys().close(fd);
  }
}
