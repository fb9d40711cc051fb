// Agreement with the kernel at reduced privileges: the probe runs in a child under setpriv with
// only CAP_BPF (+ CAP_NET_ADMIN), or CAP_BPF + CAP_PERFMON (no CAP_SYS_ADMIN), and the checker,
// given the same capabilities, must give the same verdicts. This checks the privilege levels of
// bpf_base_func_proto() and bpf_sk_base_func_proto().
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { kernelSkip, repoRoot } from "./util.ts";
import { checkProgram } from "../lib/check/mod.ts";
import type { LoadContext } from "../lib/progtype/mod.ts";
import { HELPER_NAMES } from "../types/helpers.ts";
import { liveProfile } from "../lib/profile/mod.ts";
import {
  callProgram,
  loadOptionsOf,
  PROBE_VARIANTS,
  runningKernelConfig,
} from "../scripts/probe_helpers.ts";

const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));
const config = kernelSkip ? undefined : runningKernelConfig();
const skip = kernelSkip ||
  (setpriv === undefined ? "setpriv (util-linux) is not installed" : false) ||
  (config === undefined ? "neither /proc/config.gz nor /boot/config-<release> is readable" : false);

function probeWith(caps: string): Record<string, { status: string; verdicts: string[] }> {
  const g = globalThis as { Bun?: unknown; Deno?: { execPath(): string } };
  const child = `${repoRoot}/tests/fixtures/probe_caps_child.ts`;
  const runtime = g.Bun !== undefined
    ? [(globalThis as unknown as { process: { execPath: string } }).process.execPath, child]
    : [g.Deno!.execPath(), "run", "--allow-all", "--no-check", child];
  const r = spawnSync(setpriv!, [
    `--bounding-set=-all,${caps}`,
    "--inh-caps=-all",
    "--ambient-caps=-all",
    "--",
    ...runtime,
  ], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

function compare(
  caps: string,
  capabilities: NonNullable<LoadContext["capabilities"]>,
  minVariants: number,
): void {
  const kernel = probeWith(caps);
  let compared = 0, variants = 0;
  const diffs: string[] = [];
  for (const v of PROBE_VARIANTS) {
    const k = kernel[v.label];
    if (k.status !== "ok") continue;
    // Every id "available", none invalid: the probe program fails for another reason each time
    // (6.1's fmod_ret and ext), so the kernel's answers cannot tell helpers apart here.
    if (k.verdicts.every((x) => x === "available")) continue;
    variants++;
    const opts = loadOptionsOf(v);
    for (let id = 0; id < k.verdicts.length; id++) {
      const f = checkProgram({
        type: v.type,
        insns: callProgram(id),
        license: "GPL",
        privileged: false,
        capabilities,
        ...(opts.expectedAttachType !== undefined
          ? { expectedAttachType: opts.expectedAttachType }
          : {}),
        ...(opts.flags !== undefined ? { flags: opts.flags } : {}),
        ...(v.attachTo !== undefined ? { attachTo: v.attachTo } : {}),
        kernelConfig: config,
        profile: liveProfile(),
      });
      const mine = f.some((x) => x.code === "invalid-func")
        ? "invalid"
        : f.some((x) => x.code === "helper-unavailable")
        ? "unavailable"
        : "available";
      compared++;
      if (mine !== k.verdicts[id]) {
        diffs.push(
          `${v.label} × ${HELPER_NAMES[id]}#${id}: kernel ${k.verdicts[id]}, checker ${mine}`,
        );
      }
    }
  }
  console.log(
    `${caps}: compared ${compared} pairs over ${variants} variants; ${diffs.length} disagreements`,
  );
  assert.deepEqual(diffs, []);
  assert.ok(variants >= minVariants, `only ${variants} variants could be loaded with ${caps}`);
}

test("CAP_BPF without CAP_PERFMON: checker and kernel agree", { skip }, () => {
  compare("+bpf,+net_admin", { bpf: true, perfmon: false, sysAdmin: false }, 20);
});

test("CAP_BPF + CAP_PERFMON without CAP_SYS_ADMIN: checker and kernel agree", { skip }, () => {
  compare("+bpf,+perfmon,+net_admin", { bpf: true, perfmon: true, sysAdmin: false }, 50);
});
