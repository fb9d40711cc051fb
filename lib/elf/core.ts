/**
 * CO-RE (Compile Once – Run Everywhere) relocation: resolves `.BTF.ext` `bpf_core_relo` records
 * of a program against target BTF (normally the running kernel's) and patches the instructions.
 * Pure: works on bytes and parsed BTF.
 *
 * Candidates are the target types whose name equals the local name without its `___flavor`
 * suffix and whose kind is compatible; the accessor string (`0:1:2`) walks struct/union members by
 * name (also through anonymous members) and array elements by index. A relocation that cannot be
 * resolved poisons its instruction as libbpf does (`call 0xbad2310`), so a program that never
 * reaches it (guarded by `bpf_core_field_exists()`) still loads; the loader names the relocation if
 * the verifier refuses.
 *
 * @module
 */
import { type Btf, BTF_LIMITS } from "../btf/btf.ts";
import type { BtfType } from "../btf/types.ts";
import { BTF_INT_SIGNED } from "../btf/types.ts";
import { ObjectError } from "./error.ts";

/**
 * `enum bpf_core_relo_kind` names by number.
 *
 * @example
 * ```ts
 * import { CORE_RELO_KINDS } from "@tsbpf/core/elf";
 * CORE_RELO_KINDS[0]; // "FIELD_BYTE_OFFSET"
 * ```
 */
export const CORE_RELO_KINDS: readonly string[] = [
  "FIELD_BYTE_OFFSET",
  "FIELD_BYTE_SIZE",
  "FIELD_EXISTS",
  "FIELD_SIGNED",
  "FIELD_LSHIFT_U64",
  "FIELD_RSHIFT_U64",
  "TYPE_ID_LOCAL",
  "TYPE_ID_TARGET",
  "TYPE_EXISTS",
  "TYPE_SIZE",
  "ENUMVAL_EXISTS",
  "ENUMVAL_VALUE",
  "TYPE_MATCHES",
];

/**
 * The immediate of the instruction libbpf writes over a relocation it cannot resolve:
 * `call 0xbad2310` (the verifier reports it as an invalid call if it is reachable).
 *
 * @example
 * ```ts
 * import { CORE_POISON_IMM } from "@tsbpf/core/elf";
 * CORE_POISON_IMM.toString(16); // "bad2310"
 * ```
 */
export const CORE_POISON_IMM = 0xbad2310;

/**
 * The outcome of one CO-RE relocation.
 *
 * @example
 * ```ts
 * import type { CoreResult } from "@tsbpf/core/elf";
 * const r: CoreResult = {
 *   insn: 1, kind: "FIELD_BYTE_OFFSET", description: "FIELD_BYTE_OFFSET struct task_struct::pid (0:0)",
 *   value: 2536, poisoned: false,
 * };
 * ```
 */
export interface CoreResult {
  /** Instruction index in the linked program. */
  readonly insn: number;
  /** Relocation kind name (`CORE_RELO_KINDS`). */
  readonly kind: string;
  /** Kind, local type and accessor, e.g. `FIELD_BYTE_OFFSET struct task_struct::comm (0:2)`. */
  readonly description: string;
  /** The value written into the instruction; undefined when poisoned. */
  readonly value: number | bigint | undefined;
  /** The relocation could not be resolved and the instruction was poisoned. */
  readonly poisoned: boolean;
  /** Why it was poisoned. */
  readonly reason?: string;
}

/**
 * A CO-RE relocation record at a linked instruction index.
 *
 * @example
 * ```ts
 * import type { CoreReloInput } from "@tsbpf/core/elf";
 * const r: CoreReloInput = { insn: 1, typeId: 5, access: "0:0", kind: 0 };
 * ```
 */
export interface CoreReloInput {
  /** Instruction index. */
  readonly insn: number;
  /** Local root type id. */
  readonly typeId: number;
  /** Accessor string. */
  readonly access: string;
  /** Relocation kind number. */
  readonly kind: number;
}

/** A resolved field: bit offset from the root, the field's type id, bitfield width. */
interface FieldSpec {
  readonly bitOffset: number;
  readonly type: number;
  readonly bitfieldSize: number;
  readonly path: string;
}

const essential = (name: string): string => {
  const i = name.indexOf("___");
  return i < 0 ? name : name.slice(0, i);
};

function skipMods(btf: Btf, id: number): BtfType {
  return btf.resolve(id);
}

/** Field compatibility as libbpf's `bpf_core_fields_are_compat`. */
function fieldsCompat(local: Btf, lid: number, target: Btf, tid: number, depth = 0): boolean {
  const l = skipMods(local, lid);
  const t = skipMods(target, tid);
  if (depth > 32) return false;
  if (l.kind === "struct" || l.kind === "union") return t.kind === l.kind || t.kind === "fwd";
  if (l.kind === "enum" || l.kind === "enum64" || l.kind === "int") {
    return t.kind === "int" || t.kind === "enum" || t.kind === "enum64";
  }
  if (l.kind === "ptr") return t.kind === "ptr";
  if (l.kind === "float") return t.kind === "float";
  if (l.kind === "array") {
    return t.kind === "array" && fieldsCompat(local, l.type, target, t.type, depth + 1);
  }
  return l.kind === t.kind;
}

interface MemberAt {
  readonly type: number;
  readonly bitOffset: number;
  readonly bitfieldSize: number;
}

/**
 * The named members of struct/union types, anonymous members' included (at their offset within
 * the outer type), by name: built once per type object, so the kernel's shared BTF answers every
 * later load's lookups without walking member lists.
 */
const memberIndexes = new WeakMap<BtfType, Map<string, MemberAt>>();

function memberIndex(btf: Btf, t: BtfType & { kind: "struct" | "union" }): Map<string, MemberAt> {
  let ix = memberIndexes.get(t);
  if (ix === undefined) {
    ix = new Map();
    addMembers(btf, t, 0, ix, 0);
    memberIndexes.set(t, ix);
  }
  return ix;
}

function addMembers(
  btf: Btf,
  t: BtfType & { kind: "struct" | "union" },
  base: number,
  ix: Map<string, MemberAt>,
  depth: number,
): void {
  for (const m of t.members) {
    if (m.name !== "") {
      // The first of a name wins, as a walk in member order finds it.
      if (!ix.has(m.name)) {
        ix.set(m.name, {
          type: m.type,
          bitOffset: base + m.bitOffset,
          bitfieldSize: m.bitfieldSize,
        });
      }
    } else if (depth < 32) {
      const inner = skipMods(btf, m.type);
      if (inner.kind === "struct" || inner.kind === "union") {
        addMembers(btf, inner, base + m.bitOffset, ix, depth + 1);
      }
    }
  }
}

/** Finds a member by name in a struct/union, searching anonymous members too. */
function findMember(btf: Btf, id: number, name: string): MemberAt | undefined {
  const t = skipMods(btf, id);
  if (t.kind !== "struct" && t.kind !== "union") return undefined;
  return memberIndex(btf, t).get(name);
}

function parseAccess(access: string): number[] {
  checkAccess(access);
  const parts = access.split(":").map((x) => Number(x));
  if (parts.length === 0 || parts.some((x) => !Number.isInteger(x) || x < 0)) {
    throw new ObjectError(`CO-RE accessor "${access}" is malformed`);
  }
  return parts;
}

/** Refuses an access string over `BTF_LIMITS.coreAccessLength` characters or `.coreAccessDepth` steps. */
function checkAccess(access: string): void {
  if (typeof access !== "string" || access.length > BTF_LIMITS.coreAccessLength) {
    throw new ObjectError(
      `CO-RE accessor of ${
        typeof access === "string" ? `${access.length} characters` : typeof access
      } refused: a string of at most BTF_LIMITS.coreAccessLength (${BTF_LIMITS.coreAccessLength}) characters`,
    );
  }
  let steps = 1;
  for (let i = 0; i < access.length; i++) if (access.charCodeAt(i) === 0x3a) steps++;
  if (steps > BTF_LIMITS.coreAccessDepth) {
    throw new ObjectError(
      `CO-RE accessor "${
        access.slice(0, 40)
      }…" has ${steps} steps, over BTF_LIMITS.coreAccessDepth (${BTF_LIMITS.coreAccessDepth})`,
    );
  }
}

/** Walks the local accessor; returns the member names/indices per step and the local field. */
function localField(
  btf: Btf,
  root: number,
  acc: number[],
): { steps: (string | number)[]; field: FieldSpec } {
  let type = root;
  let bitOffset = acc[0] * btf.sizeOf(root) * 8;
  let bitfieldSize = 0;
  const steps: (string | number)[] = [];
  let path = "";
  for (let i = 1; i < acc.length; i++) {
    const t = skipMods(btf, type);
    if (t.kind === "struct" || t.kind === "union") {
      const m = t.members[acc[i]];
      if (m === undefined) {
        throw new ObjectError(`CO-RE accessor: member ${acc[i]} of [${t.id}] does not exist`);
      }
      if (m.name === "") {
        steps.push(acc[i]);
      } else {
        steps.push(m.name);
        path += (path ? "." : "") + m.name;
      }
      bitOffset += m.bitOffset;
      bitfieldSize = m.bitfieldSize;
      type = m.type;
    } else if (t.kind === "array") {
      steps.push(-1 - acc[i]); // negative: array index
      path += `[${acc[i]}]`;
      bitOffset += acc[i] * btf.sizeOf(t.type) * 8;
      bitfieldSize = 0;
      type = t.type;
    } else {
      throw new ObjectError(`CO-RE accessor: cannot index into ${t.kind} [${t.id}]`);
    }
  }
  return { steps, field: { bitOffset, type, bitfieldSize, path } };
}

/** Matches the local steps in a target candidate; undefined when some member is missing. */
function targetField(
  local: Btf,
  localRoot: number,
  acc: number[],
  steps: (string | number)[],
  target: Btf,
  root: number,
): FieldSpec | undefined {
  let ltype = localRoot;
  let type = root;
  let bitOffset = acc[0] * target.sizeOf(root) * 8;
  let bitfieldSize = 0;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    const lt = skipMods(local, ltype);
    const t = skipMods(target, type);
    if (typeof s === "number" && s < 0) {
      if (t.kind !== "array" || lt.kind !== "array") return undefined;
      const index = -1 - s;
      if (index >= t.nelems && t.nelems > 1) return undefined;
      bitOffset += index * target.sizeOf(t.type) * 8;
      bitfieldSize = 0;
      ltype = lt.type;
      type = t.type;
    } else {
      if (lt.kind !== "struct" && lt.kind !== "union") return undefined;
      const lm = lt.members[acc[i + 1]];
      if (typeof s === "number") {
        // An anonymous local member: named members below it are searched for through the
        // target's anonymous members too (findMember), so the target does not move here.
        if (i === steps.length - 1) {
          const tm = t.kind === lt.kind ? t.members[s] : undefined;
          if (tm === undefined || tm.name !== "") return undefined;
          bitOffset += tm.bitOffset;
          bitfieldSize = tm.bitfieldSize;
          type = tm.type;
        }
      } else {
        const tm = findMember(target, t.id, s);
        if (tm === undefined) return undefined;
        if (!fieldsCompat(local, lm.type, target, tm.type)) return undefined;
        bitOffset += tm.bitOffset;
        bitfieldSize = tm.bitfieldSize;
        type = tm.type;
      }
      ltype = lm.type;
    }
  }
  return { bitOffset, type, bitfieldSize, path: "" };
}

function fieldValue(btf: Btf, f: FieldSpec, kind: number): number {
  const t = skipMods(btf, f.type);
  const byteSize = btf.sizeOf(f.type);
  const byteOff = f.bitfieldSize === 0
    ? f.bitOffset / 8
    : Math.floor(f.bitOffset / 8 / byteSize) * byteSize;
  const bitSize = f.bitfieldSize || byteSize * 8;
  switch (kind) {
    case 0:
      if (f.bitfieldSize === 0 && f.bitOffset % 8 !== 0) {
        throw new ObjectError("field is not byte-aligned");
      }
      return byteOff;
    case 1:
      return byteSize;
    case 2:
      return 1;
    case 3:
      return (t.kind === "int" && (t.encoding & BTF_INT_SIGNED) !== 0) ||
          ((t.kind === "enum" || t.kind === "enum64") && t.signed)
        ? 1
        : 0;
    case 4:
      return 64 - (f.bitOffset + bitSize - byteOff * 8);
    case 5:
      return 64 - bitSize;
  }
  throw new ObjectError(`CO-RE relocation kind ${kind} is not a field relocation`);
}

/** Names match as CO-RE compares them: essential names equal, an anonymous target only matches anonymous. */
function namesMatch(localName: string, targetName: string): boolean {
  if (targetName === "") return localName === "";
  return essential(localName) === essential(targetName);
}

/**
 * Whether local type `lid` matches target type `tid` as `bpf_core_type_matches()` defines it
 * (the kernel's and libbpf's TYPE_MATCHES): same essential names after modifiers and typedefs;
 * every local member (struct, union) or enumerator has a match of that name in the target;
 * integers of the same size and sign; pointers, arrays (same length) and function prototypes
 * recursively. Behind a pointer, a struct or union only needs the same kind (or a forward
 * declaration of it).
 */
function typesMatch(
  local: Btf,
  lid: number,
  target: Btf,
  tid: number,
  behindPtr: boolean,
  level: number,
): boolean {
  if (level <= 0) return false;
  for (let depth = 0; depth < 32; depth++) {
    const l = skipMods(local, lid);
    const t = skipMods(target, tid);
    if (!namesMatch(l.name, t.name)) return false;
    switch (l.kind) {
      case "void":
        return t.kind === "void";
      case "fwd":
        if (behindPtr && t.kind !== "fwd") {
          return (t.kind === "struct" && !l.union) || (t.kind === "union" && l.union);
        }
        return t.kind === "fwd" && t.union === l.union;
      case "enum":
      case "enum64": {
        if (t.kind !== "enum" && t.kind !== "enum64") return false;
        if (l.size !== t.size || l.values.length > t.values.length) return false;
        const tv = t.values as readonly { name: string }[];
        return (l.values as readonly { name: string }[]).every((v) =>
          tv.some((w) => namesMatch(v.name, w.name))
        );
      }
      case "struct":
      case "union":
        if (behindPtr) {
          if (t.kind === l.kind) return true;
          return t.kind === "fwd" && t.union === (l.kind === "union");
        }
        if (t.kind !== l.kind || l.members.length > t.members.length) return false;
        return l.members.every((lm) =>
          (t as typeof l).members.some((tm) =>
            namesMatch(lm.name, tm.name) &&
            typesMatch(local, lm.type, target, tm.type, behindPtr, level - 1)
          )
        );
      case "int": {
        if (t.kind !== "int") return false;
        const SIGNED = 1;
        return l.size === t.size && (l.encoding & SIGNED) === (t.encoding & SIGNED);
      }
      case "ptr":
        if (t.kind !== "ptr") return false;
        behindPtr = true;
        lid = l.type;
        tid = t.type;
        continue;
      case "array":
        if (t.kind !== "array" || l.nelems !== t.nelems) return false;
        lid = l.type;
        tid = t.type;
        continue;
      case "func_proto":
        if (t.kind !== "func_proto" || l.params.length !== t.params.length) return false;
        if (l.variadic !== t.variadic) return false;
        for (let i = 0; i < l.params.length; i++) {
          if (
            !typesMatch(local, l.params[i].type, target, t.params[i].type, behindPtr, level - 1)
          ) {
            return false;
          }
        }
        lid = l.returnType;
        tid = t.returnType;
        continue;
      default:
        return false;
    }
  }
  return false;
}

function candidates(
  local: Btf,
  localId: number,
  target: Btf,
  cache?: Map<number, BtfType[]>,
): BtfType[] {
  let found = cache?.get(localId);
  if (found === undefined) {
    found = findCandidates(local, localId, target);
    cache?.set(localId, found);
  }
  return found;
}

function findCandidates(local: Btf, localId: number, target: Btf): BtfType[] {
  const l = skipMods(local, localId);
  const name = essential(l.name);
  if (name === "") return [];
  // Asking by kind lets a lazy target index only the kinds CO-RE can match (not functions).
  if (l.kind === "enum" || l.kind === "enum64") {
    return [...target.lookup(name, "enum"), ...target.lookup(name, "enum64")].sort((a, b) =>
      a.id - b.id
    );
  }
  return target.lookup(name, l.kind);
}

function describe(local: Btf, r: CoreReloInput): string {
  const kind = CORE_RELO_KINDS[r.kind] ?? `kind ${r.kind}`;
  let t: BtfType;
  try {
    t = local.typeById(r.typeId);
  } catch {
    return `${kind} [${r.typeId}] (${r.access})`;
  }
  const name = `${t.kind} ${t.name || "(anon)"}`;
  if (r.kind <= 5) {
    try {
      const { field } = localField(local, r.typeId, parseAccess(r.access));
      return `${kind} ${name}::${field.path} (${r.access})`;
    } catch {
      return `${kind} ${name} (${r.access})`;
    }
  }
  if (r.kind === 10 || r.kind === 11) {
    const e = skipMods(local, r.typeId);
    const v = (e.kind === "enum" || e.kind === "enum64")
      ? e.values[Number(r.access)]?.name
      : undefined;
    return `${kind} ${name}::${v ?? r.access}`;
  }
  return `${kind} ${name}`;
}

/**
 * Resolves one relocation: the value to write, or `undefined` with a reason when it cannot be
 * resolved (the caller poisons the instruction). `cache` (optional, one per local/kernel target
 * pair) keeps the kernel target's candidates of each local type id between calls.
 *
 * @throws {ObjectError} for a malformed record or an unknown kind.
 * @example
 * ```ts
 * import { parseBtf } from "@tsbpf/core/btf";
 * import { kernelBtf, resolveCoreRelo } from "@tsbpf/core/elf";
 * declare const local: ReturnType<typeof parseBtf>;
 * resolveCoreRelo({ insn: 0, typeId: 5, access: "0:1", kind: 0 }, local, kernelBtf());
 * ```
 */
export function resolveCoreRelo(
  r: CoreReloInput,
  local: Btf,
  kernelTarget: Btf,
  moduleTargets?: () => readonly Btf[],
  cache?: Map<number, BtfType[]>,
): { value: number | bigint | undefined; reason?: string } {
  checkAccess(r.access);
  const kind = r.kind;
  if (!Number.isInteger(kind) || kind < 0) {
    throw new ObjectError(
      `CO-RE relocation kind must be a non-negative integer, got ${typeof kind}`,
    );
  }
  if (kind > 12) throw new ObjectError(`CO-RE relocation kind ${kind} is unknown`);
  if (kind === 6) return { value: r.typeId };
  let target = kernelTarget;
  let cands = candidates(local, r.typeId, target, cache);
  if (cands.length === 0 && moduleTargets !== undefined) {
    // As libbpf: types vmlinux lacks are looked for in the loaded modules' BTF.
    for (const m of moduleTargets()) {
      const own = candidates(local, r.typeId, m).filter((c) => c.id >= m.firstId);
      if (own.length > 0) {
        target = m;
        cands = own;
        break;
      }
    }
  }
  if (kind === 12) {
    // TYPE_MATCHES: 1 when some candidate of the same name matches the local type's shape.
    const ok = cands.some((c) => typesMatch(local, r.typeId, target, c.id, false, 32));
    return { value: ok ? 1 : 0 };
  }
  const lroot = skipMods(local, r.typeId);
  if (kind <= 5) {
    if (lroot.kind !== "struct" && lroot.kind !== "union") {
      throw new ObjectError(`CO-RE relocation ${describe(local, r)}: root is a ${lroot.kind}`);
    }
    const acc = parseAccess(r.access);
    const { steps } = localField(local, r.typeId, acc);
    let found: number | undefined;
    for (const c of cands) {
      const f = targetField(local, r.typeId, acc, steps, target, c.id);
      if (f === undefined) continue;
      const v = fieldValue(target, f, kind);
      if (found !== undefined && found !== v) {
        return { value: undefined, reason: `candidates disagree (${found} vs ${v})` };
      }
      found = v;
    }
    if (found !== undefined) return { value: found };
    if (kind === 2) return { value: 0 };
    return {
      value: undefined,
      reason: cands.length === 0
        ? `no ${lroot.kind} named ${essential(lroot.name)} in the target BTF`
        : `the field is not in ${cands.length} candidate type(s) of the target BTF`,
    };
  }
  if (kind === 10 || kind === 11) {
    if (lroot.kind !== "enum" && lroot.kind !== "enum64") {
      throw new ObjectError(`CO-RE relocation ${describe(local, r)}: not an enum`);
    }
    const lv = lroot.values[Number(r.access)];
    if (lv === undefined) {
      throw new ObjectError(`CO-RE relocation ${describe(local, r)}: no such enumerator`);
    }
    for (const c of cands) {
      if (c.kind !== "enum" && c.kind !== "enum64") continue;
      const tv = (c.values as readonly { name: string; value: number | bigint }[]).find((v) =>
        essential(v.name) === essential(lv.name)
      );
      if (tv !== undefined) return { value: kind === 10 ? 1 : tv.value };
    }
    if (kind === 10) return { value: 0 };
    return {
      value: undefined,
      reason: `enumerator ${essential(lv.name)} is not in the target BTF`,
    };
  }
  // TYPE_ID_TARGET, TYPE_EXISTS, TYPE_SIZE
  const c = cands[0];
  if (c === undefined) {
    if (kind === 8) return { value: 0 };
    return {
      value: undefined,
      reason: `no ${lroot.kind} named ${essential(lroot.name)} in the target BTF`,
    };
  }
  if (kind === 7) return { value: c.id };
  if (kind === 8) return { value: 1 };
  return { value: target.sizeOf(c.id) };
}

/**
 * Applies CO-RE relocations to a program's instructions in place: ALU immediates and ld_imm64
 * constants get the value, loads/stores get a new offset (FIELD_BYTE_OFFSET); what cannot be
 * resolved is poisoned (`call 0xbad2310`, the second slot of an ld_imm64 becoming `ja +0`).
 *
 * @throws {ObjectError} for malformed records, unsupported kinds or instructions.
 * @example
 * ```ts
 * import { applyCoreRelocations, kernelBtf, ObjectSpec } from "@tsbpf/core/elf";
 * declare const bytes: Uint8Array;
 * const spec = ObjectSpec.parse(bytes);
 * const p = spec.programs[0];
 * const insns = p.insns.slice();
 * applyCoreRelocations(insns, p.btfExt.coreRelos, spec.types!, kernelBtf());
 * ```
 */
export function applyCoreRelocations(
  insns: Uint8Array,
  relos: readonly CoreReloInput[],
  local: Btf,
  target: Btf,
  moduleTargets?: () => readonly Btf[],
): CoreResult[] {
  const v = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const out: CoreResult[] = [];
  // Target candidates by local type id: looked up once per type, not once per relocation.
  const cache = new Map<number, BtfType[]>();
  for (const r of relos) {
    const description = describe(local, r);
    const kind = CORE_RELO_KINDS[r.kind] ?? `kind ${r.kind}`;
    const at = r.insn * 8;
    if (at + 8 > insns.length) {
      throw new ObjectError(
        `CO-RE relocation ${description}: instruction ${r.insn} is out of range`,
      );
    }
    const { value, reason } = resolveCoreRelo(r, local, target, moduleTargets, cache);
    const op = insns[at];
    const cls = op & 7;
    if (value === undefined) {
      insns[at] = 0x85;
      insns[at + 1] = 0;
      v.setInt16(at + 2, 0, true);
      v.setInt32(at + 4, CORE_POISON_IMM, true);
      if (op === 0x18 && at + 16 <= insns.length) {
        insns.fill(0, at + 8, at + 16);
        insns[at + 8] = 0x05; // ja +0
      }
      out.push({ insn: r.insn, kind, description, value: undefined, poisoned: true, reason });
      continue;
    }
    if (op === 0x18) {
      const n = BigInt.asUintN(64, BigInt(value));
      v.setUint32(at + 4, Number(n & 0xffffffffn), true);
      v.setUint32(at + 12, Number(n >> 32n), true);
    } else if ((cls === 4 || cls === 7) && (op & 0x08) === 0) {
      v.setInt32(at + 4, Number(value), true);
    } else if (cls === 1 || cls === 2 || cls === 3) {
      if (r.kind !== 0) {
        throw new ObjectError(
          `CO-RE relocation ${description}: ${kind} on a memory access at ${r.insn}`,
        );
      }
      const n = Number(value);
      if (n > 0x7fff) {
        throw new ObjectError(`CO-RE relocation ${description}: offset ${n} does not fit`);
      }
      v.setInt16(at + 2, n, true);
    } else {
      throw new ObjectError(
        `CO-RE relocation ${description}: cannot patch instruction ${r.insn} (opcode 0x${
          op.toString(16)
        })`,
      );
    }
    out.push({ insn: r.insn, kind, description, value, poisoned: false });
  }
  return out;
}
