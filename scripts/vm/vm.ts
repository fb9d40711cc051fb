/**
 * Boots a kernel under qemu-system-x86_64 (TCG, no KVM needed) with the host root mounted read-only
 * over virtio-9p under a tmpfs overlay, runs one command in it, and returns its exit status. The
 * command's stdout and stderr come back live through two serial ports; the kernel console goes to
 * a log file. Used by `run.ts` (one command) and `matrix.ts` (the test suite per kernel).
 *
 * ```ts
 * import { ensureKernel } from "./kernels.ts";
 * import { runInVm } from "./vm.ts";
 * const r = await runInVm({ kernel: await ensureKernel("6.1"), argv: ["uname", "-r"] });
 * console.log(r.code, r.bootMs);
 * ```
 *
 * @module
 */
import type { Kernel } from "./kernels.ts";

/** What to run, where, and with which resources. */
export interface RunOptions {
  kernel: Kernel;
  /** Command and arguments, run through `exec` in the guest. */
  argv: string[];
  /** Working directory in the guest (the same path as on the host); default: the host cwd. */
  cwd?: string;
  /** Extra environment variables. PATH, HOME, LANG, NO_COLOR, CI, BPF_REQUIRE pass through. */
  env?: Record<string, string>;
  /** Host directories mounted writable at the same path in the guest. */
  rw?: string[];
  /** Guest memory in MiB (default 3072). */
  memMiB?: number;
  /** vCPUs (default 2). */
  cpus?: number;
  /** Kill the VM after this many seconds (default 3600); the status is then 124. */
  timeoutSec?: number;
  /** Receives the command's stdout (default: written to this process's stdout). */
  onStdout?: (chunk: Uint8Array) => void;
  /** Receives the command's stderr (default: written to this process's stderr). */
  onStderr?: (chunk: Uint8Array) => void;
  /** Kernel log level on the console (default 4: warnings and worse). */
  loglevel?: number;
}

/** How the run ended. */
export interface RunResult {
  /** The command's exit status; 124 on timeout, 125 when the VM died before the command ended. */
  code: number;
  /** From qemu start until the guest was ready to run the command. */
  bootMs: number;
  /** From qemu start until qemu exited. */
  totalMs: number;
  /** The kernel console log. */
  console: string;
}

const PASS_ENV = ["PATH", "HOME", "LANG", "NO_COLOR", "CI", "BPF_REQUIRE", "TERM"];

/** Single-quotes a string for sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function stage2(kernel: Kernel, cwd: string): string {
  return `# tsbpf VM stage 2 (PID 1 after switch_root): mounts, module autoload, loopback, the command.
B=/.tsbpf/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
$B mount -t devtmpfs devtmpfs /dev
$B mkdir -p /dev/pts /dev/shm
$B mount -t devpts devpts /dev/pts
$B mount -t tmpfs tmpfs /dev/shm
$B mount -t tmpfs tmpfs /run
$B mount -t bpf bpf /sys/fs/bpf
$B mount -t tracefs tracefs /sys/kernel/tracing
$B mount -t debugfs debugfs /sys/kernel/debug
$B mount -t cgroup2 cgroup2 /sys/fs/cgroup
rel=$($B uname -r)
$B mkdir -p /lib/modules/$rel
$B mount --bind ${shQuote(kernel.modulesDir)} /lib/modules/$rel
$B mkdir -p /.tsbpf/bin
$B ln -sf /.tsbpf/busybox /.tsbpf/bin/modprobe
# The kernel's own config where distributions put it (kconfig externs read it), not the host's.
for c in ${shQuote(`${kernel.dir}/root/boot/config-${kernel.release}`)} ${
    shQuote(`${kernel.modulesDir}/config`)
  }; do
  [ -f "$c" ] && $B mkdir -p /boot && $B cp "$c" /boot/config-$rel && break
done
echo /.tsbpf/bin/modprobe > /proc/sys/kernel/modprobe
$B ip link set lo up
$B hostname tsbpf-vm
$B stty -F /dev/ttyS1 raw -echo
$B stty -F /dev/ttyS2 raw -echo
$B cat /proc/uptime > /.tsbpf/run/started
cd ${shQuote(cwd)} || echo "tsbpf-vm: no directory ${cwd}" > /dev/ttyS2
. /.tsbpf/run/env
{ { $B sh /.tsbpf/run/cmd </dev/null; echo $? > /.tsbpf/run/status; } 2>&1 1>&3 3>&- |
  $B cat > /dev/ttyS2; } 3>&1 | $B cat > /dev/ttyS1
$B sync
$B reboot -f
`;
}

/** Boots `opts.kernel`, runs `opts.argv` inside, and returns its status. */
export async function runInVm(opts: RunOptions): Promise<RunResult> {
  const { kernel } = opts;
  const cwd = opts.cwd ?? Deno.cwd();
  const run = Deno.makeTempDirSync({ prefix: "tsbpf-vm-run-" });
  try {
    const env: Record<string, string> = {};
    for (const k of PASS_ENV) {
      const v = Deno.env.get(k);
      if (v !== undefined) env[k] = v;
    }
    Object.assign(env, opts.env ?? {});
    Deno.writeTextFileSync(
      `${run}/env`,
      Object.entries(env).map(([k, v]) => `export ${k}=${shQuote(v)}\n`).join(""),
    );
    Deno.writeTextFileSync(`${run}/cmd`, `exec ${opts.argv.map(shQuote).join(" ")}\n`);
    Deno.writeTextFileSync(`${run}/stage2`, stage2(kernel, cwd));
    const rw = (opts.rw ?? []).map((p) => Deno.realPathSync(p));
    Deno.writeTextFileSync(`${run}/rw`, rw.map((p, i) => `rw${i} ${p}\n`).join(""));
    for (const f of ["console.log", "stdout", "stderr"]) {
      Deno.writeFileSync(`${run}/${f}`, new Uint8Array());
    }

    const args = [
      "-accel",
      "tcg",
      "-cpu",
      "max",
      "-smp",
      String(opts.cpus ?? 2),
      "-m",
      String(opts.memMiB ?? 3072),
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      "-monitor",
      "none",
      "-no-reboot",
      "-kernel",
      kernel.vmlinuz,
      "-initrd",
      kernel.initrd,
      "-append",
      [
        "console=ttyS0",
        "rdinit=/init",
        "panic=-1",
        `loglevel=${opts.loglevel ?? 4}`,
        "mitigations=off",
        "random.trust_cpu=on",
        "8250.nr_uarts=4",
      ].join(" "),
      "-serial",
      `file:${run}/console.log`,
      "-serial",
      `file:${run}/stdout`,
      "-serial",
      `file:${run}/stderr`,
      "-virtfs",
      "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
      "-virtfs",
      `local,path=${run},mount_tag=tsbpfrun,security_model=none`,
      ...rw.flatMap((p, i) => [
        "-virtfs",
        `local,path=${p},mount_tag=rw${i},security_model=none,multidevs=remap`,
      ]),
    ];
    const t0 = Date.now();
    const child = new Deno.Command("qemu-system-x86_64", {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let exited = false;
    let timedOut = false;
    const status = child.output().then((o) => {
      exited = true;
      return o;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, (opts.timeoutSec ?? 3600) * 1000);

    const outSink = opts.onStdout ?? ((c: Uint8Array) => Deno.stdout.writeSync(c));
    const errSink = opts.onStderr ?? ((c: Uint8Array) => Deno.stderr.writeSync(c));
    const offsets = { stdout: 0, stderr: 0 };
    const pump = () => {
      for (const [name, sink] of [["stdout", outSink], ["stderr", errSink]] as const) {
        const data = Deno.readFileSync(`${run}/${name}`);
        if (data.length > offsets[name]) {
          sink(data.subarray(offsets[name]));
          offsets[name] = data.length;
        }
      }
    };
    let bootMs = 0;
    while (!exited) {
      await new Promise((r) => setTimeout(r, 200));
      if (!bootMs) {
        try {
          Deno.statSync(`${run}/started`);
          bootMs = Date.now() - t0;
        } catch { /* still booting */ }
      }
      pump();
    }
    const qemu = await status;
    clearTimeout(timer);
    pump();
    const totalMs = Date.now() - t0;
    const consoleLog = Deno.readTextFileSync(`${run}/console.log`);
    let code: number;
    if (timedOut) {
      code = 124;
    } else {
      try {
        code = +Deno.readTextFileSync(`${run}/status`).trim();
      } catch {
        code = 125;
        const qerr = new TextDecoder().decode(qemu.stderr);
        console.error(
          `[vm] the VM stopped before the command ended (qemu exit ${qemu.code}).\n${qerr}` +
            `--- console (last 40 lines) ---\n${consoleLog.split("\n").slice(-40).join("\n")}`,
        );
      }
    }
    return { code, bootMs, totalMs, console: consoleLog };
  } finally {
    Deno.removeSync(run, { recursive: true });
  }
}
