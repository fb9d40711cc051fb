/**
 * Auto-attach of a loaded object (`LoadedObject.attach()`), as libbpf skeletons do: each program
 * whose section names where it goes is attached, each struct_ops map registered; the links close
 * together.
 *
 * @module
 */
import { LINK_CREATE_ATTR } from "../../types/attr.ts";
import { AttachType } from "../../types/attach_type.ts";
import { Attr } from "../attr.ts";
import type { Btf } from "../btf/btf.ts";
import { createLink } from "../link/create.ts";
import { attachIter } from "../link/iter.ts";
import { attachKprobe, attachKprobeMulti } from "../link/kprobe.ts";
import type { Link } from "../link/link.ts";
import { attachBtfTracepoint, attachRawTracepoint } from "../link/raw_tracepoint.ts";
import { attachTracepoint } from "../link/tracepoint.ts";
import { attachTracing } from "../link/tracing.ts";
import { attachUprobe } from "../link/uprobe.ts";
import { attachUsdt, UsdtAttachment } from "../link/usdt.ts";
import type { BpfMap } from "../map/map.ts";
import type { Program } from "../program/program.ts";
import { ObjectError } from "../elf/error.ts";
import type { ObjectSpec, ProgramSpec } from "../elf/spec.ts";
import { structOpsValue } from "../elf/struct_ops.ts";
import { kallsymsAddress } from "./host.ts";

/**
 * The links of `LoadedObject.attach()`, by program name (struct_ops maps by map name).
 * `close()` closes them all (struct_ops maps registered without a link are unregistered by
 * closing the object).
 *
 * @example
 * ```ts
 * import { loadObject } from "@tsbpf/core/elf";
 * using obj = loadObject("runqslower.bpf.o");
 * using links = obj.attach();
 * console.log(Object.keys(links.links));
 * ```
 */
export interface ObjectLinks {
  /** Links by program name (and struct_ops map name). */
  readonly links: Readonly<Record<string, Link>>;
  /** USDT programs (`SEC("usdt/<path>:<provider>:<name>")`), attached to every site. */
  readonly usdt: Readonly<Record<string, UsdtAttachment>>;
  /** Programs left alone because their section names no target, with why. */
  readonly skipped: Readonly<Record<string, string>>;
  /** Closes every link. */
  close(): void;
  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void;
}

/**
 * The kernel function a `ksyscall/<name>` program probes, as libbpf picks it: the arch's syscall
 * wrapper (`__x64_sys_<name>`) when the kernel has wrappers (its `__<arch>_sys_bpf` exists),
 * `__se_sys_<name>` otherwise.
 */
function syscallFunction(name: string, kernel: () => Btf): string {
  for (const prefix of ["__x64_sys_", "__arm64_sys_", "__s390x_sys_", "__riscv_sys_"]) {
    const probe = prefix + "bpf";
    if (kernel().find("func", probe) !== undefined || kallsymsAddress(probe) !== undefined) {
      return prefix + name;
    }
  }
  return "__se_sys_" + name;
}

/** Attaches one program by its section, or says why it has no automatic attachment. */
function attachOne(
  p: ProgramSpec,
  prog: Program,
  kernel: () => Btf,
  maps: Readonly<Record<string, BpfMap>>,
): Link | UsdtAttachment | string {
  const section = p.section.replace(/^\?/, "");
  const slash = section.indexOf("/");
  const prefix = slash < 0 ? section : section.slice(0, slash);
  const target = p.attachTarget ?? "";
  switch (prefix) {
    case "tracepoint":
    case "tp": {
      const i = target.indexOf("/");
      if (i <= 0) return `section "${p.section}" names no category/name`;
      return attachTracepoint(prog, target.slice(0, i), target.slice(i + 1));
    }
    case "raw_tracepoint":
    case "raw_tp":
    case "raw_tracepoint.w":
    case "raw_tp.w":
      if (target === "") return `section "${p.section}" names no tracepoint`;
      return attachRawTracepoint(prog, target);
    case "tp_btf":
      return attachBtfTracepoint(prog);
    case "iter":
    case "iter.s":
      return attachIter(prog);
    case "uprobe":
    case "uretprobe":
    case "uprobe.s":
    case "uretprobe.s": {
      // libbpf's form: uprobe/<path>:<function>[+<offset>]
      const m = /^(.+):([^:+]+)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(target);
      if (m === null) return `section "${p.section}" names no <path>:<function>`;
      return attachUprobe(prog, {
        path: m[1],
        symbol: m[2],
        ...(m[3] !== undefined ? { offset: Number(m[3]) } : {}),
        retprobe: prefix.startsWith("uretprobe"),
      });
    }
    case "kprobe":
    case "kretprobe": {
      // libbpf's form: kprobe/<function>[+<offset>]
      const m = /^([A-Za-z_][A-Za-z0-9_.]*)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(target);
      if (m === null) return `section "${p.section}" names no kernel function`;
      return attachKprobe(prog, m[1], {
        retprobe: prefix === "kretprobe",
        ...(m[2] !== undefined ? { offset: Number(m[2]) } : {}),
      });
    }
    case "ksyscall":
    case "kretsyscall":
      if (!/^[A-Za-z0-9_]+$/.test(target)) return `section "${p.section}" names no system call`;
      return attachKprobe(prog, syscallFunction(target, kernel), {
        retprobe: prefix === "kretsyscall",
      });
    case "kprobe.multi":
    case "kretprobe.multi":
      if (target === "") return `section "${p.section}" names no function pattern`;
      return attachKprobeMulti(prog, {
        pattern: target,
        retprobe: prefix === "kretprobe.multi",
      });
    case "fentry":
    case "fentry.s":
    case "fexit":
    case "fexit.s":
    case "fmod_ret":
    case "fmod_ret.s":
      return attachTracing(prog, { kind: prefix.replace(/\.s$/, "") as "fentry" });
    case "lsm":
    case "lsm.s":
      return attachTracing(prog, { kind: "lsm" });
    case "freplace":
      // Attached to the function given at load (ProgramSpec.attachProgram and attachTarget).
      if (p.attachProgram === undefined) return "an freplace program with no attachProgram";
      return attachTracing(prog, { kind: "freplace" });
    case "usdt":
    case "usdt.s": {
      // libbpf's form: usdt/<path>:<provider>:<name>
      const m = /^(.+):([^:]+):([^:]+)$/.exec(target);
      if (m === null) return `section "${p.section}" names no <path>:<provider>:<name>`;
      const specs = maps.__bpf_usdt_specs;
      if (specs === undefined) return "the object has no __bpf_usdt_specs map (usdt.bpf.h)";
      return attachUsdt(prog, {
        path: m[1],
        provider: m[2],
        name: m[3],
        specs,
        ipToSpecId: maps.__bpf_usdt_ip_to_spec_id,
      });
    }
    default:
      return `section "${p.section}" (${p.typeName}) has no automatic attachment`;
  }
}

/**
 * Attaches every loaded program whose section names its target and registers every struct_ops
 * map. On failure the links made so far are closed and the error names the program.
 *
 * @example
 * ```ts
 * import { attachObject } from "./attach.ts";
 * import { kernelBtf, loadObject } from "@tsbpf/core/elf";
 * using obj = loadObject("minimal.bpf.o");
 * using links = attachObject(obj.spec, obj.maps, obj.programs, kernelBtf);
 * ```
 */
export function attachObject(
  spec: ObjectSpec,
  maps: Readonly<Record<string, BpfMap>>,
  programs: Readonly<Record<string, Program>>,
  kernel: () => Btf,
): ObjectLinks {
  const links: Record<string, Link> = {};
  const usdt: Record<string, UsdtAttachment> = {};
  const skipped: Record<string, string> = {};
  const close = (): void => {
    for (const l of Object.values(links)) l.close();
    for (const u of Object.values(usdt)) u.close();
  };
  try {
    for (const p of spec.programs) {
      const prog = programs[p.name];
      if (prog === undefined || p.typeName === "struct_ops") continue;
      let r: Link | UsdtAttachment | string;
      try {
        r = attachOne(p, prog, kernel, maps);
      } catch (e) {
        throw new ObjectError(
          `program ${p.name} (section "${p.section}"): cannot attach: ${(e as Error).message}`,
          { cause: e },
        );
      }
      if (typeof r === "string") skipped[p.name] = r;
      else if (r instanceof UsdtAttachment) usdt[p.name] = r;
      else links[p.name] = r;
    }
    for (const m of spec.maps) {
      if (m.structOps === undefined || maps[m.name] === undefined) continue;
      const map = maps[m.name];
      const value = structOpsValue(m, spec.types!, kernel(), (name) => {
        const prog = programs[name];
        if (prog === undefined) {
          throw new ObjectError(`struct_ops map ${m.name}: program ${name} is not loaded`);
        }
        return prog.fd;
      });
      try {
        map.set(new Uint8Array(4), value);
      } catch (e) {
        throw new ObjectError(
          `struct_ops map ${m.name} (section "${m.section}"): registering it failed: ${
            (e as Error).message
          }`,
          { cause: e },
        );
      }
      if (m.structOps.link) {
        const attr = new Attr(LINK_CREATE_ATTR);
        attr.set("map_fd", map.fd).set("attach_type", AttachType.STRUCT_OPS);
        links[m.name] = createLink(`struct_ops map ${m.name}`, attr);
      }
    }
  } catch (e) {
    close();
    throw e;
  }
  return { links, usdt, skipped, close, [Symbol.dispose]: close };
}
