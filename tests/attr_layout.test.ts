import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { type Btf, type BtfField, parseBtf } from "../lib/btf/mod.ts";
import { ATTR_LAYOUTS, type AttrField, type AttrLayout, INFO_LAYOUTS } from "../types/mod.ts";
import { kernelOlderThanTypes } from "./util.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const vmlinuxSkip: string | false = existsSync(VMLINUX) ? false : `${VMLINUX} not present`;
const btf: Btf | undefined = vmlinuxSkip ? undefined : parseBtf(readFileSync(VMLINUX));

/** A BTF field located by name below a struct: absolute byte offset, size, type. */
interface Located {
  readonly offset: number;
  readonly size: number;
  readonly bitfield: boolean;
  readonly type: number;
}

/** Finds `a.b.c` below struct `structId` (anonymous members flattened at every level). */
function locate(b: Btf, structId: number, path: string): Located | undefined {
  let base = 0;
  let id = structId;
  let found: BtfField | undefined;
  for (const part of path.split(".")) {
    if (found !== undefined) {
      id = found.type;
      base += found.bitOffset;
    }
    found = b.fields(id).find((f) => f.name === part);
    if (found === undefined) return undefined;
  }
  const f = found!;
  const bit = base + f.bitOffset;
  if (f.bitfieldSize > 0) {
    const unit = b.sizeOf(f.type);
    return {
      offset: Math.floor(bit / (unit * 8)) * unit,
      size: unit,
      bitfield: true,
      type: f.type,
    };
  }
  return { offset: bit / 8, size: b.sizeOf(f.type), bitfield: false, type: f.type };
}

/** Problems with `field` against its BTF counterpart, `[]` when it matches. */
function compare(b: Btf, name: string, field: AttrField, loc: Located | undefined): string[] {
  if (loc === undefined) return [`${name}: not in BTF`];
  const out: string[] = [];
  if (loc.offset !== field.offset) {
    out.push(`${name}: offset ${field.offset}, BTF says ${loc.offset}`);
  }
  if (loc.size !== field.size) out.push(`${name}: size ${field.size}, BTF says ${loc.size}`);
  const t = b.resolve(loc.type);
  let kind: string;
  if (t.kind === "int") kind = (t.encoding & 1 ? "s" : "u") + t.size * 8;
  else if (t.kind === "enum") kind = (t.signed ? "s" : "u") + t.size * 8;
  else if (t.kind === "array") kind = "bytes";
  else kind = t.kind;
  const want = field.kind === "ptr" ? "u64" : field.kind;
  if (kind !== want) out.push(`${name}: kind ${field.kind}, BTF type is ${kind}`);
  return out;
}

/** A layout against one BTF struct: mismatches of the fields it has, and the fields it lacks. */
function check(
  b: Btf,
  layout: AttrLayout,
  structId: number,
): { problems: string[]; absent: string[] } {
  const problems: string[] = [];
  const absent: string[] = [];
  for (const [name, f] of Object.entries(layout.fields)) {
    const loc = locate(b, structId, name);
    if (loc === undefined) absent.push(name);
    else problems.push(...compare(b, name, f, loc));
  }
  return { problems, absent };
}

/** A kernel as new as the one types/ came from must have every field tsbpf lays out. */
const complete = vmlinuxSkip ? true : !kernelOlderThanTypes();

/** Asserts a layout against its best BTF candidate; logs the fields an older kernel lacks. */
function assertLayout(layout: AttrLayout, results: { problems: string[]; absent: string[] }[]) {
  const fits = results.filter((r) => r.problems.length === 0 && r.absent.length === 0);
  if (fits.length > 0) return;
  const partial = results.filter((r) =>
    r.problems.length === 0 && r.absent.length < Object.keys(layout.fields).length
  ).sort((x, y) => x.absent.length - y.absent.length);
  if (partial.length === 0 || complete) {
    const best = [...results].sort((x, y) =>
      x.problems.length + x.absent.length - y.problems.length - y.absent.length
    )[0];
    assert.fail(
      [
        ...(best?.problems ?? []),
        ...(best?.absent ?? []).map((n) =>
          `${n}: not in BTF`
        ),
      ]
        .join("\n") || `${layout.name}: no candidate`,
    );
  }
  console.log(`${layout.name}: this (older) kernel lacks ${partial[0].absent.join(", ")}`);
}

test("layout sizes are the end of their last field", () => {
  for (const l of [...ATTR_LAYOUTS, ...INFO_LAYOUTS]) {
    const end = Math.max(...Object.values(l.fields).map((f) => f.offset + f.size));
    assert.equal(l.size, end, l.name);
  }
});

test("PROG_LOAD through fd_array_cnt is 152 bytes", async () => {
  const { PROG_LOAD_ATTR } = await import("../types/attr.ts");
  assert.equal(PROG_LOAD_ATTR.size, 152);
  assert.equal(PROG_LOAD_ATTR.fields.fd_array_cnt.offset, 148);
});

/** Why a layout's command cannot be compared here: the kernel's `enum bpf_cmd` lacks it. */
function commandSkip(name: string): string | false {
  if (vmlinuxSkip) return vmlinuxSkip;
  const cmd = /^BPF_[A-Z_]+/.exec(name)?.[0];
  const e = btf!.find("enum", "bpf_cmd");
  if (cmd === undefined || e === undefined || e.kind !== "enum") return false;
  return e.values.some((v) => v.name === cmd)
    ? false
    : `this kernel has no ${cmd} (not in its enum bpf_cmd)`;
}

for (const layout of ATTR_LAYOUTS) {
  test(`${layout.name} matches union bpf_attr in the kernel's BTF`, {
    skip: commandSkip(layout.name),
  }, () => {
    const b = btf!;
    const attr = b.get("union", "bpf_attr");
    if (complete) {
      assert.ok(layout.size <= attr.size, `${layout.size} > sizeof(union bpf_attr) ${attr.size}`);
    }
    const tops = new Set(Object.keys(layout.fields).map((n) => n.split(".")[0]));
    // Per-command structs whose (flattened) member names include a top-level field name (all of
    // them on a kernel as new as types/).
    const candidates = attr.members
      .map((m) => b.resolve(m.type))
      .filter((t) => t.kind === "struct")
      .map((t) => ({ id: t.id, names: new Set(b.fields(t.id).map((f) => f.name)) }))
      .filter((c) =>
        complete ? [...tops].every((n) => c.names.has(n)) : [...tops].some((n) => c.names.has(n))
      )
      .sort((x, y) => x.names.size - y.names.size);
    assert.ok(candidates.length > 0, `no bpf_attr member has fields ${[...tops].join(", ")}`);
    assertLayout(layout, candidates.map((c) => check(b, layout, c.id)));
  });
}

for (const layout of INFO_LAYOUTS) {
  test(
    `${layout.name} matches struct ${layout.name} in the kernel's BTF`,
    { skip: vmlinuxSkip },
    () => {
      const b = btf!;
      const s = b.get("struct", layout.name);
      if (complete) {
        assert.ok(
          layout.size <= s.size,
          `${layout.size} > sizeof(struct ${layout.name}) ${s.size}`,
        );
      }
      assertLayout(layout, [check(b, layout, s.id)]);
    },
  );
}
