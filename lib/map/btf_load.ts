/**
 * Loading BTF into the kernel (`BPF_BTF_LOAD`): the fd-owning side of the BTF that
 * `lib/btf/builder.ts` encodes.
 *
 * @module
 */
import { BTF_LOAD_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Attr } from "../attr.ts";
import { BpfError, meaningfulTail } from "../errors.ts";
import { FdHandle } from "../fd.ts";
import { alloc } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { btfLoad } from "../sys/bpf_cmds.ts";

/**
 * Loads a BTF blob into the kernel (`BPF_BTF_LOAD`) and returns its handle. On failure the load
 * is retried with a log, and the kernel's explanation is part of the error.
 *
 * @throws {BpfError} when the kernel refuses the blob.
 * @example
 * ```ts
 * import { BtfBuilder, loadBtf } from "@tsbpf/core";
 * const b = new BtfBuilder();
 * b.int("u32", 4);
 * using btf = loadBtf(b.encode());
 * ```
 */
export function loadBtf(blob: Uint8Array): FdHandle {
  const s = sys();
  const data = alloc(blob.byteLength);
  data.set(blob);
  const attr = new Attr(BTF_LOAD_ATTR)
    .setU64("btf", s.addressOf(data))
    .set("btf_size", data.byteLength);
  const fd = btfLoad(attr, data);
  if (fd >= 0) return new FdHandle(fd, "BTF object");
  const log = alloc(16 * 1024);
  attr.setU64("btf_log_buf", s.addressOf(log)).set("btf_log_size", log.byteLength).set(
    "btf_log_level",
    1,
  );
  const again = btfLoad(attr, data, log);
  if (again >= 0) return new FdHandle(again, "BTF object");
  // The kernel keeps the end of a log that overflows (its default rotating mode): where the
  // refusal is. The errno of the first attempt is the real one (a full log would say ENOSPC).
  const end = log.indexOf(0);
  const tail = meaningfulTail(new TextDecoder().decode(end < 0 ? log : log.subarray(0, end)));
  throw new BpfError(
    BpfCmd.BTF_LOAD,
    -fd,
    tail.length === 0 ? "BTF refused" : `BTF log:\n  ${tail.join("\n  ")}`,
  );
}
