/**
 * Runs the JSDoc examples (`deno test --doc`) of the modules whose examples are self-contained,
 * against the real kernel where they load programs or create maps (CI runs as root; `.ci/run`).
 * Examples marked `ts ignore` are neither checked nor run; every other example is type-checked by
 * `deno task check` (`deno check --doc`). Files outside `RUN` have examples that need what CI does
 * not set up (a mounted tracefs, a cgroup, a socket): those are type-checked only. `SKIP` lists the files whose examples cannot run yet,
 * each with why: it only shrinks.
 *
 *   deno task test:doc
 */
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { root } from "./api_snapshot.ts";

/** Folders and files whose examples run. */
const RUN = [
  "types/",
  "lib/insn/",
  "lib/codec/",
  "lib/check/",
  "lib/progtype/",
  "lib/attr.ts",
  "lib/errors.ts",
  "lib/sys/bpf_cmds.ts",
  "lib/program/",
  "lib/pin.ts",
  "lib/ids.ts",
  "lib/fd.ts",
  "lib/map/",
  "lib/link/link.ts",
  "lib/link/iter.ts",
  "lib/link/raw_tracepoint.ts",
  "lib/link/uprobe.ts",
  "lib/link/mod.ts",
  "lib/link/os.ts",
  "lib/link/netfilter.ts",
  "lib/link/netns.ts",
  "lib/link/sockmap.ts",
  "lib/token.ts",
  "lib/verifier/",
  "lib/host_fs.ts",
  "lib/object/host.ts",
  "lib/ringbuf/mmap.ts",
  "lib/ringbuf/waiter.ts",
  "lib/ringbuf/user_ring_buffer.ts",
];

/** Files under `RUN` whose examples cannot run yet, with why. */
const SKIP: Record<string, string> = {
  "lib/codec/from_btf.ts": "reads prog.bpf.o, a file the example assumes",
};

function files(path: string): string[] {
  const abs = join(root, path);
  if (!statSync(abs).isDirectory()) return [path];
  return readdirSync(abs).sort().flatMap((n) => {
    const rel = relative(root, join(abs, n));
    return statSync(join(root, rel)).isDirectory()
      ? files(rel + "/")
      : n.endsWith(".ts")
      ? [rel]
      : [];
  });
}

if (import.meta.main) {
  const list = RUN.flatMap(files).filter((f) => !(f in SKIP));
  for (const [f, why] of Object.entries(SKIP)) console.log(`doc examples of ${f} skipped: ${why}`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--doc", "--allow-all", ...list],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  Deno.exit(code);
}
