/**
 * Kernel features the object loader decides on as libbpf does, probed once per process.
 *
 * @module
 */
import { AttachType } from "../../types/attach_type.ts";
import { LINK_CREATE_UPROBE_MULTI_ATTR } from "../../types/attr.ts";
import { Errno } from "../../types/errno.ts";
import { ProgType } from "../../types/prog_type.ts";
import { Attr } from "../attr.ts";
import { Program } from "../program/program.ts";
import { linkCreate } from "../sys/bpf_cmds.ts";
import { alloc, cString, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";

/** `r0 = 0; exit`. */
const RETURN_0 = new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

/** A uprobe_multi link on offset 0 of "/" for `pid` (0: any): the errno, 0 if it was made. */
function uprobeMultiOnRoot(progFd: number, pid: number): number {
  const path = cString("/");
  const offsets = alloc(8);
  const attr = new Attr(LINK_CREATE_UPROBE_MULTI_ATTR)
    .set("prog_fd", progFd)
    .set("attach_type", AttachType.TRACE_UPROBE_MULTI)
    .setU64("uprobe_multi.path", sys().addressOf(path))
    .setU64("uprobe_multi.offsets", sys().addressOf(offsets))
    .set("uprobe_multi.cnt", 1)
    .set("uprobe_multi.pid", pid >>> 0);
  const fd = linkCreate(attr);
  retain(path, offsets);
  if (fd >= 0) {
    sys().close(fd);
    return 0;
  }
  return -fd;
}

let uprobeMulti: boolean | undefined;

/**
 * Whether the kernel makes uprobe_multi links that filter by process, which is when libbpf
 * (1.3 on) loads `usdt` programs with `expected_attach_type` `BPF_TRACE_UPROBE_MULTI`: a
 * uprobe_multi link on "/" (not a regular file) is refused with `EBADF`, and with pid -1 with
 * `EINVAL` once the kernel's process filtering was fixed (6.6 on, and stable kernels).
 */
export function uprobeMultiLinks(): boolean {
  if (uprobeMulti !== undefined) return uprobeMulti;
  let prog: Program;
  try {
    prog = Program.load({
      type: ProgType.KPROBE,
      insns: RETURN_0,
      license: "GPL",
      expectedAttachType: AttachType.TRACE_UPROBE_MULTI,
      check: false,
    });
  } catch {
    return uprobeMulti = false;
  }
  try {
    uprobeMulti = uprobeMultiOnRoot(prog.fd, 0) === Errno.EBADF &&
      uprobeMultiOnRoot(prog.fd, -1) === Errno.EINVAL;
  } finally {
    prog.close();
  }
  return uprobeMulti;
}
