/**
 * Shared mappings of BPF map memory, and the epoll instance a ring buffer waits on: thin wrappers
 * over `mmap(2)`, `munmap(2)`, `epoll_create1(2)` and `epoll_ctl(2)` that throw {@link BpfError}.
 *
 * @module
 */
import { readFileBytes } from "../host_fs.ts";
import { BpfError } from "../errors.ts";
import { alloc, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { AuxvType, Epoll, MmapFlag } from "../../types/os.ts";

const PROT_READ = BigInt(MmapFlag.PROT_READ);
const PROT_WRITE = BigInt(MmapFlag.PROT_WRITE);
const MAP_SHARED = BigInt(MmapFlag.MAP_SHARED);
const EPOLL_CLOEXEC = BigInt(Epoll.CLOEXEC);
const EPOLL_CTL_ADD = BigInt(Epoll.CTL_ADD);
const EPOLLIN = Epoll.IN;
const AT_PAGESZ = BigInt(AuxvType.PAGESZ);

let cachedPageSize = 0;

/**
 * The page size of this process, from `AT_PAGESZ` in `/proc/self/auxv` (4096 when it cannot be
 * read). A ring buffer's consumer page and producer page are each one page long.
 *
 * @example
 * ```ts
 * import { pageSize } from "./mmap.ts";
 * pageSize(); // 4096 on x86_64
 * ```
 */
export function pageSize(): number {
  if (cachedPageSize !== 0) return cachedPageSize;
  let size = 4096;
  try {
    const auxv = readFileBytes("/proc/self/auxv");
    const v = new DataView(auxv.buffer, auxv.byteOffset, auxv.byteLength);
    for (let off = 0; off + 16 <= v.byteLength; off += 16) {
      const type = v.getBigUint64(off, true);
      if (type === 0n) break;
      if (type === AT_PAGESZ) {
        size = Number(v.getBigUint64(off + 8, true));
        break;
      }
    }
  } catch {
    // Keep 4096: true on x86_64, and the kernel refuses a wrong length with EINVAL anyway.
  }
  return cachedPageSize = size;
}

/**
 * Maps `length` bytes of the BPF map `fd` at `offset`, shared, read-only or read-write. Returns
 * the address.
 *
 * @throws {BpfError} when `mmap(2)` fails (e.g. EPERM writing a read-only part).
 * @example
 * ```ts
 * import { BpfMap } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
 * import { mmapMap, munmap } from "./mmap.ts";
 * const consumer = mmapMap(map.fd, 4096, 0, true);
 * munmap(consumer, 4096);
 * ```
 */
export function mmapMap(fd: number, length: number, offset: number, writable: boolean): bigint {
  const s = sys();
  const prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  const r = s.syscall(s.nr.mmap, 0n, BigInt(length), prot, MAP_SHARED, BigInt(fd), BigInt(offset));
  if (r < 0n && r > -4096n) {
    throw new BpfError("mmap", Number(-r), `map fd ${fd}, ${length} bytes at offset ${offset}`);
  }
  return r;
}

/**
 * Unmaps `length` bytes at `address` (from {@link mmapMap}). Returns 0 or `-errno`; it never
 * throws, so that close paths can always run to the end.
 *
 * @example
 * ```ts
 * import { BpfMap } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
 * import { mmapMap, munmap } from "./mmap.ts";
 * const address = mmapMap(map.fd, 4096, 0, true);
 * munmap(address, 4096); // 0
 * ```
 */
export function munmap(address: bigint, length: number): number {
  const s = sys();
  return Number(s.syscall(s.nr.munmap, address, BigInt(length)));
}

/**
 * Creates a close-on-exec epoll instance that watches `fd` for `EPOLLIN` (a ring buffer map fd
 * is readable while it holds unconsumed data). Returns the epoll fd, which the caller closes.
 *
 * @throws {BpfError} when `epoll_create1(2)` or `epoll_ctl(2)` fails.
 * @example
 * ```ts
 * import { BpfMap } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
 * import { sys } from "../sys/mod.ts";
 * import { epollWatch } from "./mmap.ts";
 * const epfd = epollWatch(map.fd);
 * sys().close(epfd);
 * ```
 */
export function epollWatch(fd: number): number {
  const s = sys();
  const epfd = Number(s.syscall(s.nr.epoll_create1, EPOLL_CLOEXEC));
  if (epfd < 0) throw new BpfError("epoll_create1", -epfd);
  // struct epoll_event { u32 events; u64 data; }: packed (12 bytes) on x86_64, 16 on aarch64;
  // the first 12 bytes are the same in both when data is 0.
  const event = alloc(16);
  new DataView(event.buffer).setUint32(0, EPOLLIN, true);
  const r = Number(
    s.syscall(s.nr.epoll_ctl, BigInt(epfd), EPOLL_CTL_ADD, BigInt(fd), s.addressOf(event)),
  );
  retain(event);
  if (r < 0) {
    s.close(epfd);
    throw new BpfError("epoll_ctl", -r, `EPOLL_CTL_ADD fd ${fd}`);
  }
  return epfd;
}

/**
 * Detaches every ArrayBuffer in `buffers` (`transfer(0)`), so that the views over them become
 * empty (length 0: reads give `undefined`, writes do nothing) before the memory behind them is
 * unmapped. Returns false when one could not be detached: then the memory must stay mapped, or a
 * view kept somewhere would read unmapped memory and crash the process.
 *
 * @example
 * ```ts
 * import { BpfMap } from "@tsbpf/core";
 * import { sys } from "../sys/mod.ts";
 * import { detachAll, mmapMap, munmap } from "./mmap.ts";
 * using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
 * const address = mmapMap(map.fd, 4096, 0, true);
 * const buffer = sys().view(address, 4096); // JS memory over the mapping
 * if (detachAll([buffer])) munmap(address, 4096);
 * ```
 */
export function detachAll(buffers: readonly ArrayBuffer[]): boolean {
  let ok = true;
  for (const b of buffers) {
    const ab = b as ArrayBuffer & {
      readonly detached?: boolean;
      transfer?(n: number): ArrayBuffer;
    };
    try {
      if (ab.detached !== true) ab.transfer!(0);
    } catch {
      ok = false;
    }
    if (ab.detached !== true && ab.byteLength !== 0) ok = false;
  }
  return ok;
}

/**
 * The two mappings of a ring buffer, as the close path and the finalizer need them (never the
 * ring buffer object itself). {@link releaseRing} unmaps them.
 *
 * @example
 * ```ts
 * import { BpfMap } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
 * import { type HeldRing, mapRing, releaseRing } from "./mmap.ts";
 * const held: HeldRing = mapRing(map.fd, 4096, true).held;
 * releaseRing(held);
 * ```
 */
export interface HeldRing {
  /** Address of the consumer page, 0n once unmapped. */
  consumerAddress: bigint;
  /** Length of the consumer mapping (one page). */
  consumerLength: number;
  /** Address of the producer page and the data area mapped twice, 0n once unmapped. */
  producerAddress: bigint;
  /** Length of the producer mapping (one page plus twice the data area). */
  producerLength: number;
  /** Every ArrayBuffer over the mappings: detached before munmap, so no view can reach them. */
  buffers: ArrayBuffer[];
}

/**
 * A mapped ring buffer: what to release, and the buffers over the mappings.
 *
 * @example
 * ```ts
 * import { BpfMap } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
 * import { type MappedRing, mapRing, releaseRing } from "./mmap.ts";
 * const ring: MappedRing = mapRing(map.fd, 4096, true);
 * releaseRing(ring.held);
 * ```
 */
export interface MappedRing {
  /** The mappings, for {@link releaseRing}. */
  readonly held: HeldRing;
  /** The first 8 bytes of the consumer page (the consumer position). */
  readonly consumer: ArrayBuffer;
  /** The whole producer mapping: the producer page, then the data area twice. */
  readonly producer: ArrayBuffer;
  /** The page size: where the data area starts in `producer`. */
  readonly page: number;
}

/**
 * Maps the ring buffer map `fd` with a data area of `size` bytes: the consumer page at offset 0
 * (writable when `consumerWritable`: a `RINGBUF` reader advances it, the kernel advances a
 * `USER_RINGBUF`'s) and the producer page plus the data area twice over at offset one page
 * (writable when the consumer page is not). When the second mapping fails the first is released
 * before the error is thrown.
 *
 * @throws {BpfError} when `mmap(2)` fails.
 * @example
 * ```ts
 * import { BpfMap } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
 * import { mapRing, releaseRing } from "./mmap.ts";
 * const ring = mapRing(map.fd, 4096, true);
 * releaseRing(ring.held);
 * ```
 */
export function mapRing(fd: number, size: number, consumerWritable: boolean): MappedRing {
  const page = pageSize();
  const held: HeldRing = {
    consumerAddress: 0n,
    consumerLength: page,
    producerAddress: 0n,
    producerLength: page + 2 * size,
    buffers: [],
  };
  const s = sys();
  let consumer: ArrayBuffer;
  let producer: ArrayBuffer;
  try {
    held.consumerAddress = mmapMap(fd, held.consumerLength, 0, consumerWritable);
    consumer = s.view(held.consumerAddress, 8);
    held.buffers.push(consumer);
    held.producerAddress = mmapMap(fd, held.producerLength, page, !consumerWritable);
    producer = s.view(held.producerAddress, held.producerLength);
    held.buffers.push(producer);
  } catch (e) {
    releaseRing(held);
    throw e;
  }
  return { held, consumer, producer, page };
}

/**
 * Releases the mappings of {@link mapRing}: detaches every buffer first, so that views handed out
 * (records or reservations kept by the caller) become empty instead of pointing at unmapped
 * memory, then unmaps the producer and the consumer mapping. When a buffer cannot be detached the
 * memory stays mapped. Safe to call again.
 *
 * @example
 * ```ts
 * import { BpfMap } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
 * import { mapRing, releaseRing } from "./mmap.ts";
 * releaseRing(mapRing(map.fd, 4096, true).held);
 * ```
 */
export function releaseRing(held: HeldRing): void {
  const detached = detachAll(held.buffers);
  held.buffers = [];
  if (!detached) return;
  if (held.producerAddress !== 0n) {
    munmap(held.producerAddress, held.producerLength);
    held.producerAddress = 0n;
  }
  if (held.consumerAddress !== 0n) {
    munmap(held.consumerAddress, held.consumerLength);
    held.consumerAddress = 0n;
  }
}
