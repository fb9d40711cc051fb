// The type generator on an enum it has not seen: holes and aliases are named, not fatal (a 7.3
// kernel's bpf_cmd made it throw "no name for value 39" instead of reporting a difference).
import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalNames } from "../scripts/gen_types.ts";

test("enum names: a hole becomes UNUSED_<n>, aliases keep the first non-deprecated name", () => {
  assert.deepEqual(
    canonicalNames([
      { key: "A", value: 0 },
      { key: "B_DEPRECATED", value: 1 },
      { key: "B", value: 1 },
      { key: "D", value: 3 },
      { key: "D_ALIAS", value: 3 },
    ], "e"),
    ["A", "B", "UNUSED_2", "D"],
  );
  assert.deepEqual(canonicalNames([], "e"), []);
});
