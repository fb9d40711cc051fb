/**
 * Ring buffers: {@link RingBuffer} reads the records that BPF programs write into a
 * `BPF_MAP_TYPE_RINGBUF` map (`bpf_ringbuf_output`, `bpf_ringbuf_reserve` + `submit`), in place
 * through a shared mapping, and waits for them without blocking the event loop;
 * {@link UserRingBuffer} writes records into a `BPF_MAP_TYPE_USER_RINGBUF` map for programs that
 * call `bpf_user_ringbuf_drain`.
 *
 * ```ts
 * import { BpfMap } from "@tsbpf/core";
 * import { RingBuffer } from "@tsbpf/core/ringbuf";
 * using map = BpfMap.create({ type: "ringbuf", maxEntries: 1 << 16 });
 * using rb = new RingBuffer(map);
 * for await (const record of rb) console.log(record);
 * ```
 *
 * @module
 */
export {
  type ConsumeOptions,
  type RawRecordCallback,
  type RecordCallback,
  RingBuffer,
  RingBufferClosedError,
  type RingBufferOptions,
  type RingBufferSource,
  SMALL_RECORD_BYTES,
} from "./ring_buffer.ts";
export { UserRingBuffer } from "./user_ring_buffer.ts";
