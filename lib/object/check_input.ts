/**
 * What `loadObject` gives the deep pre-load checker: the maps' shapes (value fields such as a spin
 * lock) and the programs' C source lines. Internal to `lib/object/`.
 *
 * @module
 */
import type { Btf } from "../btf/btf.ts";
import type { SourceLine } from "../check/types.ts";
import type { MapDescription } from "../verifier/maps.ts";
import type { BpfMap } from "../map/map.ts";
import type { ObjectSpec } from "../elf/spec.ts";

/** BTF line info with its strings resolved (records whose strings do not resolve are left out). */
export function sourceLines(
  lines: readonly {
    insn: number;
    fileNameOff: number;
    lineOff: number;
    line: number;
    column: number;
  }[],
  btf: Btf,
): SourceLine[] {
  const out: SourceLine[] = [];
  for (const l of lines) {
    try {
      out.push({
        insn: l.insn,
        file: btf.string(l.fileNameOff),
        line: l.line,
        column: l.column,
        text: btf.string(l.lineOff),
      });
    } catch {
      // an offset outside the string section: no source for these instructions
    }
  }
  return out;
}

/** Struct types the verifier treats as special fields of a map value. */
const SPECIAL_STRUCTS = new Set([
  "bpf_res_spin_lock",
  "bpf_timer",
  "bpf_wq",
  "bpf_task_work",
  "bpf_list_head",
  "bpf_list_node",
  "bpf_rb_root",
  "bpf_rb_node",
  "bpf_refcount",
  "bpf_workqueue",
]);

/**
 * Where the value type holds special fields: `{ lock }` for a single `struct bpf_spin_lock` and
 * nothing else special, `"plain"` for none, `"special"` otherwise (timers, kptrs, lists…).
 */
function valueFields(btf: Btf, id: number): { lock: number } | "plain" | "special" {
  let lock = -1;
  let special = false;
  const walk = (tid: number, base: number, depth: number): void => {
    if (special || depth > 32) {
      special = true;
      return;
    }
    let t = btf.typeById(tid);
    for (let k = 0; k < 32; k++) {
      if (t.kind === "type_tag") {
        if (/kptr|percpu|rcu/.test(t.name)) special = true;
        t = btf.typeById(t.type);
      } else if (
        t.kind === "const" || t.kind === "volatile" || t.kind === "restrict" || t.kind === "typedef"
      ) {
        t = btf.typeById(t.type);
      } else break;
    }
    if (t.kind === "ptr") {
      // A pointer is a plain scalar unless tagged (kptr): its tags are on the pointee chain.
      let p = btf.typeById(t.type);
      for (let k = 0; k < 32 && p.kind === "type_tag"; k++) {
        if (/kptr|percpu|rcu/.test(p.name)) special = true;
        p = btf.typeById(p.type);
      }
      return;
    }
    if (t.kind === "struct" || t.kind === "union") {
      if (t.name === "bpf_spin_lock") {
        if (lock >= 0) special = true;
        lock = base;
        return;
      }
      if (SPECIAL_STRUCTS.has(t.name)) {
        special = true;
        return;
      }
      for (const m of t.members) walk(m.type, base + Math.floor(m.bitOffset / 8), depth + 1);
      return;
    }
    if (t.kind === "array") {
      const before = lock;
      walk(t.type, base, depth + 1);
      if (lock !== before) special = true; // a lock in an array is not one lock
    }
  };
  try {
    walk(id, 0, 0);
  } catch {
    return "special";
  }
  if (special) return "special";
  return lock >= 0 ? { lock } : "plain";
}

/** The object's maps as the deep checker's data, with what their value BTF holds. */
export function describeForCheck(
  spec: ObjectSpec,
  maps: Record<string, BpfMap>,
): Record<number, MapDescription> {
  const out: Record<number, MapDescription> = {};
  for (const m of spec.maps) {
    const map = maps[m.name];
    if (map === undefined) continue;
    const d = map.describe();
    const vt = m.valueTypeId ?? 0;
    if (spec.types !== undefined && vt !== 0) {
      const f = valueFields(spec.types, vt);
      if (f === "plain") {
        delete d.btf;
        delete d.spinLock;
      } else if (f === "special") {
        d.btf = {};
        delete d.spinLock;
      } else {
        d.btf = {};
        d.spinLock = f.lock;
      }
    }
    out[map.fd] = d;
  }
  return out;
}
