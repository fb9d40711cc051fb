/**
 * Shared test helpers: whether the kernel can be used, fixture paths, fd accounting.
 *
 * Kernel tests take `{ skip: kernelSkip }`. The reason is computed once, at load time. Under
 * `BPF_REQUIRE=1` (set by `.ci/run`) a missing capability is never a reason to skip: the tests then
 * run and fail, so that CI cannot pass by skipping.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BpfCmd } from "../types/cmd.ts";
import { sys } from "../lib/sys/mod.ts";
import { type Answer, type LiveProfile, liveProfile } from "../lib/profile/mod.ts";

function env(name: string): string | undefined {
  const g = globalThis as { process?: { env: Record<string, string | undefined> } };
  return g.process?.env[name];
}

/** True when `BPF_REQUIRE=1`: kernel tests must run. */
export const bpfRequired: boolean = env("BPF_REQUIRE") === "1";

function probeKernel(): string | false {
  try {
    // BPF_PROG_GET_NEXT_ID needs CAP_SYS_ADMIN, the privilege that loading needs here too.
    const attr = new Uint8Array(new ArrayBuffer(16));
    const r = sys().bpf(BpfCmd.PROG_GET_NEXT_ID, attr, 12);
    if (r < 0 && -r !== 2) return `bpf() unavailable (errno ${-r}): run as root`;
    return false;
  } catch (e) {
    return `bpf() unavailable: ${(e as Error).message}`;
  }
}

/** Skip reason for tests that need the kernel, or `false`. Never a reason under BPF_REQUIRE=1. */
export const kernelSkip: string | false = bpfRequired ? false : probeKernel();

/** The repository root. */
export const repoRoot: string = join(dirname(fileURLToPath(import.meta.url)), "..");

/** `../shared` beside the repository (present in CI, absent in a user's clone). */
export const sharedDir: string = join(repoRoot, "..", "shared");

/** Skip reason for tests that read `../shared`, or `false`. */
export const sharedSkip: string | false = existsSync(sharedDir)
  ? false
  : `../shared is absent (${sharedDir}); it exists only beside the project's CI checkout`;

/**
 * Number of open file descriptors of this process.
 *
 * @deprecated A count is flaky under Bun, where every test file runs in one process and another
 * file's finalized objects close fds meanwhile: take an {@link openFds} snapshot and assert
 * {@link fdsOpenedSince} is `[]`.
 */
export function openFdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/**
 * The fd targets of kernel BPF objects: `anon_inode:bpf-map`, `bpf-prog`, `bpf_link`,
 * `bpf_iter`, `bpf-token`, `btf`. Pass it as `only` to the fd helpers below when the runtime's own
 * files and sockets are none of the test's business.
 */
export const BPF_FDS: RegExp = /^anon_inode:\[?(bpf|btf)/;

/**
 * This process's open fds now, each as `"<fd> -> <target>"`; a BPF object's entry ends with its
 * kernel id (`map_id: 12` from `/proc/self/fdinfo`), so an fd number closed by someone else and
 * reused for a new object of the same kind still counts as new. Take it before a test's work and
 * hand it to {@link fdsOpenedSince} after.
 *
 * Compare sets, never counts: under Bun every test file runs in one process, and another file's
 * object finalized meanwhile closes its fd, which changes a count but not the fds this test opened.
 */
export function openFds(): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    let entry: string;
    try {
      entry = `${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`;
      if (entry.includes("anon_inode:")) {
        const id = /^((?:map|prog|link|btf)_id):\s*(\d+)$/m.exec(
          readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"),
        );
        if (id !== null) entry += ` (${id[1]} ${id[2]})`;
      }
    } catch {
      continue; // closed between the listing and the read (the listing's own fd, for one)
    }
    out.add(entry);
  }
  return out;
}

/**
 * The fds open now that were not open at `before` (an {@link openFds} snapshot), sorted; with
 * `only`, just those whose target matches it. Fds closed meanwhile, by this test or by another's
 * finalizer, do not count. `[]` means nothing opened since is still open.
 *
 * @example
 * ```ts
 * const before = openFds();
 * using map = BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 1 });
 * fdsOpenedSince(before, BPF_FDS); // ["9 -> anon_inode:bpf-map (map_id 42)"]
 * ```
 */
export function fdsOpenedSince(before: ReadonlySet<string>, only?: RegExp): string[] {
  return [...openFds()].filter((f) =>
    !before.has(f) && (only === undefined || only.test(f.slice(f.indexOf(" -> ") + 4)))
  ).sort();
}

/**
 * Runs `fn` and returns the fds it opened and left open ({@link fdsOpenedSince} around it); a
 * test asserts `[]` to show that nothing leaked.
 */
export function fdsOpenedDuring(fn: () => void, only?: RegExp): string[] {
  const before = openFds();
  fn();
  return fdsOpenedSince(before, only);
}

/**
 * Number of this process's open fds that refer to BPF objects (`anon_inode:bpf-prog`,
 * `bpf-map`, `bpf_link`, …), by kind. Other fds come and go with the runtime.
 *
 * @deprecated Counts are flaky under Bun (see {@link openFdCount}): use
 * `fdsOpenedSince(before, BPF_FDS)`.
 */
export function bpfFdCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const fd of readdirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile (the directory's own fd)
    }
    const m = /^anon_inode:\[?(bpf[-_a-z]*)\]?$/.exec(target);
    if (m) counts[m[1]] = (counts[m[1]] ?? 0) + 1;
  }
  return counts;
}

/** Reads `/proc/self/fdinfo/<fd>` into a key → value record. */
export function fdinfo(fd: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/self/fdinfo/${fd}`, "utf8").split("\n")) {
    const m = /^([a-z_]+):\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Forces a full garbage collection where the runtime allows it; false when it cannot. */
export function forceGc(): boolean {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) {
    g.Bun.gc(true);
    return true;
  }
  if (typeof g.gc === "function") {
    g.gc();
    return true;
  }
  return false;
}

/**
 * Whether the running kernel is older (by major.minor) than the one `types/` and tsbpf's tables
 * were generated from (the release in `types/cmd.ts`): then it may lack fields, types and
 * operations those describe, which tests report instead of failing on.
 */
export function kernelOlderThanTypes(): boolean {
  const head = readFileSync(join(repoRoot, "types", "cmd.ts"), "utf8");
  const from = /from the BTF of Linux (\d+)\.(\d+)/.exec(head);
  let here: RegExpExecArray | null = null;
  try {
    here = /^(\d+)\.(\d+)/.exec(readFileSync("/proc/sys/kernel/osrelease", "utf8"));
  } catch {
    return false;
  }
  if (from === null || here === null) return false;
  return +here[1] < +from[1] || (+here[1] === +from[1] && +here[2] < +from[2]);
}

/**
 * A skip reason when the kernel cannot be used, or when the running kernel's profile answers `no`
 * (absent or refused: its reason); `false` otherwise (a `yes`, or an `unknown` the test then
 * decides). Feature skips go through here, never through ad-hoc probes.
 */
export function unlessProfile(ask: (p: LiveProfile) => Answer): string | false {
  if (kernelSkip) return kernelSkip;
  const a = ask(liveProfile());
  return a.state === "no" ? a.reason : false;
}
