// Agreement with the running kernel: for every program type (and the attach variants whose helper
// sets differ) × every helper id, the checker's verdict on the minimal program
// `r1..r5 = 0; call N; r0 = 0; exit` equals the kernel's (privileged, GPL, `check: false`).
import { test } from "node:test";
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";
import { kernelSkip } from "./util.ts";
import { checkProgram } from "../lib/check/mod.ts";
import { getProgType } from "../lib/progtype/mod.ts";
import { HELPER_COUNT, HELPER_NAMES } from "../types/helpers.ts";
import {
  callProgram,
  loadOptionsOf,
  PROBE_VARIANTS,
  probeVariant,
  runningKernelConfig,
  type Verdict,
} from "../scripts/probe_helpers.ts";

const config = kernelSkip ? undefined : runningKernelConfig();
const release = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
// The checker's own tables (used without a profile) are upstream 6.18's: other versions differ by
// design, and there the live profile is the truth (tests/profile.test.ts compares it with every
// program type × helper pair, tests/progtype_caps.test.ts at each capability tier).
const configSkip = kernelSkip ||
  (/^6\.18\./.test(release)
    ? false
    : `the checker's tables are upstream 6.18's and this kernel is ${release}`) ||
  (config === undefined ? "neither /proc/config.gz nor /boot/config-<release> is readable" : false);

/** The checker's verdict on the minimal program for helper `id`. */
function checkerVerdict(v: (typeof PROBE_VARIANTS)[number], id: number): Verdict {
  const opts = loadOptionsOf(v);
  const findings = checkProgram({
    type: v.type,
    insns: callProgram(id),
    license: "GPL",
    privileged: true,
    ...(opts.expectedAttachType !== undefined
      ? { expectedAttachType: opts.expectedAttachType }
      : {}),
    ...(opts.flags !== undefined ? { flags: opts.flags } : {}),
    ...(v.attachTo !== undefined ? { attachTo: v.attachTo } : {}),
    kernelConfig: config,
  });
  if (findings.some((f) => f.code === "invalid-func")) return "invalid";
  if (findings.some((f) => f.code === "helper-unavailable")) return "unavailable";
  return "available";
}

/** Variants the kernel here refuses whatever the program: the reason each is expected. */
const EXPECTED_UNPROBEABLE: Record<string, string> = {
  ext: "freplace programs attach through a trampoline; this kernel refuses them with EPERM",
  lsm: "LSM programs attach through a trampoline; this kernel refuses them with EPERM",
  "lsm_cgroup/socket_post_create": "lsm_cgroup programs use a trampoline shim; EPERM here",
  "tracing/fentry": "fentry needs a trampoline; this kernel refuses it with EPERM",
  "tracing/fexit": "fexit needs a trampoline; this kernel refuses it with EPERM",
  "tracing/fmod_ret": "fmod_ret needs a trampoline; this kernel refuses it with EPERM",
};

test("checker and kernel agree on every program type × helper id", { skip: configSkip }, () => {
  let compared = 0;
  const disagreements: string[] = [];
  const unprobeable: string[] = [];
  const absent: string[] = [];
  for (const v of PROBE_VARIANTS) {
    const r = probeVariant(v);
    if (r.status === "absent") {
      // The type is compiled out: the registry's requiresConfig must say so for this config.
      const def = getProgType(v.type);
      assert.ok(def, `${v.type} is registered`);
      const missing = (def.requiresConfig ?? []).filter((k) => !config![k]);
      assert.ok(
        missing.length > 0,
        `${v.label}: the kernel lacks the type but its config options are all on`,
      );
      absent.push(`${v.label} (needs CONFIG_${missing.join(", CONFIG_")})`);
      continue;
    }
    if (r.status === "unprobeable") {
      assert.ok(
        v.label in EXPECTED_UNPROBEABLE,
        `${v.label} unexpectedly not probeable: ${r.reason}`,
      );
      unprobeable.push(`${v.label}: ${r.reason}`);
      continue;
    }
    assert.equal(r.verdicts.length, HELPER_COUNT + 1);
    if (r.verdicts.every((x) => x === "available")) {
      // ext: its helpers are those of the program it replaces; the probe's load fails alike for
      // every id, so the kernel's answers cannot tell them apart.
      unprobeable.push(`${v.label}: every helper id fails alike, so the probe cannot tell`);
      continue;
    }
    for (let id = 0; id <= HELPER_COUNT; id++) {
      compared++;
      const mine = checkerVerdict(v, id);
      if (mine !== r.verdicts[id]) {
        disagreements.push(
          `${v.label} × ${HELPER_NAMES[id] ?? "unknown"}#${id}: kernel ${
            r.verdicts[id]
          }, checker ${mine}`,
        );
      }
    }
  }
  console.log(
    `compared ${compared} (variant, helper id) pairs over ${
      PROBE_VARIANTS.length - unprobeable.length - absent.length
    } variants; ` +
      `${disagreements.length} disagreements`,
  );
  for (const u of unprobeable) console.log(`  not probeable: ${u}`);
  for (const a of absent) console.log(`  absent from this kernel: ${a}`);
  assert.deepEqual(disagreements, []);
  assert.ok(
    compared >= 32 * (HELPER_COUNT + 1) - 6 * (HELPER_COUNT + 1),
    `compared only ${compared} pairs`,
  );
});

test("the probe's minimal program is what the brief describes", () => {
  const p = callProgram(6);
  assert.equal(p.length, 8);
  assert.deepEqual(p[5], { code: 0x85, dst: 0, src: 0, off: 0, imm: 6 });
  assert.deepEqual(p[7], { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
});
