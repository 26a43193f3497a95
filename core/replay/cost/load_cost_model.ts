/**
 * Cost models by name, and user overrides from JSON with strict validation.
 *
 * Override file format (every key optional except that the file must be a JSON object):
 * ```json
 * {
 *   "base": "viommu-trap",
 *   "name": "my-guest",
 *   "description": "calibrated on host X with dmar_perf_latency",
 *   "submission_ns": 420,
 *   "trap_ns": 6100,
 *   "descriptor_ns": { "p_dev_tlb_inv": 900 },
 *   "default_descriptor_ns": 40
 * }
 * ```
 * `base` (default `bare-metal-vtd`) supplies every value not given; `descriptor_ns` entries are
 * merged into the base's. Unknown keys, unknown descriptor kinds, and values that are not finite
 * non-negative numbers are rejected with a {@linkcode UsageError} naming the key.
 *
 * @module
 */
import { UsageError } from "../../errors.ts";
import { KNOWN_KINDS } from "../kinds.ts";
import { amd } from "./amd.ts";
import { bareMetalVtd } from "./bare_metal_vtd.ts";
import type { CostModel } from "./cost_model.ts";
import { smmuv3 } from "./smmuv3.ts";
import { viommuTrap } from "./viommu_trap.ts";

/** The built-in cost models, by name. */
export const BUILTIN_COST_MODELS: ReadonlyMap<string, CostModel> = new Map(
  [bareMetalVtd, viommuTrap, smmuv3, amd].map((m) => [m.name, m]),
);

/** Name of the default cost model. */
export const DEFAULT_COST_MODEL = "bare-metal-vtd";

const KEYS = new Set([
  "base",
  "name",
  "description",
  "submission_ns",
  "trap_ns",
  "descriptor_ns",
  "default_descriptor_ns",
]);

/**
 * A built-in cost model by name.
 *
 * @param name `bare-metal-vtd`, `viommu-trap`, `smmuv3` or `amd`
 * @returns the model
 * @throws {UsageError} for an unknown name
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { costModel } from "./load_cost_model.ts";
 * assert(costModel("viommu-trap").trap_ns > 0);
 * ```
 */
export function costModel(name: string): CostModel {
  const m = BUILTIN_COST_MODELS.get(name);
  if (!m) {
    throw new UsageError(
      `unknown cost model "${name}" (known: ${[...BUILTIN_COST_MODELS.keys()].join(", ")})`,
    );
  }
  return m;
}

function ns(label: string, key: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new UsageError(
      `${label}: "${key}" must be a finite number >= 0 (ns), got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/**
 * Validates a parsed JSON override and merges it onto its base.
 *
 * @param value the parsed JSON
 * @param label where it came from, for messages (a file name)
 * @returns the cost model
 * @throws {UsageError} naming the offending key
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { costModelFromJson } from "./load_cost_model.ts";
 * const m = costModelFromJson({ base: "smmuv3", trap_ns: 2000 }, "x.json");
 * assert(m.trap_ns === 2000 && m.submission_ns === 500);
 * ```
 */
export function costModelFromJson(value: unknown, label: string): CostModel {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`${label}: a cost model must be a JSON object`);
  }
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KEYS.has(k)) {
      throw new UsageError(`${label}: unknown key "${k}" (allowed: ${[...KEYS].join(", ")})`);
    }
  }
  let base = bareMetalVtd;
  if (o.base !== undefined) {
    if (typeof o.base !== "string") throw new UsageError(`${label}: "base" must be a string`);
    if (!BUILTIN_COST_MODELS.has(o.base)) {
      throw new UsageError(
        `${label}: "base" names no cost model: "${o.base}" (known: ${
          [...BUILTIN_COST_MODELS.keys()].join(", ")
        })`,
      );
    }
    base = BUILTIN_COST_MODELS.get(o.base)!;
  }
  for (const k of ["name", "description"] as const) {
    if (o[k] !== undefined && (typeof o[k] !== "string" || o[k] === "")) {
      throw new UsageError(`${label}: "${k}" must be a non-empty string`);
    }
  }
  const descriptor: Record<string, number> = { ...base.descriptor_ns };
  if (o.descriptor_ns !== undefined) {
    const d = o.descriptor_ns;
    if (typeof d !== "object" || d === null || Array.isArray(d)) {
      throw new UsageError(`${label}: "descriptor_ns" must be an object of kind -> ns`);
    }
    for (const [k, v] of Object.entries(d)) {
      if (!Object.hasOwn(KNOWN_KINDS, k)) {
        throw new UsageError(`${label}: unknown descriptor kind "descriptor_ns.${k}"`);
      }
      descriptor[k] = ns(label, `descriptor_ns.${k}`, v);
    }
  }
  return Object.freeze({
    name: (o.name as string | undefined) ?? `${base.name}+${label}`,
    description: (o.description as string | undefined) ??
      `${base.description} (overridden by ${label})`,
    submission_ns: o.submission_ns === undefined
      ? base.submission_ns
      : ns(label, "submission_ns", o.submission_ns),
    trap_ns: o.trap_ns === undefined ? base.trap_ns : ns(label, "trap_ns", o.trap_ns),
    descriptor_ns: Object.freeze(descriptor),
    default_descriptor_ns: o.default_descriptor_ns === undefined
      ? base.default_descriptor_ns
      : ns(label, "default_descriptor_ns", o.default_descriptor_ns),
  });
}

/**
 * Parses a JSON override text.
 *
 * @param text the file's text
 * @param label the file name, for messages
 * @returns the cost model
 * @throws {UsageError} on bad JSON or a bad key/value
 */
export function parseCostModel(text: string, label: string): CostModel {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${label}: not valid JSON: ${(e as Error).message}`);
  }
  return costModelFromJson(v, label);
}

/**
 * A cost model from a built-in name or a JSON file path.
 *
 * @param spec a built-in name, or a path to a JSON override
 * @returns the cost model
 * @throws {UsageError} on an unknown name, an unreadable file, or bad content
 */
export async function loadCostModel(spec: string): Promise<CostModel> {
  if (BUILTIN_COST_MODELS.has(spec)) return BUILTIN_COST_MODELS.get(spec)!;
  let text: string;
  try {
    text = await Deno.readTextFile(spec);
  } catch (e) {
    throw new UsageError(
      `cost model "${spec}" is neither a built-in (${
        [...BUILTIN_COST_MODELS.keys()].join(", ")
      }) nor a readable file: ${(e as Error).message}`,
    );
  }
  return parseCostModel(text, spec);
}
