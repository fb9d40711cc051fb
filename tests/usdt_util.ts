/** Test helpers for USDT: a synthetic ELF image with stapsdt notes. */
import { EM_X86_64 } from "../lib/elf/mod.ts";

/** One stapsdt note for {@link makeElf}. */
export interface NoteInput {
  pc: number;
  base: number;
  sema: number;
  provider: string;
  name: string;
  args: string;
}

/**
 * A minimal x86_64 ET_EXEC image: code at vaddr 0x400000 (file 0), data at 0x601000 (file
 * 0x1000), `.stapsdt.base` at `baseAddr`, and the given stapsdt notes (plus one foreign note).
 */
export function makeElf(notes: NoteInput[], baseAddr = 0x400800, machine = EM_X86_64): Uint8Array {
  const enc = new TextEncoder();
  const noteBytes: number[] = [];
  const push32 = (n: number): void => {
    for (let i = 0; i < 4; i++) noteBytes.push((n >>> (8 * i)) & 0xff);
  };
  const pushPadded = (b: Uint8Array): void => {
    noteBytes.push(...b);
    while (noteBytes.length % 4) noteBytes.push(0);
  };
  // A GNU note first: skipped.
  push32(4);
  push32(4);
  push32(1);
  pushPadded(enc.encode("GNU\0"));
  pushPadded(new Uint8Array(4));
  for (const n of notes) {
    const strs = enc.encode(`${n.provider}\0${n.name}\0${n.args}\0`);
    const desc = new Uint8Array(24 + strs.length);
    const dv = new DataView(desc.buffer);
    dv.setBigUint64(0, BigInt(n.pc), true);
    dv.setBigUint64(8, BigInt(n.base), true);
    dv.setBigUint64(16, BigInt(n.sema), true);
    desc.set(strs, 24);
    push32(8);
    push32(desc.length);
    push32(3);
    pushPadded(enc.encode("stapsdt\0"));
    pushPadded(desc);
  }
  const shstr = enc.encode("\0.shstrtab\0.stapsdt.base\0.note.stapsdt\0");
  const shstrAt = 0x1100;
  const noteAt = shstrAt + 0x40;
  const shoff = noteAt + noteBytes.length + ((8 - (noteBytes.length % 8)) % 8);
  const out = new Uint8Array(shoff + 4 * 64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, machine, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, 2, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, 4, true);
  v.setUint16(62, 1, true);
  const phdr = (i: number, flags: number, off: number, vaddr: number, size: number): void => {
    const at = 64 + i * 56;
    v.setUint32(at, 1, true);
    v.setUint32(at + 4, flags, true);
    v.setBigUint64(at + 8, BigInt(off), true);
    v.setBigUint64(at + 16, BigInt(vaddr), true);
    v.setBigUint64(at + 32, BigInt(size), true);
    v.setBigUint64(at + 40, BigInt(size), true);
  };
  phdr(0, 5, 0, 0x400000, 0x1000);
  phdr(1, 6, 0x1000, 0x601000, 0x100);
  out.set(shstr, shstrAt);
  out.set(noteBytes, noteAt);
  const shdr = (i: number, name: number, type: number, addr: number, off: number, size: number) => {
    const at = shoff + i * 64;
    v.setUint32(at, name, true);
    v.setUint32(at + 4, type, true);
    v.setBigUint64(at + 16, BigInt(addr), true);
    v.setBigUint64(at + 24, BigInt(off), true);
    v.setBigUint64(at + 32, BigInt(size), true);
  };
  shdr(1, 1, 3, 0, shstrAt, shstr.length);
  shdr(2, 11, 1, baseAddr, baseAddr - 0x400000, 1);
  shdr(3, 25, 7, 0, noteAt, noteBytes.length);
  return out;
}
