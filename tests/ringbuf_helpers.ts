/**
 * Helpers of the ring buffer tests: a BPF_PROG_TYPE_SYSCALL producer (raw_tracepoint on kernels
 * without syscall programs) written with `asm`, run through BPF_PROG_TEST_RUN, and mapping counts from /proc/self/maps.
 *
 * The producer reads `struct { u64 seq; u32 len; u32 mode; }` from its context and writes one
 * record into the ring:
 * - mode 0: `bpf_ringbuf_output` of the first `len` bytes (1–32) of the u64 words
 *   seq, seq+1, seq+2, seq+3;
 * - mode 1: `bpf_ringbuf_reserve(16)` + `submit` of seq, seq+1;
 * - mode 2: `bpf_ringbuf_reserve(16)` + `discard`;
 * - mode 3: `bpf_ringbuf_reserve(512)` + `submit`, seq at byte 0 and seq+1 at byte 504 (a record
 *   larger than `SMALL_RECORD_BYTES`);
 * - mode 4: `bpf_ringbuf_reserve(200)` + `submit`, seq at byte 0 and seq+1 at byte 192.
 * It returns 0, or a nonzero value when the ring is full (or the arguments are bad).
 */
import { readFileSync } from "node:fs";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { liveProfile } from "../lib/profile/live.ts";
import { ProgType } from "../types/prog_type.ts";
import { fdsOpenedSince } from "./util.ts";

/** BPF_F_SLEEPABLE: syscall programs must be sleepable. */
const BPF_F_SLEEPABLE = 1 << 4;

/** Record modes of the producer. */
export const Mode = { output: 0, submit: 1, discard: 2, big: 3, medium: 4 } as const;

/**
 * The producer's program type: `syscall` where the kernel has it (5.14), else `raw_tracepoint`,
 * whose BPF_PROG_TEST_RUN (5.10) passes the same context (up to 12 u64s) and which may call the
 * ring buffer helpers too. As the running kernel's profile answers.
 */
function producerType(): "syscall" | "raw_tracepoint" {
  return liveProfile().progType(ProgType.SYSCALL).state === "yes" ? "syscall" : "raw_tracepoint";
}

/** Loads the producer for the ring buffer map `ringFd`. */
export function loadProducer(ringFd: number): Program {
  const type = producerType();
  return Program.load({
    type,
    license: "GPL",
    flags: type === "syscall" ? BPF_F_SLEEPABLE : 0,
    insns: asm`
      r6 = r1
      r7 = *(u64 *)(r6 + 0)
      r8 = *(u32 *)(r6 + 8)
      r9 = *(u32 *)(r6 + 12)
      if r9 != 0 goto reserve
      *(u64 *)(r10 - 32) = r7
      r1 = r7
      r1 += 1
      *(u64 *)(r10 - 24) = r1
      r1 += 1
      *(u64 *)(r10 - 16) = r1
      r1 += 1
      *(u64 *)(r10 - 8) = r1
      if r8 > 32 goto bad
      if r8 == 0 goto bad
      r1 = map[fd:${ringFd}] ll
      r2 = r10
      r2 += -32
      r3 = r8
      r4 = 0
      call bpf_ringbuf_output
      exit
    reserve:
      if r9 == 3 goto big
      if r9 == 4 goto medium
      r1 = map[fd:${ringFd}] ll
      r2 = 16
      r3 = 0
      call bpf_ringbuf_reserve
      if r0 == 0 goto bad
      *(u64 *)(r0 + 0) = r7
      r1 = r7
      r1 += 1
      *(u64 *)(r0 + 8) = r1
      r1 = r0
      r2 = 0
      if r9 == 2 goto discard
      call bpf_ringbuf_submit
      r0 = 0
      exit
    discard:
      call bpf_ringbuf_discard
      r0 = 0
      exit
    medium:
      r1 = map[fd:${ringFd}] ll
      r2 = 200
      r3 = 0
      call bpf_ringbuf_reserve
      if r0 == 0 goto bad
      *(u64 *)(r0 + 0) = r7
      r1 = r7
      r1 += 1
      *(u64 *)(r0 + 192) = r1
      r1 = r0
      r2 = 0
      call bpf_ringbuf_submit
      r0 = 0
      exit
    big:
      r1 = map[fd:${ringFd}] ll
      r2 = 512
      r3 = 0
      call bpf_ringbuf_reserve
      if r0 == 0 goto bad
      *(u64 *)(r0 + 0) = r7
      r1 = r7
      r1 += 1
      *(u64 *)(r0 + 504) = r1
      r1 = r0
      r2 = 0
      call bpf_ringbuf_submit
      r0 = 0
      exit
    bad:
      r0 = -1
      exit`,
  });
}

/** Runs the producer once: one record with sequence number `seq`. Returns the program's r0. */
export function emit(prog: Program, seq: number, len = 8, mode: number = Mode.output): number {
  const ctx = new Uint8Array(new ArrayBuffer(16));
  const v = new DataView(ctx.buffer);
  v.setBigUint64(0, BigInt(seq), true);
  v.setUint32(8, len, true);
  v.setUint32(12, mode, true);
  return prog.testRun({ ctx, ctxOutSize: 0 }).retval;
}

/** The payload the producer writes for `seq` in mode 0 (`len` bytes) or mode 1 (16 bytes). */
export function expectedPayload(seq: number, len: number): Uint8Array {
  const words = new Uint8Array(32);
  const v = new DataView(words.buffer);
  for (let i = 0; i < 4; i++) v.setBigUint64(i * 8, BigInt(seq + i), true);
  return words.slice(0, len);
}

/**
 * This process's mappings of BPF maps (`anon_inode:bpf-map` in `/proc/self/maps`), each as its
 * line (address range, inode): take it before a test and hand it to {@link mappingsSince} after.
 */
export function bpfMapMappings(): Set<string> {
  return new Set(
    readFileSync("/proc/self/maps", "utf8").split("\n").filter((l) => l.includes("bpf-map")),
  );
}

/**
 * The BPF map mappings made since `before` (a {@link bpfMapMappings} snapshot) and still mapped.
 * A set difference, not a count: under Bun another test file's reader finalized meanwhile unmaps
 * its own areas.
 */
export function mappingsSince(before: ReadonlySet<string>): string[] {
  return [...bpfMapMappings()].filter((m) => !before.has(m));
}

/** The epoll instances (`anon_inode:[eventpoll]`) opened since the `openFds()` snapshot `before`. */
export function epollFdsSince(before: ReadonlySet<string>): string[] {
  return fdsOpenedSince(before, /^anon_inode:\[eventpoll\]$/);
}

/**
 * Raw BTF for the drain program: `int main(void *ctx)` and `int cb(void *dynptr, void *ctx)`,
 * both static (callbacks need func_info). Type ids: 4 = main, 6 = cb.
 */
export function drainBtf(): Uint8Array {
  const strings = "\0int\0ctx\0main\0dynptr\0cb\0";
  const off = (s: string): number => strings.indexOf(`\0${s}\0`) + 1;
  const t: number[] = [
    // 1: INT "int", 4 bytes, signed, 32 bits
    off("int"),
    1 << 24,
    4,
    (1 << 24) | 32,
    // 2: FUNC_PROTO int (void *ctx)
    0,
    (13 << 24) | 1,
    1,
    off("ctx"),
    3,
    // 3: PTR to void
    0,
    2 << 24,
    0,
    // 4: FUNC main, static
    off("main"),
    12 << 24,
    2,
    // 5: FUNC_PROTO int (void *dynptr, void *ctx)
    0,
    (13 << 24) | 2,
    1,
    off("dynptr"),
    3,
    off("ctx"),
    3,
    // 6: FUNC cb, static
    off("cb"),
    12 << 24,
    5,
  ];
  const typeLen = t.length * 4;
  const strBytes = new TextEncoder().encode(strings);
  const out = new Uint8Array(24 + typeLen + strBytes.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true);
  v.setUint8(2, 1);
  v.setUint32(4, 24, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, typeLen, true);
  v.setUint32(16, typeLen, true);
  v.setUint32(20, strBytes.length, true);
  t.forEach((x, i) => v.setUint32(24 + i * 4, x >>> 0, true));
  out.set(strBytes, 24 + typeLen);
  return out;
}

/**
 * Loads a syscall program that drains the user ring buffer `userFd` with
 * `bpf_user_ringbuf_drain` and echoes the first 16 bytes of every sample into the ring buffer
 * `outFd` (samples shorter than 16 bytes are counted but not echoed). It returns the number of
 * samples drained.
 */
export function loadDrainer(userFd: number, outFd: number, btfFd: number): Program {
  const main = asm`
    r1 = map[fd:${userFd}] ll
    r2 = func[pc+5] ll
    r3 = 0
    r4 = 0
    call bpf_user_ringbuf_drain
    exit`;
  const cb = asm`
    r3 = r1
    r1 = r10
    r1 += -16
    r2 = 16
    r4 = 0
    r5 = 0
    call bpf_dynptr_read
    if r0 != 0 goto skip
    r1 = map[fd:${outFd}] ll
    r2 = r10
    r2 += -16
    r3 = 16
    r4 = 0
    call bpf_ringbuf_output
  skip:
    r0 = 0
    exit`;
  return Program.load({
    type: "syscall",
    license: "GPL",
    flags: BPF_F_SLEEPABLE,
    insns: [...main, ...cb],
    btfFd,
    funcInfo: [{ insn: 0, typeId: 4 }, { insn: main.length, typeId: 6 }],
  });
}

/** Runs a program of type syscall once with an 8-byte context; returns r0. */
export function runSyscall(prog: Program): number {
  return prog.testRun({ ctx: new Uint8Array(8), ctxOutSize: 0 }).retval;
}
