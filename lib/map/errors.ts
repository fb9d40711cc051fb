/**
 * Errors of map handles: an operation the map type does not have, and use after close.
 *
 * @module
 */
import { ClosedError } from "../errors.ts";
import type { MapOp, Refusal } from "./map_types.ts";

/**
 * The map type has no such user-space operation (e.g. `delete` on an array, `nextKey` on a
 * queue). Thrown before any system call, from the map type table; `errnoName` is what the kernel
 * would have answered.
 *
 * @example
 * ```ts
 * import { BpfMap, MapOpNotSupportedError, u32 } from "@tsbpf/core";
 * using array = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 1 });
 * try {
 *   array.delete(0); // array elements cannot be deleted
 * } catch (e) {
 *   if (e instanceof MapOpNotSupportedError) console.log(e.message);
 * }
 * ```
 */
export class MapOpNotSupportedError extends TypeError {
  /** The refused operation, as the user called it (`"delete"`, `"pop"`, …). */
  readonly operation: string;
  /** The kernel operation behind it. */
  readonly op: MapOp;
  /** Map type name. */
  readonly mapType: string;
  /** What the kernel answers for it (`EINVAL`, `ENOTSUPP`, `EOPNOTSUPP`). */
  readonly errnoName: string;

  /** Creates the error from the table's refusal. */
  constructor(operation: string, op: MapOp, mapType: string, refusal: Refusal, mapName = "") {
    super(
      `${operation}() is not supported by ${mapType} maps${
        mapName ? ` (map "${mapName}")` : ""
      }: ` +
        `${refusal.why} (the kernel answers ${refusal.errno})`,
    );
    this.name = "MapOpNotSupportedError";
    this.operation = operation;
    this.op = op;
    this.mapType = mapType;
    this.errnoName = refusal.errno;
  }
}

/**
 * An operation on a map handle after `close()`.
 *
 * @example
 * ```ts
 * import { BpfMap, MapClosedError, u32 } from "@tsbpf/core";
 * const map = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 1 });
 * map.close();
 * try {
 *   map.get(0);
 * } catch (e) {
 *   e instanceof MapClosedError; // true
 * }
 * ```
 */
export class MapClosedError extends ClosedError {
  /** Creates the error for the named operation. */
  constructor(operation: string, mapLabel: string) {
    super("map", operation, `${operation}() on ${mapLabel}, which is closed`);
    this.name = "MapClosedError";
  }
}
