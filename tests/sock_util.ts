/**
 * Loopback socket helpers for the network attach tests: bound UDP sockets, a connected TCP pair,
 * ports, and receives that wait (with a generous receive timeout as a guard against hangs only).
 */
import assert from "node:assert/strict";
import { alloc, retain } from "../lib/sys/memory.ts";
import { sys } from "../lib/sys/mod.ts";

const AF_INET = 2n;
const SOCK_STREAM = 1n;
const SOCK_DGRAM = 2n;
const SOCK_CLOEXEC = 0x80000n;
const SOL_SOCKET = 1n;
const SO_RCVTIMEO = 20n;

function check(r: bigint, what: string): number {
  assert.ok(r >= 0n, `${what} failed: errno ${-r}`);
  return Number(r);
}

/** `struct sockaddr_in` for 127.0.0.1:`port`. */
function loopbackAddr(port: number): Uint8Array {
  const addr = alloc(16);
  const dv = new DataView(addr.buffer);
  dv.setUint16(0, 2, true);
  dv.setUint16(2, port, false);
  dv.setUint32(4, 0x7f000001, false);
  return addr;
}

/** A socket with a 30 s receive timeout: a lost packet fails the test instead of hanging it. */
function socket(type: bigint): number {
  const s = sys();
  const fd = check(s.syscall(s.nr.socket, AF_INET, type | SOCK_CLOEXEC, 0n), "socket");
  const tv = alloc(16);
  new DataView(tv.buffer).setBigInt64(0, 30n, true);
  s.syscall(s.nr.setsockopt, BigInt(fd), SOL_SOCKET, SO_RCVTIMEO, s.addressOf(tv), 16n);
  retain(tv);
  return fd;
}

/** The local port of a bound socket (`getsockname`). */
export function localPort(fd: number): number {
  const s = sys();
  const addr = alloc(16);
  const len = alloc(4);
  new DataView(len.buffer).setUint32(0, 16, true);
  check(
    s.syscall(s.nr.getsockname, BigInt(fd), s.addressOf(addr), s.addressOf(len)),
    "getsockname",
  );
  retain(len);
  return new DataView(addr.buffer).getUint16(2, false);
}

function bind(fd: number, port: number): void {
  const s = sys();
  const addr = loopbackAddr(port);
  check(s.syscall(s.nr.bind, BigInt(fd), s.addressOf(addr), 16n), "bind");
  retain(addr);
}

/** A UDP socket bound to 127.0.0.1 on an ephemeral port. */
export function boundUdp(): { fd: number; port: number } {
  const fd = socket(SOCK_DGRAM);
  bind(fd, 0);
  return { fd, port: localPort(fd) };
}

/** A port of 127.0.0.1 nothing is bound to right now (bound, read, released). */
export function freeUdpPort(): number {
  const { fd, port } = boundUdp();
  sys().close(fd);
  return port;
}

/** A TCP listener on 127.0.0.1, an ephemeral port. */
export function tcpListener(): { fd: number; port: number } {
  const s = sys();
  const fd = socket(SOCK_STREAM);
  bind(fd, 0);
  check(s.syscall(s.nr.listen, BigInt(fd), 8n), "listen");
  return { fd, port: localPort(fd) };
}

/**
 * Connects a new TCP socket to 127.0.0.1:`port` (after `configure`, given the fd, sets it up);
 * returns its fd.
 */
export function tcpConnect(port: number, configure?: (fd: number) => void): number {
  const s = sys();
  const fd = socket(SOCK_STREAM);
  try {
    configure?.(fd);
  } catch (e) {
    s.close(fd);
    throw e;
  }
  const addr = loopbackAddr(port);
  const r = s.syscall(s.nr.connect, BigInt(fd), s.addressOf(addr), 16n);
  retain(addr);
  if (r < 0n) {
    s.close(fd);
    check(r, `connect(127.0.0.1:${port})`);
  }
  return fd;
}

/** Accepts one connection (blocking). */
export function tcpAccept(listener: number): number {
  const s = sys();
  return check(s.syscall(s.nr.accept4, BigInt(listener), 0n, 0n, SOCK_CLOEXEC), "accept4");
}

/** A connected TCP pair over loopback: [client, server]; the listener is closed. */
export function tcpPair(): [number, number] {
  const l = tcpListener();
  try {
    const client = tcpConnect(l.port);
    return [client, tcpAccept(l.fd)];
  } finally {
    sys().close(l.fd);
  }
}

/** Sends `data` (to 127.0.0.1:`port` when given); returns bytes sent or -errno. */
export function sendData(fd: number, data: Uint8Array, port?: number): number {
  const s = sys();
  const buf = alloc(Math.max(1, data.length));
  buf.set(data);
  const addr = port === undefined ? undefined : loopbackAddr(port);
  const r = s.syscall(
    s.nr.sendto,
    BigInt(fd),
    s.addressOf(buf),
    BigInt(data.length),
    0n,
    addr === undefined ? 0n : s.addressOf(addr),
    addr === undefined ? 0n : 16n,
  );
  retain(buf);
  if (addr !== undefined) retain(addr);
  return Number(r);
}

/** Receives up to `max` bytes, waiting for them; returns the bytes or -errno. */
export function recvData(fd: number, max = 2048): Uint8Array | number {
  const s = sys();
  const buf = alloc(max);
  const r = s.syscall(s.nr.recvfrom, BigInt(fd), s.addressOf(buf), BigInt(max), 0n, 0n, 0n);
  if (r < 0n) return Number(r);
  return buf.slice(0, Number(r));
}

/** Receives exactly `n` bytes from a stream socket. */
export function recvExactly(fd: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = recvData(fd, n - got);
    assert.ok(typeof r !== "number", `recv failed: errno ${-(r as number)}`);
    assert.ok(r.length > 0, "connection closed early");
    out.set(r, got);
    got += r.length;
  }
  return out;
}
