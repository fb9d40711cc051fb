/**
 * Pinning BPF objects in bpffs (`BPF_OBJ_PIN`, `BPF_OBJ_GET`).
 *
 * @module
 */
import { readFileText, removeFile } from "./host_fs.ts";
import { OBJ_PIN_ATTR } from "../types/attr.ts";
import { BpfCmd } from "../types/cmd.ts";
import { Attr } from "./attr.ts";
import { BpfError } from "./errors.ts";
import { cString, retain } from "./sys/memory.ts";
import { sys } from "./sys/mod.ts";
import { objGet, objPin } from "./sys/bpf_cmds.ts";

/** Where bpffs is conventionally mounted. */
export const BPFFS_PATH = "/sys/fs/bpf";

/** Whether a bpf filesystem is mounted at `dir` (from `/proc/self/mounts`). */
function bpffsMountedAt(dir: string): boolean {
  try {
    return readFileText("/proc/self/mounts").split("\n").some((line) => {
      const [, mountPoint, fsType] = line.split(" ");
      return mountPoint === dir && fsType === "bpf";
    });
  } catch {
    return false;
  }
}

/**
 * Mounts bpffs at `/sys/fs/bpf` when no bpf filesystem is mounted there.
 *
 * @throws {BpfError} when it cannot be mounted (e.g. `EPERM` without CAP_SYS_ADMIN).
 * @example
 * ```ts
 * import { ensureBpffs } from "@tsbpf/core";
 * ensureBpffs(); // mounts /sys/fs/bpf when it is not a bpf filesystem yet
 * ```
 */
export function ensureBpffs(dir: string = BPFFS_PATH): void {
  if (bpffsMountedAt(dir)) return;
  const s = sys();
  const source = cString("bpf");
  const target = cString(dir);
  const r = s.syscall(
    s.nr.mount,
    s.addressOf(source),
    s.addressOf(target),
    s.addressOf(source),
    0n,
    0n,
  );
  retain(source, target);
  if (r < 0n) {
    throw new BpfError("mount", Number(-r), `cannot mount bpffs at ${dir}`);
  }
}

/**
 * Pins an object fd at `path` inside bpffs, mounting bpffs at /sys/fs/bpf first if the path is
 * below it and nothing is mounted there.
 *
 * @throws {BpfError} e.g. `EEXIST` when the path exists, `EPERM` when it is not inside bpffs.
 * @example
 * ```ts
 * import { BpfMap, u32 } from "@tsbpf/core";
 * import { pinFd, unpinPath } from "./pin.ts";
 * using map = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 1 });
 * pinFd(map.fd, `/sys/fs/bpf/doc_counts_${Deno.pid}`);
 * unpinPath(`/sys/fs/bpf/doc_counts_${Deno.pid}`);
 * ```
 */
export function pinFd(fd: number, path: string): void {
  if (path.startsWith(BPFFS_PATH + "/")) ensureBpffs();
  const s = sys();
  const name = cString(path);
  const attr = new Attr(OBJ_PIN_ATTR).setU64("pathname", s.addressOf(name)).set("bpf_fd", fd);
  const r = objPin(attr, name);
  if (r < 0) throw new BpfError(BpfCmd.OBJ_PIN, -r, path);
}

/**
 * Opens a pinned object and returns its new fd (`BPF_OBJ_GET`); the caller owns it.
 *
 * @example
 * ```ts
 * import { BpfMap, u32 } from "@tsbpf/core";
 * import { openPinned, pinFd, unpinPath } from "./pin.ts";
 * import { sys } from "./sys/mod.ts";
 * using map = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 1 });
 * const path = `/sys/fs/bpf/doc_counts_${Deno.pid}`;
 * pinFd(map.fd, path);
 * const fd = openPinned(path); // a new fd of the same map
 * sys().close(fd);
 * unpinPath(path);
 * ```
 */
export function openPinned(path: string, fileFlags = 0): number {
  const s = sys();
  const name = cString(path);
  const attr = new Attr(OBJ_PIN_ATTR).setU64("pathname", s.addressOf(name)).set(
    "file_flags",
    fileFlags,
  );
  const fd = objGet(attr, name);
  if (fd < 0) throw new BpfError(BpfCmd.OBJ_GET, -fd, path);
  return fd;
}

/**
 * Removes a pin (unlinks the bpffs path); the object is freed when nothing else holds it.
 *
 * @example
 * ```ts
 * import { BpfMap, u32 } from "@tsbpf/core";
 * import { pinFd, unpinPath } from "./pin.ts";
 * using map = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 1 });
 * pinFd(map.fd, `/sys/fs/bpf/doc_counts_${Deno.pid}`);
 * unpinPath(`/sys/fs/bpf/doc_counts_${Deno.pid}`);
 * ```
 */
export function unpinPath(path: string): void {
  removeFile(path);
}
