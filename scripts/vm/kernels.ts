/**
 * Debian kernel packages for the VM runner: resolve a short spec ("5.10", "6.1", "7") to the newest
 * matching `linux-image-*-amd64` (or, from 6.19, `linux-binary-*` + `linux-modules-*` +
 * `linux-base-*`) in Debian's suites, download it with `apt-get download`, unpack it with
 * `dpkg-deb -x` into a cache directory (never installed), decompress its modules, run
 * `busybox depmod`, and build a small initramfs for it.
 *
 * apt runs with a private configuration under the cache (its own sources.list and lists), so the
 * host's apt state is neither read nor changed. Cache: `$TSBPF_VM_CACHE`, default
 * `/var/tmp/tsbpf-vm`.
 *
 * ```ts
 * import { ensureKernel } from "./kernels.ts";
 * const k = await ensureKernel("6.1");
 * console.log(k.release, k.vmlinuz, k.initrd);
 * ```
 *
 * @module
 */
/** Root of the kernel cache. */
export const cacheDir: string = Deno.env.get("TSBPF_VM_CACHE") ?? "/var/tmp/tsbpf-vm";

/** The kernels of the test matrix, oldest first ("7" means the newest 7.x). */
export const MATRIX_KERNELS: readonly string[] = ["5.10", "6.1", "6.12", "6.18", "7"];

/** Debian suites searched for kernels. Only those the mirror serves are listed. */
const SOURCES = [
  "http://deb.debian.org/debian bullseye main",
  "http://deb.debian.org/debian-security bullseye-security main",
  "http://deb.debian.org/debian bookworm main",
  "http://deb.debian.org/debian-security bookworm-security main",
  "http://deb.debian.org/debian bookworm-backports main",
  "http://deb.debian.org/debian trixie main",
  "http://deb.debian.org/debian-security trixie-security main",
  "http://deb.debian.org/debian trixie-backports main",
  "http://deb.debian.org/debian sid main",
  "http://deb.debian.org/debian experimental main",
];
const KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

/** Modules the initramfs loads to reach the host root (when they are not built in). */
const BOOT_MODULES = ["virtio_pci", "9pnet_virtio", "9p", "overlay"];

/** A kernel unpacked and ready to boot. */
export interface Kernel {
  /** `uname -r` of the kernel, e.g. `6.1.0-57-amd64`. */
  release: string;
  /** Debian package version, e.g. `6.1.192-3`. */
  version: string;
  /** Path of the bzImage. */
  vmlinuz: string;
  /** Path of the initramfs built for it. */
  initrd: string;
  /** Host path of its `lib/modules/<release>` (decompressed, with modules.dep). */
  modulesDir: string;
  /** Cache directory of this kernel. */
  dir: string;
}

function log(msg: string): void {
  console.error(`[vm] ${msg}`);
}

async function sh(cmd: string[], opts: { cwd?: string; quiet?: boolean } = {}): Promise<string> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: opts.cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr);
    throw new Error(`${cmd.join(" ")} failed (exit ${out.code}):\n${err.slice(-2000)}`);
  }
  return text;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const aptDir = `${cacheDir}/apt`;

function aptOpts(): string[] {
  return [
    "-o",
    `Dir::Etc::SourceList=${aptDir}/sources.list`,
    "-o",
    "Dir::Etc::SourceParts=/dev/null",
    "-o",
    `Dir::State::Lists=${aptDir}/lists`,
    "-o",
    `Dir::Cache=${aptDir}/cache`,
    "-o",
    "Debug::NoLocking=1",
    "-o",
    "APT::Architecture=amd64",
    "-o",
    "Acquire::Languages=none",
    "-o",
    "APT::Sandbox::User=root",
  ];
}

/** Refreshes the private apt lists when older than `maxAgeHours` (or absent). */
async function aptUpdate(maxAgeHours: number): Promise<void> {
  Deno.mkdirSync(`${aptDir}/lists/partial`, { recursive: true });
  Deno.mkdirSync(`${aptDir}/cache/archives/partial`, { recursive: true });
  const list = SOURCES.map((s) => `deb [signed-by=${KEYRING}] ${s}`).join("\n") + "\n";
  const stamp = `${aptDir}/updated`;
  let fresh = false;
  try {
    const current = Deno.readTextFileSync(`${aptDir}/sources.list`);
    const age = Date.now() - (Deno.statSync(stamp).mtime?.getTime() ?? 0);
    fresh = current === list && age < maxAgeHours * 3600_000;
  } catch { /* first run */ }
  if (fresh) return;
  Deno.writeTextFileSync(`${aptDir}/sources.list`, list);
  log("apt-get update (private lists under " + aptDir + ")");
  const out = await new Deno.Command("apt-get", {
    args: [...aptOpts(), "update"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  // apt-get update exits 0 even when a suite is unreachable; a missing suite only narrows the
  // choice, but no list at all means nothing can be fetched.
  if (!out.success) throw new Error(`apt-get update failed:\n${err.slice(-2000)}`);
  if (/^(W|E): Failed to fetch/m.test(err)) log(err.trim().split("\n").slice(-3).join("\n"));
  Deno.writeTextFileSync(stamp, new Date().toISOString());
}

/** Debian version comparison (deb-version(7)): negative, zero or positive. */
export function compareDebVersions(a: string, b: string): number {
  const split = (v: string): [number, string, string] => {
    const colon = v.indexOf(":");
    const epoch = colon >= 0 ? +v.slice(0, colon) : 0;
    const rest = colon >= 0 ? v.slice(colon + 1) : v;
    const dash = rest.lastIndexOf("-");
    return dash >= 0 ? [epoch, rest.slice(0, dash), rest.slice(dash + 1)] : [epoch, rest, ""];
  };
  const order = (c: string | undefined): number => {
    if (c === undefined) return 0;
    if (c === "~") return -1;
    if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
    return c.charCodeAt(0) + 256;
  };
  const part = (x: string, y: string): number => {
    let i = 0, j = 0;
    while (i < x.length || j < y.length) {
      while ((i < x.length && !/\d/.test(x[i])) || (j < y.length && !/\d/.test(y[j]))) {
        const cx = i < x.length && !/\d/.test(x[i]) ? x[i] : undefined;
        const cy = j < y.length && !/\d/.test(y[j]) ? y[j] : undefined;
        const d = order(cx) - order(cy);
        if (d !== 0) return d;
        if (cx !== undefined) i++;
        if (cy !== undefined) j++;
      }
      let nx = "", ny = "";
      while (i < x.length && /\d/.test(x[i])) nx += x[i++];
      while (j < y.length && /\d/.test(y[j])) ny += y[j++];
      const d = Number(nx || "0") - Number(ny || "0");
      if (d !== 0) return d;
    }
    return 0;
  };
  const [ea, ua, ra] = split(a);
  const [eb, ub, rb] = split(b);
  return ea - eb || part(ua, ub) || part(ra, rb);
}

interface Candidate {
  abi: string;
  version: string;
  /** Packages to download: one `linux-image-*`, or `linux-binary/modules/base-*`. */
  packages: string[];
}

/** Finds the newest generic amd64 kernel whose ABI name starts with `spec`. */
async function resolve(spec: string): Promise<Candidate> {
  await aptUpdate(24);
  const esc = spec.replace(/[.+]/g, (c) => `\\${c}`);
  const names = (await sh([
    "apt-cache",
    ...aptOpts(),
    "search",
    "--names-only",
    `^linux-(image|binary)-${esc}([.+-].*)?-amd64$`,
  ])).split("\n").map((l) => l.split(" ")[0]).filter((n) =>
    n && !/-(cloud|rt)-amd64$|unsigned|dbg/.test(n)
  );
  if (names.length === 0) {
    throw new Error(`no Debian kernel package matches "${spec}" in: ${SOURCES.join("; ")}`);
  }
  const stanzas = (await sh(["apt-cache", ...aptOpts(), "show", ...names])).split(/\n\n+/);
  const best = new Map<string, { version: string; pkg: string; size: number }>();
  for (const st of stanzas) {
    const pkg = /^Package: (\S+)/m.exec(st)?.[1];
    const version = /^Version: (\S+)/m.exec(st)?.[1];
    const size = +(/^Installed-Size: (\d+)/m.exec(st)?.[1] ?? 0);
    if (!pkg || !version) continue;
    const m = /^linux-(?:image|binary)-(.+)-amd64$/.exec(pkg);
    if (!m) continue;
    const abi = m[1];
    // From 6.19 linux-image-<abi> is a tiny meta package; its linux-binary-<abi> holds the kernel.
    const prev = best.get(abi);
    if (!prev || compareDebVersions(version, prev.version) > 0) {
      best.set(abi, { version, pkg, size });
    }
  }
  const sorted = [...best.entries()].sort((x, y) => compareDebVersions(y[1].version, x[1].version));
  const [abi, { version }] = sorted[0];
  const split = names.includes(`linux-binary-${abi}-amd64`);
  const packages = split
    ? ["binary", "modules", "base"].map((p) => `linux-${p}-${abi}-amd64=${version}`)
    : [`linux-image-${abi}-amd64=${version}`];
  return { abi, version, packages };
}

/** Module name (dashes as underscores) of a `.ko` path. */
function modName(path: string): string {
  return path.replace(/^.*\//, "").replace(/\.ko$/, "").replace(/-/g, "_");
}

/** Modules to insmod at boot, dependencies first, as paths relative to the modules dir. */
function bootModules(modulesDir: string): string[] {
  const builtin = new Set(
    Deno.readTextFileSync(`${modulesDir}/modules.builtin`).split("\n").filter(Boolean).map(
      modName,
    ),
  );
  const deps = new Map<string, { path: string; deps: string[] }>();
  for (const line of Deno.readTextFileSync(`${modulesDir}/modules.dep`).split("\n")) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    deps.set(modName(m[1]), { path: m[1], deps: m[2].split(/\s+/).filter(Boolean) });
  }
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || builtin.has(name)) return;
    seen.add(name);
    const d = deps.get(name);
    if (!d) throw new Error(`module ${name} is neither built in nor in ${modulesDir}/modules.dep`);
    for (const p of d.deps) visit(modName(p));
    order.push(d.path);
  };
  for (const m of BOOT_MODULES) visit(m);
  return order;
}

/** The stage-1 init of the initramfs (busybox sh). */
const stage1 = (release: string, modules: string[]) =>
  `#!/bin/busybox sh
# tsbpf VM stage 1: load the 9p/overlay modules, mount the host root read-only over virtio-9p with a
# tmpfs overlay, mount the run share, then switch_root into it (stage 2 lives in the run share).
B=/bin/busybox
$B mkdir -p /proc /sys /dev /host /rw /newroot
$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
$B mount -t devtmpfs devtmpfs /dev
for m in ${modules.map((m) => "/modules/" + m.replace(/^.*\//, "")).join(" ")}; do
  $B insmod "$m" || echo "tsbpf-vm: insmod $m failed"
done
fail() { echo "tsbpf-vm: $*"; $B sleep 1; $B reboot -f; }
$B mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /host ||
  fail "cannot mount the host root over 9p"
$B mount -t tmpfs -o mode=0755 tmpfs /rw
$B mkdir -p /rw/upper /rw/work
$B mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
  fail "cannot mount the overlay"
$B mkdir -p /newroot/.tsbpf/run
$B mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 tsbpfrun /newroot/.tsbpf/run ||
  fail "cannot mount the run share"
$B cp /bin/busybox /newroot/.tsbpf/busybox
# Writable host directories (--rw): "tag path" lines.
while read -r tag path; do
  [ -n "$tag" ] || continue
  $B mkdir -p "/newroot$path"
  $B mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 "$tag" "/newroot$path" ||
    fail "cannot mount $path"
done < /newroot/.tsbpf/run/rw
$B echo ${release} > /newroot/.tsbpf/release
$B umount /proc /sys
$B umount /dev
exec $B switch_root /newroot /.tsbpf/busybox sh /.tsbpf/run/stage2
`;

/** Downloads (once) and prepares the newest Debian kernel matching `spec`. */
export async function ensureKernel(
  spec: string,
  opts: { refresh?: boolean } = {},
): Promise<Kernel> {
  Deno.mkdirSync(cacheDir, { recursive: true });
  const resolvedFile = `${cacheDir}/resolved.json`;
  let resolved: Record<string, Kernel> = {};
  try {
    resolved = JSON.parse(Deno.readTextFileSync(resolvedFile));
  } catch { /* none yet */ }
  const hit = resolved[spec];
  if (!opts.refresh && hit && exists(`${hit.dir}/.ready`)) return hit;
  const cand = await resolve(spec);
  const dir = `${cacheDir}/kernels/${cand.abi}-amd64_${cand.version}`;
  const root = `${dir}/root`;
  if (!exists(`${dir}/.ready`)) {
    const t0 = Date.now();
    log(`fetching ${cand.packages.join(" ")}`);
    if (exists(dir)) Deno.removeSync(dir, { recursive: true });
    Deno.mkdirSync(`${dir}/debs`, { recursive: true });
    await sh(["apt-get", ...aptOpts(), "download", ...cand.packages], { cwd: `${dir}/debs` });
    Deno.mkdirSync(root, { recursive: true });
    for (const e of Deno.readDirSync(`${dir}/debs`)) {
      if (e.name.endsWith(".deb")) await sh(["dpkg-deb", "-x", `${dir}/debs/${e.name}`, root]);
    }
    Deno.removeSync(`${dir}/debs`, { recursive: true });
    // Merged /usr (trixie on): keep one lib/modules path for busybox depmod and modprobe.
    if (!exists(`${root}/lib`) && exists(`${root}/usr/lib`)) {
      Deno.symlinkSync("usr/lib", `${root}/lib`);
    }
    const release = [...Deno.readDirSync(`${root}/lib/modules`)].map((e) => e.name)[0];
    const modulesDir = `${root}/lib/modules/${release}`;
    // Busybox modprobe/insmod cannot read compressed modules everywhere: store them plain.
    log("decompressing modules");
    await sh([
      "sh",
      "-c",
      `find . -name '*.ko.xz' -print0 | xargs -0 -r -n 200 xz -d -T1; ` +
      `find . -name '*.ko.zst' -print0 | xargs -0 -r -n 200 zstd -q -d --rm`,
    ], { cwd: modulesDir });
    log("busybox depmod");
    await sh(["busybox", "depmod", "-b", root, release]);
    const vmlinuz = exists(`${root}/boot/vmlinuz-${release}`)
      ? `${root}/boot/vmlinuz-${release}`
      : `${modulesDir}/vmlinuz`;
    if (!exists(vmlinuz)) throw new Error(`no vmlinuz in ${root}`);
    // The initramfs: busybox, the boot modules, /init.
    const ird = `${dir}/initramfs`;
    Deno.mkdirSync(`${ird}/bin`, { recursive: true });
    Deno.mkdirSync(`${ird}/modules`, { recursive: true });
    Deno.copyFileSync("/bin/busybox", `${ird}/bin/busybox`);
    const mods = bootModules(modulesDir);
    for (const m of mods) {
      Deno.copyFileSync(`${modulesDir}/${m}`, `${ird}/modules/${m.replace(/^.*\//, "")}`);
    }
    Deno.writeTextFileSync(`${ird}/init`, stage1(release, mods), { mode: 0o755 });
    await sh(["sh", "-c", "find . | busybox cpio -o -H newc > ../initrd.cpio"], { cwd: ird });
    Deno.writeTextFileSync(
      `${dir}/kernel.json`,
      JSON.stringify({
        release,
        version: cand.version,
        vmlinuz,
        initrd: `${dir}/initrd.cpio`,
        modulesDir,
        dir,
      }),
    );
    Deno.writeTextFileSync(`${dir}/.ready`, "");
    log(`${release} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const k: Kernel = JSON.parse(Deno.readTextFileSync(`${dir}/kernel.json`));
  resolved[spec] = k;
  Deno.writeTextFileSync(resolvedFile, JSON.stringify(resolved, null, 2));
  return k;
}
