/**
 * The kernel's `license_is_gpl_compatible()` (include/linux/license.h).
 *
 * @module
 */

/**
 * The licenses `license_is_gpl_compatible()` accepts, compared with `strcmp()`.
 *
 * @example
 * ```ts
 * import { GPL_COMPATIBLE_LICENSES } from "@tsbpf/core/check";
 * GPL_COMPATIBLE_LICENSES.includes("Dual MIT/GPL"); // true
 * ```
 */
export const GPL_COMPATIBLE_LICENSES: readonly string[] = Object.freeze([
  "GPL",
  "GPL v2",
  "GPL and additional rights",
  "Dual BSD/GPL",
  "Dual MIT/GPL",
  "Dual MPL/GPL",
]);

const SET = new Set(GPL_COMPATIBLE_LICENSES);

/**
 * Whether the kernel treats `license` as GPL-compatible, exactly as `license_is_gpl_compatible()`:
 * an exact, case-sensitive match against six strings. Like the kernel's copy, the string ends at
 * its first NUL (the kernel's cut to 127 bytes cannot turn a longer string into one of the six).
 *
 * @example
 * ```ts
 * import { isGplCompatible } from "@tsbpf/core/check";
 * isGplCompatible("GPL"); // true
 * isGplCompatible("Dual BSD/GPL"); // true
 * isGplCompatible("gpl"); // false
 * isGplCompatible("GPL "); // false
 * ```
 */
export function isGplCompatible(license: string): boolean {
  if (typeof license !== "string") return false;
  const nul = license.indexOf("\0");
  return SET.has(nul >= 0 ? license.slice(0, nul) : license);
}
