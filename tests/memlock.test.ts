// RLIMIT_MEMLOCK on kernels that charge BPF memory to it (before 5.11's memcg accounting): raised
// to unlimited before the first map, program or BTF object; left alone everywhere else.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BpfMap } from "../lib/map/mod.ts";
import { memlockChargedKernel } from "../lib/sys/memlock.ts";
import { liveProfile } from "../lib/profile/mod.ts";
import { HelperId } from "../types/helpers.ts";
import { kernelSkip } from "./util.ts";

/** The soft "Max locked memory" of this process, as /proc/self/limits shows it. */
function memlockLimit(): string {
  const line = readFileSync("/proc/self/limits", "utf8").split("\n")
    .find((l) => l.startsWith("Max locked memory"));
  assert.ok(line !== undefined, "no Max locked memory line in /proc/self/limits");
  return line.slice("Max locked memory".length).trim().split(/\s+/)[0];
}

test("RLIMIT_MEMLOCK: raised before the first map only where the kernel charges BPF memory to it", {
  skip: kernelSkip,
}, () => {
  const before = memlockLimit();
  BpfMap.create({ type: "array", keySize: 4, valueSize: 4, maxEntries: 1 }).close();
  const charged = memlockChargedKernel();
  assert.notEqual(charged, undefined, "a privileged process can ask the kernel");
  // The same question through the profile: bpf_ktime_get_coarse_ns came with memcg accounting.
  const coarse = liveProfile().helperKnown(HelperId.ktime_get_coarse_ns);
  if (coarse.state !== "unknown") assert.equal(charged, coarse.state === "no", coarse.state);
  if (charged) assert.equal(memlockLimit(), "unlimited", `was ${before}`);
  else assert.equal(memlockLimit(), before, "left alone on a kernel with memcg accounting");
});
