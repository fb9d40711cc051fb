/**
 * Load attributes the kernel checks before the verifier runs. Internal to `lib/check/`.
 *
 * @module
 */
import { ProgType } from "../../types/prog_type.ts";
import { attachTypeName } from "../../types/attach_type.ts";
import type { ProgTypeDef } from "../progtype/types.ts";
import type { Report } from "./columns.ts";
import type { CheckOptions } from "./types.ts";

/** Load attributes the kernel checks before the verifier (`bpf_prog_load_check_attach()` and co). */
export function checkLoadAttrs(
  def: ProgTypeDef,
  options: CheckOptions,
  sleepable: boolean,
  err: Report,
): void {
  const eat = options.expectedAttachType ?? 0;
  if (def.attachTypeEnforced) {
    // An empty list means only 0 (syscall, ext); a default means 0 is replaced by it.
    const ok = (eat === 0 &&
      (def.defaultAttachType !== undefined || def.expectedAttachTypes.length === 0)) ||
      def.expectedAttachTypes.some((a) => a.type === eat);
    if (!ok) {
      const label = (t: number): string => `${t} (${attachTypeName(t) ?? "unknown"})`;
      const accepted = def.expectedAttachTypes.length
        ? `it accepts ${def.expectedAttachTypes.map((a) => label(a.type)).join(", ")}`
        : "it accepts only 0";
      err(
        -1,
        "attach-type",
        `expected_attach_type ${
          label(eat)
        } is not valid for ${def.name} programs; ${accepted} (the kernel refuses it with EINVAL)`,
      );
    }
  }
  if (def.type === ProgType.SYSCALL && !sleepable) {
    err(-1, "not-sleepable", "Syscall programs can only be sleepable");
  }
}
