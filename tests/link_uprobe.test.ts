/** Uprobes and uretprobes on libc's syscall(), and the native ELF symbol → file offset reader. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { type ChildProcess, spawn } from "node:child_process";
import { LinkType } from "../types/link_type.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { BpfMap } from "../lib/map/mod.ts";
import { u32, u64 } from "../lib/codec/mod.ts";
import { sys } from "../lib/sys/mod.ts";
import { AttachError, attachUprobe, type Link, resolveLibraryPath } from "../lib/link/mod.ts";
import {
  ElfError,
  parseNativeElf,
  PF,
  PT_LOAD,
  resolveSymbol,
  SymbolError,
} from "../lib/elf/mod.ts";
import { kernelSkip, repoRoot, unlessProfile } from "./util.ts";
import {
  assertClean,
  counterMap,
  counterProgram,
  getpidTimes,
  kernelDescribesPerfLinks,
  perfAttachStep,
  perfLinkInfo,
  snapshot,
  untyped,
} from "./link_util.ts";

/** The mappings of libc in this process: start address, file offset, permissions, path. */
function libcMappings(): {
  start: bigint;
  end: bigint;
  offset: number;
  perms: string;
  path: string;
}[] {
  const out = [];
  for (const line of readFileSync("/proc/self/maps", "utf8").split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ \S+\s+(\/\S*\/libc\.so\.6)$/.exec(
      line,
    );
    if (m) {
      out.push({
        start: BigInt(`0x${m[1]}`),
        end: BigInt(`0x${m[2]}`),
        perms: m[3],
        offset: Number.parseInt(m[4], 16),
        path: m[5],
      });
    }
  }
  return out;
}

test("resolveSymbol: libc's syscall is in an executable PT_LOAD, same bytes as mapped", () => {
  sys(); // the FFI backend maps libc
  const maps = libcMappings();
  assert.ok(maps.length > 0, "libc.so.6 is not mapped");
  const path = maps[0].path;
  assert.equal(resolveLibraryPath("libc.so.6"), path);
  const bytes = readFileSync(path);
  const elf = parseNativeElf(bytes);
  const loc = resolveSymbol(elf, "syscall", path);
  assert.equal(loc.symbol.baseName, "syscall");
  assert.ok(loc.symbol.size > 0);
  assert.equal(loc.segment.type, PT_LOAD);
  assert.ok(loc.segment.flags & PF.X, "segment is not executable");
  assert.ok(
    loc.offset >= loc.segment.offset && loc.offset < loc.segment.offset + loc.segment.filesz,
  );
  const fileBytes = bytes.subarray(loc.offset, loc.offset + loc.symbol.size);
  // The mapping that holds that file offset, and the code the process runs there.
  const map = maps.find((m) =>
    m.offset <= loc.offset && BigInt(loc.offset - m.offset) < m.end - m.start
  );
  assert.ok(map !== undefined, `no mapping of ${path} holds offset ${loc.offset}`);
  assert.ok(map.perms.includes("x"), `mapping ${map.perms} is not executable`);
  const address = map.start + BigInt(loc.offset - map.offset);
  const mapped = new Uint8Array(sys().view(address, loc.symbol.size));
  assert.deepEqual(new Uint8Array(mapped), new Uint8Array(fileBytes));

  // Versioned names, from .gnu.version + .gnu.version_d, as readelf --dyn-syms shows them. Every
  // function of glibc (libc.so.6) is versioned.
  const versioned = elf.symbols.filter((s) =>
    s.table === ".dynsym" && s.type === 2 && s.version !== undefined
  );
  assert.ok(versioned.length > 1000, `${versioned.length} versioned functions in ${path}`);
  for (const s of versioned) {
    assert.equal(resolveSymbol(elf, s.versionedName, path).symbol, s, s.versionedName);
  }
  assert.equal(loc.symbol.versionedName, `syscall@@${loc.symbol.version}`);
  if (elf.machine === 62) {
    // x86_64 glibc: realpath has an old (hidden) version and a default one, memcpy's default
    // version is an IFUNC and its old one a plain function.
    const old = resolveSymbol(elf, "realpath@GLIBC_2.2.5", path);
    const cur = resolveSymbol(elf, "realpath@@GLIBC_2.3", path);
    assert.equal(old.symbol.defaultVersion, false);
    assert.equal(cur.symbol.defaultVersion, true);
    assert.notEqual(old.offset, cur.offset);
    assert.equal(resolveSymbol(elf, "realpath", path).offset, cur.offset);
    assert.equal(resolveSymbol(elf, "realpath@GLIBC_2.3", path).offset, cur.offset);
    assert.equal(resolveSymbol(elf, "memcpy@GLIBC_2.2.5", path).symbol.type, 2);
    assert.throws(() => resolveSymbol(elf, "memcpy", path), (e) => {
      assert.ok(e instanceof SymbolError);
      assert.equal(e.reason, "not-function");
      assert.match(e.message, /is an IFUNC \(memcpy@@GLIBC_2\.14\)/);
      return true;
    });
  }
  // A data symbol is not a function.
  assert.throws(() => resolveSymbol(elf, "no_such_function_xyz", path), (e) => {
    assert.ok(e instanceof SymbolError);
    assert.equal(e.reason, "not-found");
    assert.match(e.message, /"no_such_function_xyz" not found in \/.*libc\.so\.6/);
    return true;
  });
  const data = elf.symbols.find((s) => s.type === 1 /* STT_OBJECT */ && s.baseName === "environ");
  if (data !== undefined) {
    assert.throws(() => resolveSymbol(elf, "environ", path), /not a function/);
  }
});

test("parseNativeElf: rejects non-ELF, BPF and short input with file offsets", () => {
  assert.throws(() => parseNativeElf(new Uint8Array(10)), /shorter than the 64-byte/);
  assert.throws(() => parseNativeElf(new Uint8Array(64)), /not an ELF file/);
  const bpf = new Uint8Array(64);
  bpf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  new DataView(bpf.buffer).setUint16(18, 247, true);
  assert.throws(() => parseNativeElf(bpf), (e) => {
    assert.ok(e instanceof ElfError);
    assert.match(e.message, /e_machine 247 is neither EM_X86_64/);
    assert.equal(e.offset, 18);
    return true;
  });
});

/**
 * A tiny x86_64 ET_DYN with two PT_LOADs, .dynsym (+ .gnu.version and .gnu.version_d defining
 * `lib.so` (base), V1 and V2) and .symtab.
 */
function syntheticElf(): Uint8Array {
  const strtab = (names: string[]): { bytes: Uint8Array; at: Map<string, number> } => {
    const at = new Map<string, number>();
    let text = "\0";
    for (const n of names) {
      at.set(n, text.length);
      text += `${n}\0`;
    }
    return { bytes: new TextEncoder().encode(text), at };
  };
  // versym: 1 = global (unversioned), 2 = V1, 3 = V2; 0x8000 = hidden (non-default).
  type Sym = [name: string, type: number, shndx: number, value: number, versym?: number];
  const dyn: Sym[] = [
    ["foo", 2, 1, 0x401010, 1],
    ["foo", 2, 1, 0x401020, 0x8003], // foo@V2: hidden (non-default) version
    ["data", 1, 1, 0x400100, 1],
    ["ifn", 10, 1, 0x401050, 1],
    ["undef", 2, 0, 0, 0],
    ["cpy", 2, 1, 0x401060, 0x8002], // cpy@V1: the old plain function, hidden
    ["cpy", 10, 1, 0x401070, 3], // cpy@@V2: the default version is an IFUNC
    ["old", 2, 1, 0x401080, 0x8002], // old@V1: only a hidden version
    ["old", 1, 1, 0x400200, 0x8003], // old@V2: hidden data
    ["V2", 1, 0xfff1, 0, 3], // the version's own ABS symbol
  ];
  const stat: Sym[] = [
    ["bar@V1", 2, 1, 0x401040],
    ["bar@@V2", 2, 1, 0x401030],
    ["outside", 2, 1, 0x900000],
  ];
  const dynstr = strtab(
    [...dyn.map((d) => d[0]), "lib.so", "V1"].filter((n, i, a) => a.indexOf(n) === i),
  );
  const symstr = strtab(stat.map((d) => d[0]));
  const symbols = (list: Sym[], str: Map<string, number>): Uint8Array => {
    const out = new Uint8Array(24 * (list.length + 1));
    const v = new DataView(out.buffer);
    list.forEach(([name, type, shndx, value], i) => {
      const at = 24 * (i + 1);
      v.setUint32(at, str.get(name)!, true);
      out[at + 4] = (1 << 4) | type; // STB_GLOBAL
      v.setUint16(at + 6, shndx, true);
      v.setBigUint64(at + 8, BigInt(value), true);
      v.setBigUint64(at + 16, 16n, true);
    });
    return out;
  };
  const versym = new Uint8Array(2 * (dyn.length + 1));
  dyn.forEach((d, i) => new DataView(versym.buffer).setUint16(2 * (i + 1), d[4]!, true));
  // Elf64_Verdef (20 bytes) + one Elf64_Verdaux (8 bytes) per version.
  const defs: [flags: number, index: number, name: string][] = [
    [1, 1, "lib.so"], // VER_FLG_BASE: the file's own name, not a version
    [0, 2, "V1"],
    [0, 3, "V2"],
  ];
  const verdef = new Uint8Array(28 * defs.length);
  defs.forEach(([flags, index, name], i) => {
    const v = new DataView(verdef.buffer, 28 * i);
    v.setUint16(0, 1, true); // vd_version
    v.setUint16(2, flags, true);
    v.setUint16(4, index, true);
    v.setUint16(6, 1, true); // vd_cnt
    v.setUint32(12, 20, true); // vd_aux
    v.setUint32(16, i === defs.length - 1 ? 0 : 28, true); // vd_next
    v.setUint32(20, dynstr.at.get(name)!, true); // vda_name
  });
  // Sections after the headers: [type, link, bytes].
  const parts: [number, number, Uint8Array][] = [
    [11, 2, symbols(dyn, dynstr.at)], // 1 .dynsym
    [3, 0, dynstr.bytes], // 2 .dynstr
    [0x6fffffff, 1, versym], // 3 .gnu.version
    [2, 5, symbols(stat, symstr.at)], // 4 .symtab
    [3, 0, symstr.bytes], // 5 .strtab
    [0x6ffffffd, 2, verdef], // 6 .gnu.version_d
  ];
  let offset = 64 + 2 * 56;
  const placed = parts.map(([type, link, bytes]) => {
    offset = (offset + 7) & ~7;
    const at = offset;
    offset += bytes.length;
    return { type, link, bytes, at };
  });
  const shoff = (offset + 7) & ~7;
  const file = new Uint8Array(shoff + 64 * (parts.length + 1));
  const v = new DataView(file.buffer);
  file.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 3, true); // ET_DYN
  v.setUint16(18, 62, true); // EM_X86_64
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(54, 56, true);
  v.setUint16(56, 2, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, parts.length + 1, true);
  const phdr = (i: number, flags: number, off: number, vaddr: number): void => {
    const at = 64 + i * 56;
    v.setUint32(at, 1, true); // PT_LOAD
    v.setUint32(at + 4, flags, true);
    v.setBigUint64(at + 8, BigInt(off), true);
    v.setBigUint64(at + 16, BigInt(vaddr), true);
    v.setBigUint64(at + 32, 0x1000n, true);
    v.setBigUint64(at + 40, 0x1000n, true);
  };
  phdr(0, 4, 0, 0x400000);
  phdr(1, 5, 0x1000, 0x401000);
  placed.forEach(({ type, link, bytes, at }, i) => {
    file.set(bytes, at);
    const h = shoff + 64 * (i + 1);
    v.setUint32(h + 4, type, true);
    v.setBigUint64(h + 24, BigInt(at), true);
    v.setBigUint64(h + 32, BigInt(bytes.length), true);
    v.setUint32(h + 40, link, true);
  });
  return file;
}

test("resolveSymbol on a synthetic ELF: versions, segments, non-functions", () => {
  const elf = parseNativeElf(syntheticElf());
  assert.equal(elf.machine, 62);
  assert.equal(elf.segments.length, 2);
  assert.deepEqual(
    elf.symbols.map((s) => [s.table, s.name, s.versionedName, s.version, s.defaultVersion]),
    [
      [".dynsym", "foo", "foo", undefined, true],
      [".dynsym", "foo", "foo@V2", "V2", false],
      [".dynsym", "data", "data", undefined, true],
      [".dynsym", "ifn", "ifn", undefined, true],
      [".dynsym", "cpy", "cpy@V1", "V1", false],
      [".dynsym", "cpy", "cpy@@V2", "V2", true],
      [".dynsym", "old", "old@V1", "V1", false],
      [".dynsym", "old", "old@V2", "V2", false],
      [".dynsym", "V2", "V2", "V2", true],
      [".symtab", "bar@V1", "bar@V1", "V1", false],
      [".symtab", "bar@@V2", "bar@@V2", "V2", true],
      [".symtab", "outside", "outside", undefined, true],
    ],
  );
  assert.equal(resolveSymbol(elf, "foo").offset, 0x1010); // the default version
  assert.equal(resolveSymbol(elf, "foo@V2").offset, 0x1020); // the hidden one, by version
  assert.equal(resolveSymbol(elf, "bar").offset, 0x1030); // bar@@V2
  assert.equal(resolveSymbol(elf, "bar@V1").offset, 0x1040);
  assert.equal(resolveSymbol(elf, "bar@V2").offset, 0x1030); // @VER also names the default
  assert.equal(resolveSymbol(elf, "bar@@V2").segment.flags, 5);
  // A hidden FUNC beside a default IFUNC: the bare name is the IFUNC, never the old version.
  assert.equal(resolveSymbol(elf, "cpy@V1").offset, 0x1060);
  assert.equal(resolveSymbol(elf, "cpy@V1").symbol.versionedName, "cpy@V1");
  assert.throws(() => resolveSymbol(elf, "cpy", "/x/lib.so"), (e) => {
    assert.ok(e instanceof SymbolError);
    assert.equal(e.reason, "not-function");
    assert.match(e.message, /"cpy" in \/x\/lib\.so is an IFUNC \(cpy@@V2\)/);
    assert.match(e.message, /resolver picks the implementation at run time/);
    assert.match(e.message, /__memmove_avx_unaligned_erms/);
    return true;
  });
  // No default version at all: the hidden FUNC is the fallback.
  assert.equal(resolveSymbol(elf, "old").offset, 0x1080);
  const reason = (name: string): string => {
    try {
      resolveSymbol(elf, name, "/x/lib.so");
    } catch (e) {
      assert.ok(e instanceof SymbolError);
      assert.match(e.message, new RegExp(`"${name}"`));
      assert.match(e.message, /\/x\/lib\.so/);
      return e.reason;
    }
    return "resolved";
  };
  assert.equal(reason("data"), "not-function");
  assert.equal(reason("ifn"), "not-function");
  assert.equal(reason("cpy@@V2"), "not-function");
  assert.equal(reason("cpy@V2"), "not-function");
  assert.equal(reason("old@V2"), "not-function");
  assert.equal(reason("undef"), "not-found");
  assert.equal(reason("bar@V3"), "not-found");
  assert.equal(reason("foo@@V2"), "not-found"); // V2 is not foo's default version
  assert.equal(reason("cpy@@V1"), "not-found");
  assert.equal(reason("outside"), "not-loaded");
});

test("parseNativeElf: a broken .gnu.version_d is an ElfError with its offset", () => {
  const file = syntheticElf();
  const v = new DataView(file.buffer);
  const shoff = Number(v.getBigUint64(40, true));
  const verdefAt = Number(v.getBigUint64(shoff + 64 * 6 + 24, true));
  v.setUint32(verdefAt + 28 + 16, 0xffff, true); // the second vd_next points past the section
  assert.throws(() => parseNativeElf(file), (e) => {
    assert.ok(e instanceof ElfError);
    assert.match(e.message, /version definition runs past the end of its section/);
    assert.equal(e.offset, verdefAt + 28 + 0xffff);
    return true;
  });
  v.setUint32(verdefAt + 28 + 16, 0, true);
  v.setUint32(verdefAt + 16, 0, true); // vd_next 0 after the base: V1 and V2 are never read
  assert.deepEqual(
    parseNativeElf(file).symbols.filter((s) => s.baseName === "cpy").map((s) => s.versionedName),
    ["cpy", "cpy"],
  );
});

/** Calls getpid through libc's syscall() and checks how `counts` moved. */
function probeTest(retprobe: boolean): void {
  const before = snapshot();
  const counts = counterMap();
  const prog = counterProgram("kprobe", counts, 0);
  const ids = { links: [] as number[], progs: [prog.id] };
  let link: Link | undefined;
  const pid = Number(sys().syscall(sys().nr.getpid));
  try {
    link = attachUprobe(prog, { path: "libc.so.6", symbol: "syscall", pid, retprobe });
    const info = perfLinkInfo(link, prog.id, ids);
    const start = counts.get(0)!;
    getpidTimes(200);
    assert.ok(counts.get(0)! - start >= 200n, `counted ${counts.get(0)! - start}`);
    if (info === undefined) {
      // Attached with PERF_EVENT_IOC_SET_BPF: no bpf_link to describe.
    } else if (kernelDescribesPerfLinks) {
      assert.equal(info.perfEvent?.type, retprobe ? 2 : 1); // BPF_PERF_EVENT_U(RET)PROBE
    } else {
      assert.equal(info.perfEvent, undefined, "this kernel's bpf_link_info has no perf_event");
    }
    link.close();
    const stopped = counts.get(0)!;
    getpidTimes(50);
    assert.equal(counts.get(0), stopped);
  } finally {
    link?.close();
    prog.close();
    counts.close();
  }
  assertClean(before, ids);
}

test("attachUprobe: libc syscall() entries of this process are counted", {
  skip: kernelSkip,
}, () => probeTest(false));

test("attachUprobe retprobe: libc syscall() returns of this process are counted", {
  skip: kernelSkip,
}, () => probeTest(true));

/** The command that runs a fixture script on this runtime (Deno or Bun). */
function runtimeCommand(script: string, args: string[]): [string, string[]] {
  const g = globalThis as { Bun?: unknown; Deno?: { execPath(): string } };
  return g.Bun !== undefined
    ? [(globalThis as unknown as { process: { execPath: string } }).process.execPath, [
      script,
      ...args,
    ]]
    : [g.Deno!.execPath(), ["run", "--allow-all", "--no-check", script, ...args]];
}

/** A child running tests/fixtures/getpid_child.ts, `calls` getpid(2)s once told to go. */
function getpidChild(
  calls: number,
): { child: ChildProcess; ready: Promise<void>; exit: Promise<number | null> } {
  const [file, args] = runtimeCommand(`${repoRoot}/tests/fixtures/getpid_child.ts`, [
    String(calls),
  ]);
  const child = spawn(file, args, { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  const exit = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => resolve(code));
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("ready")) resolve();
    });
    exit.then((code) => reject(new Error(`child exited (${code}) before ready: ${out}`)), reject);
  });
  return { child, ready, exit };
}

/**
 * The runtime's own calls of libc's syscall() in a fixture child, beyond its getpids: measured at
 * 0–7 on Deno 2 (its Rust std calls syscall(SYS_futex)) and 0–1 on Bun, while attached from "ready"
 * to exit. 50 leaves room for a busier machine and stays far below the other child's calls.
 */
const RUNTIME_SYSCALL_SLACK = 50n;

/** Attaches to one of two children calling syscall(); only that child's calls are counted. */
async function pidFilterTest(retprobe: boolean): Promise<void> {
  const before = snapshot();
  const counts = counterMap();
  const prog = counterProgram("kprobe", counts, 0);
  const ids = { links: [] as number[], progs: [prog.id] };
  const target = getpidChild(300);
  const other = getpidChild(3000);
  let link: Link | undefined;
  try {
    await Promise.all([target.ready, other.ready]);
    link = attachUprobe(prog, {
      path: "libc.so.6",
      symbol: "syscall",
      pid: target.child.pid!,
      retprobe,
    });
    perfLinkInfo(link, prog.id, ids);
    target.child.stdin!.write("go\n");
    other.child.stdin!.write("go\n");
    assert.deepEqual(await Promise.all([target.exit, other.exit]), [0, 0]);
    const n = counts.get(0)!;
    assert.ok(
      n >= 300n && n <= 300n + RUNTIME_SYSCALL_SLACK,
      `counted ${n}: want the target child's 300 calls (+ at most ${RUNTIME_SYSCALL_SLACK} of ` +
        "its runtime's own), not the other child's 3000",
    );
  } finally {
    link?.close();
    for (const c of [target.child, other.child]) if (c.exitCode === null) c.kill();
    prog.close();
    counts.close();
  }
  assertClean(before, ids);
}

test("attachUprobe with a pid: another process's syscall() entries are not counted", {
  skip: kernelSkip,
}, () => pidFilterTest(false));

test("attachUprobe retprobe with a pid: another process's syscall() returns are not counted", {
  skip: kernelSkip,
}, () => pidFilterTest(true));

/** Cookies need perf-event links (and bpf_get_attach_cookie, which came with them). */
const perfLinkSkip = unlessProfile((p) => p.linkType(LinkType.PERF_EVENT));

test("attachUprobe: all processes (pid -1), by path and file offset, with a cookie", {
  skip: perfLinkSkip,
}, () => {
  const before = snapshot();
  // Slot 0 counts hits, slot 1 holds bpf_get_attach_cookie().
  const counts = BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 2 });
  const prog = Program.load({
    type: "kprobe",
    license: "GPL",
    insns: asm`
      call bpf_get_attach_cookie
      r6 = r0
      *(u32 *)(r10 - 4) = 1
      r1 = map[fd:${counts.fd}] ll
      r2 = r10
      r2 += -4
      call bpf_map_lookup_elem
      if r0 == 0 goto count
      *(u64 *)(r0 + 0) = r6
    count:
      *(u32 *)(r10 - 4) = 0
      r1 = map[fd:${counts.fd}] ll
      r2 = r10
      r2 += -4
      call bpf_map_lookup_elem
      if r0 == 0 goto out
      r1 = 1
      lock *(u64 *)(r0 + 0) += r1
    out:
      r0 = 0
      exit`,
  });
  const ids = { links: [] as number[], progs: [prog.id] };
  const path = resolveLibraryPath("libc.so.6");
  const offset = resolveSymbol(parseNativeElf(readFileSync(path)), "syscall", path).offset;
  let link: Link | undefined;
  try {
    link = attachUprobe(prog, { path, offset, cookie: 0x1234_5678_9abcn });
    perfLinkInfo(link, prog.id, ids);
    getpidTimes(100);
    assert.ok(counts.get(0)! >= 100n, `counted ${counts.get(0)}`);
    assert.equal(counts.get(1), 0x1234_5678_9abcn);
  } finally {
    link?.close();
    prog.close();
    counts.close();
  }
  assertClean(before, ids);
});

test("attachUprobe with a cookie on a kernel without perf-event links: EOPNOTSUPP naming them", {
  skip: kernelSkip || (perfLinkSkip ? false : "this kernel has perf-event links"),
}, () => {
  const before = snapshot();
  const counts = counterMap();
  const prog = counterProgram("kprobe", counts, 0);
  try {
    assert.throws(
      () => attachUprobe(prog, { path: "libc.so.6", symbol: "syscall", cookie: 1n }),
      (e: unknown) => {
        assert.ok(e instanceof AttachError);
        assert.equal(e.errnoName, "EOPNOTSUPP");
        assert.match(e.message, /a cookie needs a perf-event link/);
        assert.ok(e.message.includes(perfLinkSkip as string), e.message);
        return true;
      },
    );
  } finally {
    prog.close();
    counts.close();
  }
  assertClean(before);
});

test("attachUprobe errors: unknown symbol, missing file, wrong program type; no fd leaked", {
  skip: kernelSkip,
}, () => {
  const before = snapshot();
  const kp = Program.load({ type: "kprobe", license: "GPL", insns: asm`r0 = 0\nexit` });
  const sf = Program.load({ type: "socket_filter", license: "GPL", insns: asm`r0 = 0\nexit` });
  try {
    assert.throws(
      () => attachUprobe(kp, { path: "libc.so.6", symbol: "no_such_function_xyz" }),
      (e) => {
        assert.ok(e instanceof AttachError);
        assert.equal(e.errnoName, "ENOENT");
        assert.match(e.message, /^attachUprobe\(libc\.so\.6:no_such_function_xyz\)/);
        assert.match(e.message, /"no_such_function_xyz" not found in \/\S*libc\.so\.6/);
        return true;
      },
    );
    assert.throws(
      () => attachUprobe(kp, { path: "/nonexistent/libfoo.so", symbol: "foo" }),
      (e) => {
        assert.ok(e instanceof AttachError);
        assert.equal(e.errnoName, "ENOENT");
        assert.match(e.message, /\/nonexistent\/libfoo\.so/);
        return true;
      },
    );
    assert.throws(
      () => attachUprobe(kp, { path: "/nonexistent/libfoo.so", offset: 0x1000 }),
      (e) => {
        assert.ok(e instanceof AttachError);
        assert.equal(e.errnoName, "ENOENT");
        assert.match(e.message, /perf_event_open failed: ENOENT.*\/nonexistent\/libfoo\.so/);
        return true;
      },
    );
    assert.throws(() => attachUprobe(kp, { path: "libnothing_xyz.so", symbol: "f" }), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "ENOENT");
      assert.match(e.message, /libnothing_xyz\.so: no file of that name is mapped/);
      return true;
    });
    assert.throws(() => attachUprobe(kp, { path: "/proc/self/maps", symbol: "f" }), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "ENOEXEC");
      return true;
    });
    assert.throws(
      () => attachUprobe(sf, { path: "libc.so.6", symbol: "syscall" }),
      /needs a program of type kprobe, got socket_filter/,
    );
    assert.throws(
      () => attachUprobe(untyped(sf), { path: "libc.so.6", symbol: "syscall" }),
      (e) => {
        assert.ok(e instanceof AttachError);
        assert.equal(e.errnoName, "EINVAL");
        assert.match(e.message, perfAttachStep());
        return true;
      },
    );
    assert.throws(() => attachUprobe(kp, { path: "libc.so.6" }), RangeError);
    assert.throws(() => attachUprobe(kp, { path: "libc.so.6", offset: -1 }), RangeError);
  } finally {
    kp.close();
    sf.close();
  }
  assertClean(before); // no perf event fd left behind either
});
