/**
 * Runs one command inside a Debian kernel booted under qemu (TCG; no KVM needed), and exits with
 * the command's exit status. The guest sees the host's whole filesystem read-only (writes go to a
 * tmpfs overlay and vanish), at the same paths, in the same working directory, as root, with
 * bpffs, tracefs, debugfs, cgroup2, proc, sys, loopback and module autoload set up. Its stdout and
 * stderr come back live on this process's stdout and stderr. No network besides loopback: call
 * binaries by path (e.g. the host deno is `$(npx -y deno@2.9.6 eval 'console.log(Deno.execPath())')`)
 * rather than through `npx`.
 *
 * Usage:
 *
 *   deno run -A scripts/vm/run.ts --kernel 6.1 -- uname -r
 *   deno run -A scripts/vm/run.ts --kernel 7 --rw out/ -- "$DENO" run -A scripts/profile_dump.ts out/7.json
 *   deno run -A scripts/vm/run.ts --list            # the kernels of the matrix and what they resolve to
 *
 * Options:
 *   --kernel SPEC   "5.10", "6.1", "6.12", "6.18", "7" (newest 7.x), or a full Debian ABI such as
 *                   "6.12.118+deb13". The newest matching generic amd64 package is fetched once
 *                   with `apt-get download` (private apt lists), unpacked into
 *                   $TSBPF_VM_CACHE (default /var/tmp/tsbpf-vm) and reused.
 *   --rw DIR        mount host DIR writable at the same path (repeatable): how results get out.
 *   --env K=V       extra environment variable (repeatable). PATH, HOME, LANG, NO_COLOR, CI,
 *                   BPF_REQUIRE, TERM pass through.
 *   --mem MIB       guest memory (default 3072).  --cpus N  vCPUs (default 2).
 *   --timeout SEC   kill the VM after SEC seconds (default 3600; exit status 124).
 *   --refresh       re-resolve SPEC against the Debian archive even if a kernel is cached.
 *   --console       print the kernel console log after the run.  --loglevel N  console level.
 *
 * Exit status: the command's; 124 on timeout; 125 when the VM died first (console tail printed).
 * On stderr: one `[vm] <release>: boot X s, total Y s, exit N` line.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ensureKernel, MATRIX_KERNELS } from "./kernels.ts";
import { runInVm } from "./vm.ts";

const dash = Deno.args.indexOf("--");
const own = dash >= 0 ? Deno.args.slice(0, dash) : Deno.args;
const argv = dash >= 0 ? Deno.args.slice(dash + 1) : [];
const { values } = parseArgs({
  args: own,
  options: {
    kernel: { type: "string" },
    rw: { type: "string", multiple: true },
    env: { type: "string", multiple: true },
    mem: { type: "string" },
    cpus: { type: "string" },
    timeout: { type: "string" },
    refresh: { type: "boolean" },
    console: { type: "boolean" },
    loglevel: { type: "string" },
    list: { type: "boolean" },
  },
});

if (values.list) {
  for (const spec of MATRIX_KERNELS) {
    const k = await ensureKernel(spec, { refresh: values.refresh });
    console.log(`${spec}\t${k.release}\t${k.version}`);
  }
  Deno.exit(0);
}
if (!values.kernel || argv.length === 0) {
  console.error("usage: deno run -A scripts/vm/run.ts --kernel 6.1 [options] -- <command...>");
  Deno.exit(2);
}
const env: Record<string, string> = {};
for (const kv of values.env ?? []) {
  const eq = kv.indexOf("=");
  if (eq <= 0) {
    console.error(`--env ${kv}: expected K=V`);
    Deno.exit(2);
  }
  env[kv.slice(0, eq)] = kv.slice(eq + 1);
}
const kernel = await ensureKernel(values.kernel, { refresh: values.refresh });
const r = await runInVm({
  kernel,
  argv,
  env,
  rw: values.rw,
  memMiB: values.mem ? +values.mem : undefined,
  cpus: values.cpus ? +values.cpus : undefined,
  timeoutSec: values.timeout ? +values.timeout : undefined,
  loglevel: values.loglevel ? +values.loglevel : undefined,
});
if (values.console) console.error(r.console);
console.error(
  `[vm] ${kernel.release}: boot ${(r.bootMs / 1000).toFixed(1)} s, total ${
    (r.totalMs / 1000).toFixed(1)
  } s, exit ${r.code}`,
);
Deno.exit(r.code);
