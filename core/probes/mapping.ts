/**
 * Probe mappings: a declarative JSON file that says how dynamic probe events (kprobe, kretprobe,
 * fprobe, uprobe) map onto the canonical events the normalizer understands, and how to define
 * those probes in tracefs.
 *
 * ## File format (`"format": "iommu-replay-probes/1"`)
 *
 * ```json
 * {
 *   "format": "iommu-replay-probes/1",
 *   "name": "intel-vtd",
 *   "description": "what these probes are for",
 *   "probes": [
 *     {
 *       "kind": "qi_submit_sync",
 *       "type": "fprobe",
 *       "function": "qi_submit_sync",
 *       "system": "iommu_replay",
 *       "event": "qi_submit_sync",
 *       "fetch": "iommu=iommu->name:string count=count:u32 options=options:x64",
 *       "fields": { "iommu": "iommu", "count": "count", "options": "options" },
 *       "where": { "type": 16 },
 *       "prefix": { "iommu": "ivhd" },
 *       "kernels": ">= 6.7 with CONFIG_PROBE_EVENTS_BTF_ARGS",
 *       "doc": "one line"
 *     }
 *   ]
 * }
 * ```
 *
 * Keys of a probe (all others are rejected):
 * - `kind` (required): the canonical event, one of {@linkcode PROBE_KINDS}.
 * - `type` (required): `kprobe` (`p:`), `kretprobe` (`r:`), `fprobe` (`f:`), `fexit`
 *   (`f:` on `function%return`) or `uprobe` (`p:` on `PATH:OFFSET`).
 * - `function` (required): the kernel symbol (or `PATH:OFFSET` for a uprobe). Capture defines
 *   the probe only when the symbol is in `/proc/kallsyms`.
 * - `system`, `event` (required): the group and event name; the trace carries the events as
 *   `system:event`. Identifiers `[A-Za-z_][A-Za-z0-9_]*`.
 * - `fetch` (required): the fetch arguments, tracefs syntax, space separated, each `name=ARG[:TYPE]`.
 * - `fields` (required): canonical role -> event field name. Every name must be defined in `fetch`.
 *   Required and optional roles per kind are in {@linkcode PROBE_ROLES}.
 * - `where` (optional): field -> value; the event is used only when every field equals its value
 *   (numbers compare numerically, strings exactly).
 * - `prefix` (optional): role -> text put before the value (numbers then print in decimal, e.g.
 *   `ivhd` + AMD iommu index 0 = `ivhd0`; without a prefix numbers print as `0x` hex pointers).
 * - `kernels`, `doc` (optional): free text.
 *
 * Validation errors are {@linkcode UsageError}s whose message names the file, the JSON path and
 * the problem, e.g. `intel.json: $.probes[0].fields.mm: field "mm" is not defined in fetch`.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/** The format tag every mapping file carries. */
export const PROBE_FORMAT = "iommu-replay-probes/1";

/** Canonical events a probe can map to. */
export const PROBE_KINDS = [
  "sva_bind",
  "sva_unbind",
  "set_dev_pasid",
  "remove_dev_pasid",
  "mm_invalidate",
  "qi_submit_sync",
  "smmu_cmdq",
  "amd_cmd",
] as const;

/** A canonical probe event kind. */
export type ProbeKind = typeof PROBE_KINDS[number];

/** Probe types and the tracefs line prefix each one uses. */
export const PROBE_TYPES = ["kprobe", "kretprobe", "fprobe", "fexit", "uprobe"] as const;

/** A probe type. */
export type ProbeType = typeof PROBE_TYPES[number];

/**
 * Roles per kind: what the normalizer reads from the event.
 *
 * - `device`: device name (string) or pointer; `mm`: mm pointer; `pasid`: PASID;
 *   `domain`: IOMMU domain pointer (an event that has both `domain` and `mm` teaches which mm a
 *   domain translates, so later events with only `domain` find the mm);
 *   `domain_id`: domain id (number); `iommu`: IOMMU unit name or index/pointer;
 * - `start`/`end`: byte range, end exclusive, `(0, ULONG_MAX)` = everything;
 * - `count`/`options`: `qi_submit_sync` arguments; `cmds`/`n`/`sync`: SMMUv3 command list
 *   (u64 array, 2 words per command) and its length; `cmd`: AMD command (four u32 or two u64).
 */
export const PROBE_ROLES: Readonly<
  Record<ProbeKind, { readonly required: readonly string[]; readonly optional: readonly string[] }>
> = Object.freeze({
  sva_bind: { required: ["device", "pasid"], optional: ["mm", "domain", "domain_id", "iommu"] },
  sva_unbind: { required: ["device"], optional: ["pasid", "mm"] },
  set_dev_pasid: {
    required: ["device", "pasid"],
    optional: ["mm", "domain", "domain_id", "iommu"],
  },
  remove_dev_pasid: { required: ["device", "pasid"], optional: ["domain"] },
  mm_invalidate: { required: ["mm", "start", "end"], optional: [] },
  qi_submit_sync: { required: ["count"], optional: ["iommu", "options"] },
  smmu_cmdq: { required: ["cmds", "n"], optional: ["iommu", "sync"] },
  amd_cmd: { required: ["cmd"], optional: ["iommu", "sync"] },
});

/** One probe of a mapping. */
export interface ProbeSpec {
  /** Canonical event. */
  kind: ProbeKind;
  /** Probe type. */
  type: ProbeType;
  /** Kernel symbol (or PATH:OFFSET for a uprobe). */
  function: string;
  /** Probe group. */
  system: string;
  /** Probe event name. */
  event: string;
  /** Fetch arguments, tracefs syntax. */
  fetch: string;
  /** Role -> event field name. */
  fields: Readonly<Record<string, string>>;
  /** Field equality filter. */
  where?: Readonly<Record<string, number | string>>;
  /** Text put before role values. */
  prefix?: Readonly<Record<string, string>>;
  /** Kernel versions it applies to. */
  kernels?: string;
  /** One-line description. */
  doc?: string;
}

/** A validated mapping file. */
export interface ProbeMapping {
  /** Format tag. */
  format: typeof PROBE_FORMAT;
  /** Mapping name. */
  name: string;
  /** What the probes are for. */
  description?: string;
  /** The probes. */
  probes: readonly ProbeSpec[];
  /** The file it was read from (for messages). */
  file: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SYMBOL = /^[A-Za-z_.][A-Za-z0-9_.]*$/;
const UPROBE_PLACE = /^\/\S+:(0x[0-9a-fA-F]+|[0-9]+)$/;

function fail(file: string, path: string, problem: string): never {
  throw new UsageError(`${file}: ${path}: ${problem}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkKeys(
  file: string,
  path: string,
  o: Record<string, unknown>,
  allowed: readonly string[],
  required: readonly string[],
): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      fail(file, `${path}.${k}`, `unknown key (allowed: ${allowed.join(", ")})`);
    }
  }
  for (const k of required) if (!(k in o)) fail(file, `${path}.${k}`, "missing required key");
}

function str(file: string, path: string, v: unknown, re?: RegExp, what?: string): string {
  if (typeof v !== "string" || v.length === 0) fail(file, path, "must be a non-empty string");
  if (re && !re.test(v)) {
    fail(file, path, `${JSON.stringify(v)} is not ${what ?? `matching ${re}`}`);
  }
  return v;
}

/**
 * Splits a fetch-argument text into `name -> argument` pairs.
 *
 * @param fetch `name=ARG[:TYPE] ...`
 * @returns the names in order with their argument text, or an error text
 * @example
 * ```ts
 * import { parseFetchArgs } from "./mapping.ts";
 * const r = parseFetchArgs("mm=$arg1:x64 start=$arg2:x64");
 * console.assert(!("error" in r) && r.names.join() === "mm,start");
 * ```
 */
export function parseFetchArgs(
  fetch: string,
): { names: string[]; args: string[] } | { error: string } {
  const names: string[] = [];
  const args: string[] = [];
  const tokens = fetch.trim().split(/\s+/).filter((t) => t.length > 0);
  if (tokens.length === 0) return { error: "no fetch arguments" };
  for (const t of tokens) {
    const eq = t.indexOf("=");
    if (eq <= 0 || eq === t.length - 1) return { error: `${JSON.stringify(t)} is not name=ARG` };
    const name = t.slice(0, eq);
    if (!IDENT.test(name)) return { error: `${JSON.stringify(name)} is not a valid field name` };
    // `__proto__` would be silently dropped from the `where` object (it sets the prototype).
    if (
      name.startsWith("common_") || name === "__probe_ip" || name === "__probe_func" ||
      name === "__proto__"
    ) {
      return { error: `${JSON.stringify(name)} is reserved` };
    }
    if (names.includes(name)) return { error: `field ${JSON.stringify(name)} defined twice` };
    names.push(name);
    args.push(t.slice(eq + 1));
  }
  return { names, args };
}

function validateProbe(file: string, path: string, v: unknown): ProbeSpec {
  if (!isObj(v)) fail(file, path, "must be an object");
  checkKeys(
    file,
    path,
    v,
    [
      "kind",
      "type",
      "function",
      "system",
      "event",
      "fetch",
      "fields",
      "where",
      "prefix",
      "kernels",
      "doc",
    ],
    ["kind", "type", "function", "system", "event", "fetch", "fields"],
  );
  const kind = v.kind;
  if (typeof kind !== "string" || !(PROBE_KINDS as readonly string[]).includes(kind)) {
    fail(file, `${path}.kind`, `must be one of ${PROBE_KINDS.join(", ")}`);
  }
  const type = v.type;
  if (typeof type !== "string" || !(PROBE_TYPES as readonly string[]).includes(type)) {
    fail(file, `${path}.type`, `must be one of ${PROBE_TYPES.join(", ")}`);
  }
  const fn = type === "uprobe"
    ? str(file, `${path}.function`, v.function, UPROBE_PLACE, "an absolute PATH:OFFSET")
    : str(file, `${path}.function`, v.function, SYMBOL, "a kernel symbol name");
  const system = str(file, `${path}.system`, v.system, IDENT, "an identifier");
  const event = str(file, `${path}.event`, v.event, IDENT, "an identifier");
  const fetch = str(file, `${path}.fetch`, v.fetch);
  const parsed = parseFetchArgs(fetch);
  if ("error" in parsed) fail(file, `${path}.fetch`, parsed.error);
  const roles = PROBE_ROLES[kind as ProbeKind];
  if (!isObj(v.fields)) fail(file, `${path}.fields`, "must be an object of role -> field name");
  const fields: Record<string, string> = {};
  for (const [role, f] of Object.entries(v.fields)) {
    const rp = `${path}.fields.${role}`;
    if (!roles.required.includes(role) && !roles.optional.includes(role)) {
      fail(
        file,
        rp,
        `role not used by kind ${kind} (roles: ${
          [...roles.required, ...roles.optional].join(", ")
        })`,
      );
    }
    const name = str(file, rp, f, IDENT, "an identifier");
    if (!parsed.names.includes(name)) fail(file, rp, `field "${name}" is not defined in fetch`);
    fields[role] = name;
  }
  for (const role of roles.required) {
    if (!(role in fields)) {
      fail(file, `${path}.fields.${role}`, `missing required role for kind ${kind}`);
    }
  }
  const spec: ProbeSpec = {
    kind: kind as ProbeKind,
    type: type as ProbeType,
    function: fn,
    system,
    event,
    fetch,
    fields,
  };
  if (v.where !== undefined) {
    if (!isObj(v.where)) fail(file, `${path}.where`, "must be an object of field -> value");
    const where: Record<string, number | string> = {};
    for (const [f, val] of Object.entries(v.where)) {
      const wp = `${path}.where.${f}`;
      if (!parsed.names.includes(f)) fail(file, wp, `field "${f}" is not defined in fetch`);
      if (typeof val === "number") {
        if (!Number.isSafeInteger(val)) fail(file, wp, "must be an integer or a string");
      } else if (typeof val !== "string") fail(file, wp, "must be an integer or a string");
      where[f] = val;
    }
    spec.where = where;
  }
  if (v.prefix !== undefined) {
    if (!isObj(v.prefix)) fail(file, `${path}.prefix`, "must be an object of role -> text");
    const prefix: Record<string, string> = {};
    for (const [role, p] of Object.entries(v.prefix)) {
      const pp = `${path}.prefix.${role}`;
      if (!(role in fields)) fail(file, pp, `role "${role}" is not mapped in fields`);
      prefix[role] = str(file, pp, p);
    }
    spec.prefix = prefix;
  }
  if (v.kernels !== undefined) spec.kernels = str(file, `${path}.kernels`, v.kernels);
  if (v.doc !== undefined) spec.doc = str(file, `${path}.doc`, v.doc);
  return spec;
}

/**
 * Validates a parsed mapping document.
 *
 * @param doc the parsed JSON value
 * @param file file name for messages
 * @returns the validated mapping
 * @throws {UsageError} naming the file, the JSON path and the problem
 * @example
 * ```ts
 * import { validateProbeMapping } from "./mapping.ts";
 * try {
 *   validateProbeMapping({ format: "iommu-replay-probes/1", name: "x", probes: [], extra: 1 }, "x.json");
 * } catch (e) {
 *   console.assert((e as Error).message === "x.json: $.extra: unknown key (allowed: format, name, description, probes)");
 * }
 * ```
 */
export function validateProbeMapping(doc: unknown, file: string): ProbeMapping {
  if (!isObj(doc)) fail(file, "$", "must be a JSON object");
  checkKeys(file, "$", doc, ["format", "name", "description", "probes"], [
    "format",
    "name",
    "probes",
  ]);
  if (doc.format !== PROBE_FORMAT) fail(file, "$.format", `must be "${PROBE_FORMAT}"`);
  const name = str(file, "$.name", doc.name);
  if (!Array.isArray(doc.probes)) fail(file, "$.probes", "must be an array");
  const probes = doc.probes.map((p, i) => validateProbe(file, `$.probes[${i}]`, p));
  const seen = new Map<string, number>();
  probes.forEach((p, i) => {
    const k = `${p.system}:${p.event}`;
    const j = seen.get(k);
    if (j !== undefined) {
      fail(file, `$.probes[${i}].event`, `${k} is also defined by $.probes[${j}]`);
    }
    seen.set(k, i);
  });
  const m: ProbeMapping = { format: PROBE_FORMAT, name, probes, file };
  if (doc.description !== undefined) m.description = str(file, "$.description", doc.description);
  return m;
}

/**
 * Parses and validates mapping JSON text.
 *
 * @param text the file content
 * @param file file name for messages
 * @returns the validated mapping
 * @throws {UsageError} on bad JSON or an invalid mapping
 */
export function parseProbeMapping(text: string, file: string): ProbeMapping {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    fail(file, "$", `not valid JSON (${(e as Error).message})`);
  }
  return validateProbeMapping(doc, file);
}

/**
 * Reads, parses and validates a mapping file.
 *
 * @param path file path
 * @returns the validated mapping
 * @throws {UsageError} when unreadable or invalid
 */
export async function loadProbeMapping(path: string): Promise<ProbeMapping> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new UsageError(`${path}: cannot read probe mapping (${(e as Error).message})`);
  }
  return parseProbeMapping(text, path);
}

/** A tracefs probe definition line and the file it is written to. */
export interface ProbeDefinition {
  /** `kprobe_events`, `dynamic_events` (fprobes) or `uprobe_events`. */
  target: "kprobe_events" | "dynamic_events" | "uprobe_events";
  /** The line to append, e.g. `f:iommu_replay/qi_submit_sync qi_submit_sync count=count:u32`. */
  line: string;
}

/**
 * The tracefs definition of a probe.
 *
 * @param p the probe
 * @returns the line and the tracefs file it goes to
 * @example
 * ```ts
 * import { probeDefinition } from "./mapping.ts";
 * const d = probeDefinition({ kind: "mm_invalidate", type: "kprobe", function: "f", system: "g",
 *   event: "e", fetch: "mm=$arg1:x64", fields: {} });
 * console.assert(d.line === "p:g/e f mm=$arg1:x64" && d.target === "kprobe_events");
 * ```
 */
export function probeDefinition(p: ProbeSpec): ProbeDefinition {
  const ev = `${p.system}/${p.event}`;
  switch (p.type) {
    case "kprobe":
      return { target: "kprobe_events", line: `p:${ev} ${p.function} ${p.fetch}` };
    case "kretprobe":
      return { target: "kprobe_events", line: `r:${ev} ${p.function} ${p.fetch}` };
    case "fprobe":
      return { target: "dynamic_events", line: `f:${ev} ${p.function} ${p.fetch}` };
    case "fexit":
      return { target: "dynamic_events", line: `f:${ev} ${p.function}%return ${p.fetch}` };
    case "uprobe":
      return { target: "uprobe_events", line: `p:${ev} ${p.function} ${p.fetch}` };
  }
}
