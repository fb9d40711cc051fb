/**
 * USDT probes: a `kprobe` program written against libbpf's `usdt.bpf.h` attached to every site
 * of one `provider:name` probe of an executable or shared object, with its argument specs in
 * the object's `__bpf_usdt_specs` map and each site's spec id in the BPF cookie (or, on kernels
 * without BPF cookies, in `__bpf_usdt_ip_to_spec_id` by instruction address).
 *
 * @module
 */
import { AttachType } from "../../types/attach_type.ts";
import {
  LINK_CREATE_PERF_EVENT_ATTR,
  MAP_DELETE_ELEM_ATTR,
  MAP_UPDATE_ELEM_ATTR,
} from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { MapType } from "../../types/map_type.ts";
import { ProgType } from "../../types/prog_type.ts";
import { Attr } from "../attr.ts";
import { ElfError } from "../elf/error.ts";
import {
  encodeUsdtSpec,
  parseUsdtArgs,
  parseUsdtNotes,
  USDT_SPEC_SIZE,
  type UsdtArg,
  type UsdtNotes,
  type UsdtProbe,
} from "../elf/usdt.ts";
import { kernelBtf } from "../elf/vmlinux.ts";
import { readFileBytes, readFileText } from "../host_fs.ts";
import { PerfIoctl, perfIoctl } from "../perf/event.ts";
import { alloc, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { linkCreate, mapDeleteElem, mapUpdateElem } from "../sys/bpf_cmds.ts";
import { AttachError } from "./errors.ts";
import { Link } from "./link.ts";
import { type AttachableProgram, closeQuietly, programFd } from "./os.ts";
import { PerfEventAttachment } from "./perf_event.ts";
import { openUprobeEvent, resolveLibraryPath } from "./uprobe.ts";

/** What {@link attachUsdt} needs of a map: a `BpfMap` fits. */
export interface UsdtMap {
  /** The map's fd (throws once closed). */
  readonly fd: number;
  /** Whether it is closed. */
  readonly closed: boolean;
  /** The kernel's id of the map. */
  readonly id: number;
  /** `BPF_MAP_TYPE_*`. */
  readonly type: number;
  /** Key size in bytes. */
  readonly keySize: number;
  /** Value size in bytes. */
  readonly valueSize: number;
  /** Maximum entries. */
  readonly maxEntries: number;
}

/**
 * Which probe {@link attachUsdt} attaches to, and the maps of `usdt.bpf.h` it fills.
 *
 * @example
 * ```ts
 * import { loadObject } from "@tsbpf/core/elf";
 * import type { UsdtTarget } from "@tsbpf/core/link";
 * using obj = loadObject("usdt.bpf.o");
 * const t: UsdtTarget = {
 *   path: "/usr/bin/python3",
 *   provider: "python",
 *   name: "function__entry",
 *   specs: obj.maps.__bpf_usdt_specs,
 *   ipToSpecId: obj.maps.__bpf_usdt_ip_to_spec_id,
 * };
 * ```
 */
export interface UsdtTarget {
  /** The executable or shared object (a path, or a library mapped into this process). */
  path: string;
  /** The probe's provider. */
  provider: string;
  /** The probe's name. */
  name: string;
  /** Only this process; -1 (the default) for every process running the file. */
  pid?: number;
  /** What `bpf_usdt_cookie()` returns in the program (default 0). */
  cookie?: bigint;
  /** The object's `__bpf_usdt_specs` map (array, `int` key, `struct __bpf_usdt_spec` value). */
  specs: UsdtMap;
  /**
   * The object's `__bpf_usdt_ip_to_spec_id` map (hash, `long` key, `u32` value). Used only on
   * kernels without BPF cookies (before 5.15), where it is then required.
   */
  ipToSpecId?: UsdtMap;
}

/**
 * One attached site of a USDT probe.
 *
 * @example
 * ```ts
 * import type { UsdtAttachment } from "@tsbpf/core/link";
 * declare const usdt: UsdtAttachment;
 * for (const s of usdt.sites) console.log(s.probe.fileOffset, s.specId, s.attachment.method);
 * ```
 */
export interface UsdtSite {
  /** The note it came from. */
  readonly probe: UsdtProbe;
  /** Its decoded arguments. */
  readonly args: readonly UsdtArg[];
  /** The `__bpf_usdt_specs` index holding them (the BPF cookie of the attachment). */
  readonly specId: number;
  /** The uprobe's perf event and link (or `PERF_EVENT_IOC_SET_BPF` on old kernels). */
  readonly attachment: PerfEventAttachment;
}

/** Spec ids in use, by map id: attachments to the same map never share one. */
const usedSpecIds = new Map<number, Set<number>>();

/**
 * A program attached to every site of one USDT probe. `close()` (or `using`) detaches it from
 * all of them, releases their spec ids and removes the address entries it added.
 *
 * @example
 * ```ts
 * import { loadObject } from "@tsbpf/core/elf";
 * import { attachUsdt } from "@tsbpf/core/link";
 * using obj = loadObject("usdt.bpf.o");
 * using usdt = attachUsdt(obj.programs.handler, {
 *   path: "/usr/bin/app",
 *   provider: "app",
 *   name: "req",
 *   specs: obj.maps.__bpf_usdt_specs,
 * });
 * console.log(usdt.sites.length, usdt.links.map((l) => l.id));
 * ```
 */
export class UsdtAttachment implements Disposable {
  /** Every site, in note order. */
  readonly sites: readonly UsdtSite[];
  #specsId: number;
  #ipMap: UsdtMap | undefined;
  #ipKeys: bigint[];
  #closed = false;

  /** Wraps what {@link attachUsdt} made (the spec ids are reserved for `specsId`). */
  constructor(
    sites: readonly UsdtSite[],
    specsId: number,
    ipMap: UsdtMap | undefined,
    ipKeys: bigint[],
  ) {
    this.sites = sites;
    this.#specsId = specsId;
    this.#ipMap = ipMap;
    this.#ipKeys = ipKeys;
  }

  /** The links of the sites attached through `BPF_LINK_CREATE` (all of them on 5.15+). */
  get links(): Link[] {
    return this.sites.flatMap((s) => s.attachment.link === undefined ? [] : [s.attachment.link]);
  }

  /** Whether {@link UsdtAttachment.close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Detaches every site and releases its spec ids; later calls do nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.sites) s.attachment.close();
    if (this.#ipMap !== undefined && !this.#ipMap.closed) {
      for (const k of this.#ipKeys) deleteIp(this.#ipMap.fd, k);
    }
    releaseSpecIds(this.#specsId, this.sites.map((s) => s.specId));
  }

  /** Closes at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function releaseSpecIds(mapId: number, ids: readonly number[]): void {
  const used = usedSpecIds.get(mapId);
  if (used === undefined) return;
  for (const id of ids) used.delete(id);
  if (used.size === 0) usedSpecIds.delete(mapId);
}

function deleteIp(mapFd: number, ip: bigint): void {
  const key = alloc(8);
  new DataView(key.buffer).setBigUint64(0, ip, true);
  const attr = new Attr(MAP_DELETE_ELEM_ATTR).set("map_fd", mapFd)
    .set("key", sys().addressOf(key));
  mapDeleteElem(attr, key);
  retain(key);
}

let cookies: boolean | undefined;

/** Whether the kernel has BPF cookies: decided as `LINUX_HAS_BPF_COOKIE` is for the object. */
function kernelHasCookies(): boolean {
  if (cookies === undefined) {
    try {
      cookies = kernelBtf().find("enum", "bpf_func_id")?.values.some((v) =>
        v.name === "BPF_FUNC_get_attach_cookie"
      ) ?? false;
    } catch {
      cookies = false;
    }
  }
  return cookies;
}

function checkMap(
  m: UsdtMap,
  what: string,
  type: number,
  keySize: number,
  valueSize: number,
  label: string,
): void {
  if (m.closed) throw new AttachError(label, "attach", Errno.EBADF, `the ${what} map is closed`);
  if (m.type !== type || m.keySize !== keySize || m.valueSize !== valueSize) {
    throw new TypeError(
      `${label}: ${what} must be usdt.bpf.h's map (type ${type}, key ${keySize} bytes, value ` +
        `${valueSize} bytes); got type ${m.type}, key ${m.keySize}, value ${m.valueSize}`,
    );
  }
}

function update(mapFd: number, key: Uint8Array, value: Uint8Array, label: string): void {
  const attr = new Attr(MAP_UPDATE_ELEM_ATTR)
    .set("map_fd", mapFd)
    .set("key", sys().addressOf(key))
    .set("value", sys().addressOf(value));
  const r = mapUpdateElem(attr, key, value);
  retain(key, value);
  if (r < 0) throw new AttachError(label, BpfCmd.MAP_UPDATE_ELEM, -r, "writing a USDT spec");
}

/**
 * The address a site's `nop` has in process `pid` (for `__bpf_usdt_ip_to_spec_id`): the address
 * itself for a fixed-address executable, else through the file's mapping in `/proc/pid/maps`.
 */
function siteIp(
  notes: UsdtNotes,
  probe: UsdtProbe,
  path: string,
  pid: number,
  label: string,
): bigint {
  if (notes.type === 2 /* ET_EXEC */) return BigInt(probe.address);
  if (pid < 0) {
    throw new AttachError(
      label,
      "attach",
      Errno.EOPNOTSUPP,
      `this kernel has no BPF cookies, so probe addresses must be known: ${path} is ` +
        "position-independent, give the pid of a process that maps it",
    );
  }
  let maps: string;
  try {
    maps = readFileText(`/proc/${pid}/maps`);
  } catch {
    throw new AttachError(label, "open", Errno.ESRCH, `no process ${pid}`);
  }
  for (const line of maps.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \S+\s+(.*)$/.exec(line);
    if (m === null || m[4] !== path) continue;
    const start = BigInt(`0x${m[1]}`);
    const end = BigInt(`0x${m[2]}`);
    const off = BigInt(`0x${m[3]}`);
    const at = BigInt(probe.fileOffset);
    if (at >= off && at < off + (end - start)) return start + (at - off);
  }
  throw new AttachError(
    label,
    "attach",
    Errno.ENOENT,
    `process ${pid} does not map ${path} at file offset 0x${probe.fileOffset.toString(16)}`,
  );
}

/**
 * Attaches a `kprobe` program written with libbpf's `usdt.bpf.h` (`SEC("usdt")`, `BPF_USDT`,
 * `bpf_usdt_arg`, `bpf_usdt_cookie`) to every site of the probe `provider:name` in `path`.
 *
 * The probes come from the file's `.note.stapsdt` notes; each distinct argument string is decoded
 * into a `struct __bpf_usdt_spec` written to `specs` (the object's `__bpf_usdt_specs`) at a free
 * index, and each site gets a uprobe at its file offset whose BPF cookie is that index. A probe
 * with a semaphore has it incremented by the kernel while attached (`ref_ctr_offset`), so code
 * guarded by it runs. On a kernel without BPF cookies, each site's address goes into
 * `ipToSpecId` instead (for a position-independent file this needs a `pid`), and sites without
 * perf-event links are attached with `PERF_EVENT_IOC_SET_BPF`.
 *
 * @throws {AttachError} `ENOENT` for a missing file, a file without USDT notes or without the
 *   probe (listing the probes it has), `ENOEXEC` for a file that is not a native ELF object;
 *   the kernel's errno from `perf_event_open` or `BPF_LINK_CREATE`; `ENOSPC` when `specs` has
 *   no free index.
 * @throws {UsdtSpecError} for an argument spec `usdt.bpf.h` cannot express (before any system
 *   call).
 * @throws {TypeError} for a program that is not `kprobe`, or maps that are not `usdt.bpf.h`'s.
 * @example
 * ```ts
 * import { loadObject } from "@tsbpf/core/elf";
 * import { attachUsdt } from "@tsbpf/core/link";
 * using obj = loadObject("usdt.bpf.o");
 * using usdt = attachUsdt(obj.programs.handler, {
 *   path: "/usr/lib/x86_64-linux-gnu/libc.so.6",
 *   provider: "libc",
 *   name: "memory_sbrk_more",
 *   specs: obj.maps.__bpf_usdt_specs,
 *   ipToSpecId: obj.maps.__bpf_usdt_ip_to_spec_id,
 * });
 * ```
 */
export function attachUsdt(program: AttachableProgram, target: UsdtTarget): UsdtAttachment {
  const { provider, name, pid = -1, cookie = 0n } = target;
  const label = `attachUsdt(${target.path}:${provider}:${name}${pid === -1 ? "" : `, pid ${pid}`})`;
  if (!Number.isSafeInteger(pid) || pid < -1 || pid > 0x7fffffff) {
    throw new RangeError(`${label}: pid ${pid} is not -1 or a process id`);
  }
  if (cookie < 0n || cookie >= 1n << 64n) {
    throw new RangeError(`${label}: cookie ${cookie} does not fit in a u64`);
  }
  const progFd = programFd(program, label, [ProgType.KPROBE]);
  checkMap(target.specs, "specs", MapType.ARRAY, 4, USDT_SPEC_SIZE, label);
  const useCookies = kernelHasCookies();
  const ipMap = useCookies ? undefined : target.ipToSpecId;
  if (!useCookies) {
    if (ipMap === undefined) {
      throw new TypeError(
        `${label}: this kernel has no BPF cookies; give ipToSpecId (__bpf_usdt_ip_to_spec_id)`,
      );
    }
    checkMap(ipMap, "ipToSpecId", MapType.HASH, 8, 4, label);
  }
  const path = resolveLibraryPath(target.path);
  const notes = readNotes(path, label);
  const probes = notes.probes.filter((p) => p.provider === provider && p.name === name);
  if (probes.length === 0) {
    const names = [...new Set(notes.probes.map((p) => `${p.provider}:${p.name}`))].sort();
    throw new AttachError(
      label,
      "probe lookup",
      Errno.ENOENT,
      names.length === 0
        ? `${path} has no USDT probes (no .note.stapsdt notes)`
        : `${path} has no probe ${provider}:${name}; it has ${names.slice(0, 12).join(", ")}` +
          (names.length > 12 ? `, … (${names.length})` : ""),
    );
  }
  // Every spec decodes before anything is written or opened.
  const decoded = probes.map((p) => parseUsdtArgs(p.args, notes.machine));

  const specsId = target.specs.id;
  const used = usedSpecIds.get(specsId) ?? new Set<number>();
  usedSpecIds.set(specsId, used);
  const idOf = new Map<string, number>();
  const taken: number[] = [];
  const sites: UsdtSite[] = [];
  const ipKeys: bigint[] = [];
  try {
    const specsFd = target.specs.fd;
    for (let i = 0; i < probes.length; i++) {
      const p = probes[i];
      let id = idOf.get(p.args);
      if (id === undefined) {
        id = 0;
        while (used.has(id)) id++;
        if (id >= target.specs.maxEntries) {
          throw new AttachError(
            label,
            "attach",
            Errno.ENOSPC,
            `the specs map's ${target.specs.maxEntries} entries are all in use`,
          );
        }
        used.add(id);
        taken.push(id);
        idOf.set(p.args, id);
        const key = alloc(4);
        new DataView(key.buffer).setUint32(0, id, true);
        const value = alloc(USDT_SPEC_SIZE);
        value.set(encodeUsdtSpec(decoded[i], cookie));
        update(specsFd, key, value, label);
      }
      if (ipMap !== undefined) {
        const ip = siteIp(notes, p, path, pid, label);
        const key = alloc(8);
        new DataView(key.buffer).setBigUint64(0, ip, true);
        const value = alloc(4);
        new DataView(value.buffer).setUint32(0, id, true);
        update(ipMap.fd, key, value, label);
        ipKeys.push(ip);
      }
      const siteLabel = `${label} site at file offset 0x${p.fileOffset.toString(16)}`;
      const attachment = attachSite(
        progFd,
        path,
        p,
        pid,
        useCookies ? BigInt(id) : undefined,
        siteLabel,
      );
      sites.push({ probe: p, args: decoded[i], specId: id, attachment });
    }
  } catch (e) {
    for (const s of sites) s.attachment.close();
    if (ipMap !== undefined && !ipMap.closed) { for (const k of ipKeys) deleteIp(ipMap.fd, k); }
    releaseSpecIds(specsId, taken);
    throw e;
  }
  return new UsdtAttachment(sites, specsId, ipMap, ipKeys);
}

function readNotes(path: string, label: string): UsdtNotes {
  let bytes: Uint8Array;
  try {
    bytes = readFileBytes(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new AttachError(
      label,
      "open",
      code === "ENOENT" ? Errno.ENOENT : code === "EACCES" ? Errno.EACCES : Errno.ENOEXEC,
      `${path}${code === undefined ? `: ${(e as Error).message}` : ""}`,
    );
  }
  try {
    return parseUsdtNotes(bytes);
  } catch (e) {
    if (e instanceof ElfError) {
      throw new AttachError(label, "parse", Errno.ENOEXEC, `${path}: ${e.message}`);
    }
    throw e;
  }
}

/** One uprobe at a site, linked (with `cookie`) or, before perf-event links, set by ioctl. */
function attachSite(
  progFd: number,
  path: string,
  p: UsdtProbe,
  pid: number,
  cookie: bigint | undefined,
  label: string,
): PerfEventAttachment {
  const eventFd = openUprobeEvent(path, p.fileOffset, pid, false, label, p.semaphoreOffset);
  try {
    const attr = new Attr(LINK_CREATE_PERF_EVENT_ATTR)
      .set("prog_fd", progFd)
      .set("target_fd", eventFd)
      .set("attach_type", AttachType.PERF_EVENT);
    if (cookie !== undefined) attr.set("perf_event.bpf_cookie", cookie);
    const lfd = linkCreate(attr);
    if (lfd >= 0) return new PerfEventAttachment(new Link(lfd), eventFd);
    // EINVAL without cookies: a kernel before perf-event links (5.15).
    if (-lfd !== Errno.EINVAL || cookie !== undefined) {
      throw new AttachError(label, BpfCmd.LINK_CREATE, -lfd);
    }
    let r = perfIoctl(eventFd, PerfIoctl.SET_BPF, progFd);
    if (r < 0) throw new AttachError(label, "ioctl(PERF_EVENT_IOC_SET_BPF)", -r);
    r = perfIoctl(eventFd, PerfIoctl.ENABLE, 0);
    if (r < 0) throw new AttachError(label, "ioctl(PERF_EVENT_IOC_ENABLE)", -r);
    return new PerfEventAttachment(undefined, eventFd);
  } catch (e) {
    closeQuietly(eventFd);
    throw e;
  }
}
