/**
 * The live profile: the running kernel asked, one question at a time, with tiny programs and maps
 * (as cilium/ebpf's `features` package and libbpf's `libbpf_probe_bpf_*` do). Each answer is
 * probed on first use, then cached in memory and on disk for the rest of the boot.
 *
 * Helper sets are probed per program variant and capability tier: the probe lowers the calling
 * thread's effective capabilities to the tier's (capset(2); the permitted set is kept), loads one
 * `call N` program per helper id and restores the capabilities.
 *
 * @module
 */
import { HELPER_NAMES } from "../../types/helpers.ts";
import { MapType, mapTypeName } from "../../types/map_type.ts";
import { attachTypeName } from "../../types/attach_type.ts";
import { linkTypeName } from "../../types/link_type.ts";
import { progTypeName } from "../../types/prog_type.ts";
import type { Btf } from "../btf/btf.ts";
import { Capability } from "../caps.ts";
import { kernelBtf, kernelModuleBtf } from "../elf/vmlinux.ts";
import { readDirNames } from "../host_fs.ts";
import { BpfError } from "../errors.ts";
import { BpfMap } from "../map/map.ts";
import { MapOpNotSupportedError } from "../map/errors.ts";
import { MAP_TYPES } from "../map/map_types.ts";
import { getProgType } from "../progtype/registry.ts";
import { bootKey, ProfileCache } from "./cache.ts";
import { threadCapabilities, withEffectiveCapabilities } from "./capset.ts";
import { type LoadResult, probeLoad } from "./probe_load.ts";
import { pathExists } from "../host_fs.ts";
import { AttachType } from "../../types/attach_type.ts";
import { ProgType } from "../../types/prog_type.ts";
import {
  type Answer,
  type CapTier,
  type InsnFeature,
  type KernelFeature,
  type KernelProfile,
  no,
  type ProgVariant,
  unknown,
  yes,
} from "./types.ts";
import { type ProbeTarget, probeTargetOf } from "./variant.ts";
import {
  helperFromSet,
  helperKnownFromSet,
  type HelperSet,
  helperSetKey,
  isAnswer,
  isHelperSet,
  variantLabel,
} from "./stored.ts";

const bit = (c: number): bigint => 1n << BigInt(c);
/** The effective capabilities of each tier below `admin`. */
const TIER_MASK: Readonly<Record<Exclude<CapTier, "admin">, bigint>> = {
  unprivileged: 0n,
  bpf: bit(Capability.BPF) | bit(Capability.NET_ADMIN),
  perfmon: bit(Capability.BPF) | bit(Capability.PERFMON) | bit(Capability.NET_ADMIN),
};
const CAP_NAMES: readonly [number, string][] = [
  [Capability.SYS_ADMIN, "CAP_SYS_ADMIN"],
  [Capability.BPF, "CAP_BPF"],
  [Capability.PERFMON, "CAP_PERFMON"],
  [Capability.NET_ADMIN, "CAP_NET_ADMIN"],
];

type Stored = HelperSet | Answer;

/** Small valid creation parameters of every map type user space can create by itself. */
const MAP_PARAMS: Readonly<Record<string, Record<string, number>>> = {
  hash: { keySize: 4, valueSize: 8, maxEntries: 1 },
  array: { valueSize: 8, maxEntries: 1 },
  prog_array: { maxEntries: 1 },
  perf_event_array: { maxEntries: 1 },
  percpu_hash: { keySize: 4, valueSize: 8, maxEntries: 1 },
  percpu_array: { valueSize: 8, maxEntries: 1 },
  stack_trace: { valueSize: 8, maxEntries: 1 },
  cgroup_array: { maxEntries: 1 },
  lru_hash: { keySize: 4, valueSize: 8, maxEntries: 1 },
  lru_percpu_hash: { keySize: 4, valueSize: 8, maxEntries: 1 },
  lpm_trie: { keySize: 8, valueSize: 8, maxEntries: 1 },
  array_of_maps: { maxEntries: 1 },
  hash_of_maps: { keySize: 4, maxEntries: 1 },
  devmap: { maxEntries: 1 },
  sockmap: { maxEntries: 1 },
  cpumap: { maxEntries: 1 },
  xskmap: { maxEntries: 1 },
  sockhash: { keySize: 4, maxEntries: 1 },
  reuseport_sockarray: { maxEntries: 1 },
  queue: { valueSize: 4, maxEntries: 1 },
  stack: { valueSize: 4, maxEntries: 1 },
  sk_storage: { valueSize: 8 },
  devmap_hash: { maxEntries: 1 },
  ringbuf: { maxEntries: 4096 },
  inode_storage: { valueSize: 8 },
  task_storage: { valueSize: 8 },
  bloom_filter: { valueSize: 4, maxEntries: 1 },
  user_ringbuf: { maxEntries: 4096 },
  cgrp_storage: { valueSize: 8 },
  arena: { maxEntries: 1 },
};

/**
 * The running kernel as a {@link KernelProfile}. Use {@link liveProfile} for the shared instance.
 *
 * @example
 * ```ts
 * import { liveProfile } from "@tsbpf/core/profile";
 * const arena = liveProfile().mapType(33);
 * if (arena.state !== "yes") console.log(`no arena: ${arena.reason}`);
 * ```
 */
export class LiveProfile implements KernelProfile {
  readonly name: string;
  readonly #cache: ProfileCache;
  #btf: Btf | null | undefined;
  #flushQueued = false;

  /** A live profile backed by `cache` (default: the per-boot file of this user). */
  constructor(cache: ProfileCache = new ProfileCache()) {
    this.#cache = cache;
    this.name = `live: Linux ${bootKey()?.release ?? "(unknown release)"}`;
  }

  /** The cache behind the answers. */
  get cache(): ProfileCache {
    return this.#cache;
  }

  /** Whether the kernel loads a trivial program of type `type` for this process (probed once). */
  progType(type: number): Answer {
    const key = `prog:${type}`;
    const c = this.#cache.get(key);
    if (isAnswer(c)) return c;
    const a = this.#probeProgType(type);
    this.#remember(key, a);
    return a;
  }

  /** Whether the kernel creates a small map of type `type` for this process (probed once). */
  mapType(type: number): Answer {
    const key = `map:${type}`;
    const c = this.#cache.get(key);
    if (isAnswer(c)) return c;
    const a = this.#probeMapType(type);
    this.#remember(key, a);
    return a;
  }

  /** Whether the kernel knows helper id `id` (from the socket-filter helper probe, as root). */
  helperKnown(id: number): Answer {
    return helperKnownFromSet(this.#helperSet({ type: 1 }, "admin"), id);
  }

  /** Whether `variant` at `tier` may call helper `id` (its helper set is probed once). */
  helper(variant: ProgVariant, id: number, tier: CapTier): Answer {
    return helperFromSet(this.#helperSet(variant, tier), variant, id, tier);
  }

  /** Whether the verifier accepts a tiny program using `feature` (probed once). */
  insn(feature: InsnFeature): Answer {
    const key = `insn:${feature}`;
    const c = this.#cache.get(key);
    if (isAnswer(c)) return c;
    const r = this.#atTier(
      "admin",
      () => probeLoad(SOCKET_FILTER, undefined, INSN_PROBES[feature]),
    );
    let a: Answer;
    if (!("ok" in r)) a = r;
    else if (r.ok) a = yes();
    else if (
      /unknown opcode|invalid atomic opcode|uses reserved fields|invalid BPF_/.test(
        r.log,
      )
    ) {
      a = no("absent", `the verifier refuses ${INSN_LABEL[feature]}: ${lastLine(r.log)}`);
    } else {a = unknown(
        `a ${INSN_LABEL[feature]} probe failed with errno ${r.errno}: ${lastLine(r.log)}`,
      );}
    this.#remember(key, a);
    return a;
  }

  /** Whether `feature` (BTF, kprobes, trampolines) is there and allowed (probed once). */
  feature(feature: KernelFeature): Answer {
    const key = `feature:${feature}`;
    const c = this.#cache.get(key);
    if (isAnswer(c)) return c;
    let a: Answer;
    if (feature === "struct_ops_link") {
      // The link that registers a struct_ops map (Linux 6.4) is in the kernel's BTF with it.
      const btf = this.#kernelBtf();
      a = btf === undefined
        ? unknown("the kernel has no BTF to look struct bpf_struct_ops_link up in")
        : btf.find("struct", "bpf_struct_ops_link") !== undefined
        ? yes()
        : no(
          "absent",
          "this kernel has no struct_ops links (no struct bpf_struct_ops_link in its BTF): " +
            ".struct_ops.link maps need Linux 6.4",
        );
    } else if (feature === "hash_lookup_and_delete") {
      // A missing key: ENOENT where hash maps have the operation, ENOTSUPP before 5.14.
      a = this.#atTier("admin", () => {
        let m: BpfMap | undefined;
        try {
          m = BpfMap.create({ type: "hash", keySize: 4, valueSize: 4, maxEntries: 1 });
          m.getAndDelete(new Uint8Array(4));
          return yes();
        } catch (e) {
          if (e instanceof MapOpNotSupportedError) return no("absent", e.message);
          return unknown(`a hash lookup-and-delete probe failed: ${(e as Error).message}`);
        } finally {
          m?.close();
        }
      });
    } else if (feature === "bpf_lsm") {
      // An inode_storage element on an inode (the map's own file): EBADF when no BPF LSM blob.
      const maps = this.mapType(MapType.INODE_STORAGE);
      a = maps.state !== "yes" ? maps : this.#atTier("admin", () => {
        let m: BpfMap | undefined;
        try {
          m = BpfMap.create({ type: "inode_storage", ...MAP_PARAMS.inode_storage });
          const key = new Uint8Array(4);
          new DataView(key.buffer).setInt32(0, m.fd, true);
          m.set(key, new Uint8Array(m.valueSize));
          m.delete(key);
          return yes();
        } catch (e) {
          if (e instanceof BpfError && e.errnoName === "EBADF") {
            return no(
              "refused",
              "the BPF LSM is not active in this kernel (bpf is not in its lsm= list): inodes " +
                "carry no BPF storage (inode_storage updates answer EBADF)",
            );
          }
          return unknown(`an inode_storage probe failed: ${(e as Error).message}`);
        } finally {
          m?.close();
        }
      });
    } else if (feature === "early_insn_checks") {
      // A frame-pointer write (a do_check() refusal) before a MOV with a reserved field: a
      // verifier that checks fields in an early pass names the MOV, an older one the write.
      const r = this.#atTier("admin", () => probeLoad(SOCKET_FILTER, undefined, FIELD_ORDER_PROBE));
      if (!("ok" in r)) a = r;
      else if (r.ok) a = unknown("the field-order probe loaded, though it writes r10");
      else if (/uses reserved fields/.test(r.log)) a = yes();
      else if (/frame pointer is read only/.test(r.log)) {
        a = no(
          "absent",
          "this verifier checks registers and reserved fields as do_check() reaches each " +
            "instruction (before Linux 7.x)",
        );
      } else a = unknown(`the field-order probe failed with errno ${r.errno}: ${lastLine(r.log)}`);
    } else if (feature === "may_goto_zero") {
      const r = this.#atTier("admin", () => probeLoad(SOCKET_FILTER, undefined, MAY_GOTO_ZERO));
      if (!("ok" in r)) a = r;
      else if (r.ok) a = yes();
      else if (/invalid may_goto off/.test(r.log)) {
        a = no("absent", `this verifier refuses may_goto +0: ${lastLine(r.log)}`);
      } else if (/unknown opcode e5/.test(r.log)) {
        a = no("absent", "this kernel has no may_goto at all (unknown opcode e5)");
      } else a = unknown(`a may_goto +0 probe failed with errno ${r.errno}: ${lastLine(r.log)}`);
    } else if (feature === "gotox") {
      // gotox r0 without a jump table: a kernel that knows the opcode refuses the missing table
      // (or the register), one that does not refuses the opcode.
      const r = this.#atTier("admin", () => probeLoad(SOCKET_FILTER, undefined, GOTOX_PROBE));
      if (!("ok" in r)) a = r;
      else if (r.ok) a = yes();
      else if (/unknown opcode 0d/.test(r.log)) {
        a = no("absent", "this kernel has no indirect jumps (gotox: unknown opcode 0d)");
      } else if (r.log.trim() !== "") a = yes();
      else a = unknown(`a gotox probe failed with errno ${r.errno} and no verifier log`);
    } else if (feature === "btf") {
      a = pathExists("/sys/kernel/btf/vmlinux") ? yes() : no(
        "absent",
        "the kernel has no BTF (/sys/kernel/btf/vmlinux; CONFIG_DEBUG_INFO_BTF off)",
      );
    } else if (feature === "kprobes") {
      // The kprobe PMU, or tracefs kprobe_events (whichever is mounted) where the PMU is absent.
      const tracefs = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"].some((d) =>
        pathExists(`${d}/kprobe_events`)
      );
      a = pathExists("/sys/bus/event_source/devices/kprobe") || tracefs ? yes() : no(
        "absent",
        "the kernel has neither a kprobe PMU (/sys/bus/event_source/devices/kprobe) nor tracefs " +
          "kprobe_events: CONFIG_KPROBES is off",
      );
    } else {
      const target = this.#target({
        type: ProgType.TRACING,
        expectedAttachType: AttachType.TRACE_FENTRY,
      });
      if (typeof target === "string") a = unknown(target);
      else {
        const r = this.#atTier("admin", () => probeLoad(target));
        if (!("ok" in r)) a = r;
        else if (r.ok) a = yes();
        else if (r.errno === 1) {
          a = no("refused", policyReason("fentry/fexit programs (BPF trampolines)"));
        } else if (r.errno === 524 || r.errno === 95 || r.errno === 22) {
          a = no(
            "absent",
            `this kernel has no BPF trampolines (errno ${r.errno}: ${lastLine(r.log)})`,
          );
        } else a = unknown(`an fentry probe failed with errno ${r.errno}: ${lastLine(r.log)}`);
      }
    }
    this.#remember(key, a);
    return a;
  }

  /** Whether the kernel's `enum bpf_attach_type` has the value `type` (from its BTF, once). */
  attachType(type: number): Answer {
    return this.#enumAnswer("attach", "bpf_attach_type", type, attachTypeName(type));
  }

  /** Whether the kernel's `enum bpf_link_type` has the value `type` (from its BTF, once). */
  linkType(type: number): Answer {
    return this.#enumAnswer("link", "bpf_link_type", type, linkTypeName(type));
  }

  /** Whether the kernel's BTF has a function `name` (a kfunc a program may call), once. */
  kfunc(name: string): Answer {
    const key = `kfunc:${name}`;
    const c = this.#cache.get(key);
    if (isAnswer(c)) return c;
    const btf = this.#kernelBtf();
    let a: Answer;
    if (btf === undefined) a = unknown("the kernel has no BTF to look kfuncs up in");
    else if (btf.find("func", name) !== undefined) a = yes();
    else {
      // Not in vmlinux: a loaded module's BTF (nf_conntrack's bpf_ct_*).
      let modules: string[] = [];
      try {
        modules = readDirNames("/sys/kernel/btf").filter((m) => m !== "vmlinux");
      } catch {
        // no module BTF directory
      }
      const inModule = modules.find((m) => {
        try {
          return kernelModuleBtf(m).find("func", name) !== undefined;
        } catch {
          return false;
        }
      });
      a = inModule !== undefined ? yes() : no(
        "absent",
        `neither vmlinux nor a loaded module's BTF has function ${name} (no such kfunc here)`,
      );
    }
    this.#remember(key, a);
    return a;
  }

  #enumAnswer(what: string, cEnum: string, value: number, name: string | undefined): Answer {
    const key = `${what}:${value}`;
    const c = this.#cache.get(key);
    if (isAnswer(c)) return c;
    const btf = this.#kernelBtf();
    const e = btf?.find("enum", cEnum);
    let a: Answer;
    if (btf === undefined) a = unknown(`the kernel has no BTF to read enum ${cEnum} from`);
    else if (e === undefined || (e.kind !== "enum" && e.kind !== "enum64")) {
      a = unknown(`the kernel's BTF has no enum ${cEnum}`);
    } else {
      const known = e.values.some((v) => v.value === value && !/^_*MAX_/.test(v.name));
      a = known ? yes() : no(
        "absent",
        `this kernel has no ${what} type ${name ?? value} (not in its enum ${cEnum})`,
      );
    }
    this.#remember(key, a);
    return a;
  }

  /**
   * The ids of the helpers a program of `variant` may call at `tier`, as the kernel answers, or
   * the answer that says why there is no such set.
   *
   * @example
   * ```ts
   * import { liveProfile } from "@tsbpf/core/profile";
   * const ids = liveProfile().helperIds({ type: 6 }, "admin"); // XDP
   * Array.isArray(ids) && ids.includes(44); // bpf_xdp_adjust_head
   * ```
   */
  helperIds(variant: ProgVariant, tier: CapTier): number[] | Answer {
    const set = this.#helperSet(variant, tier);
    return isHelperSet(set) ? [...set.a] : set;
  }

  #remember(key: string, value: Stored): void {
    this.#cache.set(key, value);
    // Answers that may change (unknown) stay in memory; the others persist for the boot.
    // Persisted once per turn of the event loop: many answers probed together, one write.
    if (!(isAnswer(value) && value.state === "unknown") && !this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => {
        this.#flushQueued = false;
        this.#cache.flush();
      });
    }
  }

  #kernelBtf(): Btf | undefined {
    if (this.#btf === undefined) {
      try {
        this.#btf = kernelBtf();
      } catch {
        this.#btf = null;
      }
    }
    return this.#btf ?? undefined;
  }

  #target(variant: ProgVariant): ProbeTarget | string {
    return probeTargetOf(variant, () => this.#kernelBtf());
  }

  /** Runs `fn` with the tier's capabilities, or says why it cannot. */
  #atTier<T>(tier: CapTier, fn: () => T): T | Answer {
    const caps = threadCapabilities();
    if (caps === undefined) {
      return unknown("capget(2) failed: this thread's capabilities are unknown");
    }
    if (tier === "admin") {
      if ((caps.effective & bit(Capability.SYS_ADMIN)) === 0n) {
        return unknown("this process lacks CAP_SYS_ADMIN, so it cannot ask as root");
      }
      return fn();
    }
    const mask = TIER_MASK[tier];
    const lacking = CAP_NAMES.filter(([c]) =>
      (mask & bit(c)) !== 0n && (caps.permitted & bit(c)) === 0n
    );
    if (lacking.length > 0) {
      return unknown(
        `this process lacks ${
          lacking.map(([, n]) => n).join(", ")
        }, so it cannot ask as tier ${tier}`,
      );
    }
    try {
      return withEffectiveCapabilities(mask, fn);
    } catch (e) {
      return unknown(`cannot lower the capabilities to tier ${tier}: ${(e as Error).message}`);
    }
  }

  #helperSet(variant: ProgVariant, tier: CapTier): HelperSet | Answer {
    const key = helperSetKey(variant, tier);
    const c = this.#cache.get(key);
    if (isHelperSet(c) || isAnswer(c)) return c;
    const target = this.#target(variant);
    let result: HelperSet | Answer;
    if (typeof target === "string") {
      result = unknown(target);
    } else {
      const r = this.#atTier(tier, () => probeHelperSet(target, variant, tier));
      result = r;
    }
    this.#remember(key, result);
    return result;
  }

  #probeProgType(type: number): Answer {
    const name = progTypeName(type) ?? `${type}`;
    const def = getProgType(type);
    const required = def?.expectedAttachTypes.find((a) => a.requiredAtLoad)?.type;
    const variant: ProgVariant = {
      type,
      ...(required !== undefined ? { expectedAttachType: required } : {}),
      ...(type === 29 ? { attachTo: "file_open", expectedAttachType: 27 } : {}),
      ...(type === 27 ? { attachTo: "tcp_congestion_ops.ssthresh" } : {}),
      ...(type === 26 ? { expectedAttachType: 23 } : {}),
    };
    const target = this.#target(variant);
    if (typeof target === "string") return unknown(target);
    const r = this.#atTier("admin", () => probeLoad(target));
    if (!("ok" in r)) return r;
    if (r.ok || r.log.trim() !== "") return yes();
    if (r.errno === 22) {
      return no("absent", `this kernel refuses ${name} programs with EINVAL (not in this kernel)`);
    }
    if (r.errno === 1) return no("refused", policyReason(`${name} programs`));
    return unknown(`a trivial ${name} program is refused with errno ${r.errno}`);
  }

  #probeMapType(type: number): Answer {
    const name = mapTypeName(type);
    const info = MAP_TYPES.find((t) => t.type === type);
    if (name === undefined || info === undefined) {
      return unknown(`map type ${type} is not in tsbpf's table: it cannot build a probe for it`);
    }
    const params = MAP_PARAMS[name];
    if (!info.standalone || params === undefined) {
      return unknown(`a ${name} map cannot be created by itself (it needs a program or a type)`);
    }
    let inner: BpfMap | undefined;
    try {
      if (name === "array_of_maps" || name === "hash_of_maps") {
        inner = BpfMap.create({ type: "array", keySize: 4, valueSize: 4, maxEntries: 1 });
      }
      BpfMap.create({ type, ...params, ...(inner ? { innerMap: inner } : {}) }).close();
      return yes();
    } catch (e) {
      if (!(e instanceof BpfError)) return unknown(`${name}: ${(e as Error).message}`);
      if (e.errno === 22) {
        return no("absent", `this kernel refuses ${name} maps with EINVAL (not in this kernel)`);
      }
      if (e.errno === 1) return no("refused", policyReason(`${name} maps`));
      if (e.errno === 524 || e.errno === 95) {
        return no("absent", `this kernel does not support ${name} maps (${e.errnoName})`);
      }
      return unknown(`creating a ${name} map failed with ${e.errnoName}`);
    } finally {
      inner?.close();
    }
  }
}

/**
 * Why the kernel refused with EPERM: a missing capability (named) or, when the process holds them
 * all, a policy of this kernel.
 */
function policyReason(what: string): string {
  const caps = threadCapabilities();
  if (caps === undefined) return `this kernel refuses ${what} for this process (EPERM)`;
  const missing = CAP_NAMES.filter(([c]) => (caps.effective & bit(c)) === 0n).map(([, n]) => n);
  return missing.length === 0
    ? `this kernel refuses ${what} for this process (EPERM although it holds CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN: a kernel policy)`
    : `this kernel refuses ${what} for this process (EPERM; it lacks ${missing.join(", ")})`;
}

/** Little-endian `bpf_insn` bytes. */
function ins(code: number, dst: number, src: number, off: number, imm: number): number[] {
  return [
    code,
    (src << 4) | dst,
    off & 0xff,
    (off >> 8) & 0xff,
    imm & 0xff,
    (imm >> 8) & 0xff,
    (imm >> 16) & 0xff,
    (imm >>> 24) & 0xff,
  ];
}

const EXIT = ins(0x95, 0, 0, 0, 0);
const R0_0 = ins(0xb7, 0, 0, 0, 0);

/** One tiny program per instruction feature; each returns 0. */
const INSN_PROBES: Readonly<Record<InsnFeature, readonly number[]>> = {
  // if r0 < 1 goto +0
  v2: [...R0_0, ...ins(0xa5, 0, 0, 0, 1), ...EXIT],
  // w0 = 0; if w0 == 0 goto +0
  v3: [...ins(0xb4, 0, 0, 0, 0), ...ins(0x16, 0, 0, 0, 0), ...EXIT],
  // *(u64 *)(r10 - 8) = 0; r0 = 0; r0 = atomic_fetch_add((u64 *)(r10 - 8), r0)
  atomic_fetch: [...ins(0x7a, 10, 0, -8, 0), ...R0_0, ...ins(0xdb, 10, 0, -8, 0x01), ...EXIT],
  // r0 = 1; r0 s/= 1; r0 = 0
  v4: [...ins(0xb7, 0, 0, 0, 1), ...ins(0x37, 0, 0, 1, 1), ...R0_0, ...EXIT],
  // *(u64 *)(r10 - 8) = 0; r0 = load_acquire((u64 *)(r10 - 8)); r0 = 0
  load_acquire: [...ins(0x7a, 10, 0, -8, 0), ...ins(0xdb, 0, 10, -8, 0x100), ...R0_0, ...EXIT],
  // may_goto +1 (6.12 refuses an offset of 0: "invalid may_goto off 0"); r0 = 0; r0 = 0
  may_goto: [...ins(0xe5, 0, 0, 1, 0), ...R0_0, ...R0_0, ...EXIT],
};

const INSN_LABEL: Readonly<Record<InsnFeature, string>> = {
  v2: "cpu v2 jumps (JLT)",
  v3: "cpu v3 instructions (JMP32)",
  atomic_fetch: "atomics that fetch (atomic_fetch_add)",
  v4: "cpu v4 instructions (signed division)",
  load_acquire: "load-acquire atomics",
  may_goto: "may_goto",
};

/** r10 = 0 (refused by do_check()); r0 = 0; r0 = 0 with src_reg 1 (a reserved field); exit. */
const FIELD_ORDER_PROBE: readonly number[] = [
  ...ins(0xb7, 10, 0, 0, 0),
  ...R0_0,
  ...ins(0xb7, 0, 1, 0, 0),
  ...EXIT,
];

/** r0 = 0; gotox r0; r0 = 0; exit. */
const GOTOX_PROBE: readonly number[] = [...R0_0, ...ins(0x0d, 0, 0, 0, 0), ...R0_0, ...EXIT];

/** may_goto +0; r0 = 0; exit. */
const MAY_GOTO_ZERO: readonly number[] = [...ins(0xe5, 0, 0, 0, 0), ...R0_0, ...EXIT];

const SOCKET_FILTER: ProbeTarget = { type: 1, expectedAttachType: 0, attachBtfId: 0, flags: 0 };

function lastLine(log: string): string {
  const lines = log.split("\n").map((l) => l.trim()).filter((l) =>
    l !== "" && !/^processed \d+ insns|^verification time/.test(l)
  );
  return lines[lines.length - 1] ?? "no verifier log";
}

/** The kernel's verdict on `call id` in a load result. */
function verdict(r: LoadResult): "available" | "unavailable" | "invalid" | "undecided" {
  if (r.ok) return "available";
  if (r.log.includes("invalid func ")) return "invalid";
  // "unknown func" before Linux 5.19 (and since, for an id the type does not offer).
  if (r.log.includes("cannot use helper") || r.log.includes("unknown func ")) return "unavailable";
  // Any later complaint (about the zero arguments, typically) means the helper check passed.
  return r.log.trim() !== "" ? "available" : "undecided";
}

/** Probes every helper id for one target (called with the tier's capabilities in effect). */
function probeHelperSet(
  target: ProbeTarget,
  variant: ProgVariant,
  tier: CapTier,
): HelperSet | Answer {
  const trivial = probeLoad(target);
  if (!trivial.ok && trivial.log.trim() === "") {
    const what = `${variantLabel(variant)} programs`;
    if (trivial.errno === 22) {
      return no("absent", `this kernel refuses ${what} with EINVAL (not in this kernel)`);
    }
    return unknown(
      `a trivial program is refused at tier ${tier} with errno ${trivial.errno}` +
        (trivial.errno === 1 ? ` (EPERM: ${policyReason(what)})` : ""),
    );
  }
  const available: number[] = [];
  let unknownFunc = false;
  for (let id = 0;; id++) {
    const r = probeLoad(target, id);
    const v = verdict(r);
    // `invalid func` from the first id past the kernel's last (`__BPF_FUNC_MAX_ID`).
    if (v === "invalid") {
      return { s: "ok", a: available, n: id, ...(unknownFunc ? { w: "unknown func" } : {}) };
    } else if (v === "available") {
      available.push(id);
    } else if (v === "unavailable") {
      // Kernels before 5.19 word a helper the type does not offer `unknown func bpf_x#n`.
      if (!r.ok && !r.log.includes("cannot use helper")) unknownFunc = true;
    } else if (v === "undecided") {
      return unknown(`helper ${id}: the kernel refused the probe without a verifier log`);
    }
    if (id > HELPER_NAMES.length + 64) {
      return unknown(`the kernel answered no helper id up to ${id} with invalid func`);
    }
  }
}

let shared: LiveProfile | undefined;

/**
 * The running kernel's profile, shared by the process (created on first use; probes nothing until
 * asked).
 *
 * @example
 * ```ts
 * import { liveProfile } from "@tsbpf/core/profile";
 * liveProfile().progType(6).state; // "yes": XDP
 * ```
 */
export function liveProfile(): LiveProfile {
  return shared ??= new LiveProfile();
}
