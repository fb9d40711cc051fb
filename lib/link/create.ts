/**
 * `BPF_LINK_CREATE`, shared by the attach functions (not exported from the package).
 *
 * @module
 */
import { BpfCmd } from "../../types/cmd.ts";
import type { Attr } from "../attr.ts";
import { AttachError } from "./errors.ts";
import { Link } from "./link.ts";
import { linkCreate } from "../sys/bpf_cmds.ts";

/**
 * Runs `BPF_LINK_CREATE` with a filled attr; throws {@link AttachError} naming `target`, with
 * the detail `explain` gives for the errno (if any).
 */
export function createLink(
  target: string,
  attr: Attr,
  explain?: (errno: number) => string | undefined,
): Link {
  const fd = linkCreate(attr);
  if (fd < 0) throw new AttachError(target, BpfCmd.LINK_CREATE, -fd, explain?.(-fd));
  return new Link(fd);
}
