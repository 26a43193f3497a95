/**
 * The built-in policies by name, policy specs (`name` or `name@kernel`), and the policy that models
 * a given traced kernel.
 *
 * @module
 */
import type { IommuVendor } from "../canonical.ts";
import { UsageError } from "../errors.ts";
import { atLeast, parseKernelVersion } from "./kernel_version.ts";
import { amdPerDevice } from "./policies/amd_per_device.ts";
import { dmaLazy } from "./policies/dma_lazy.ts";
import { dmaStrict } from "./policies/dma_strict.ts";
import { ideal } from "./policies/ideal.ts";
import { intelBatched } from "./policies/intel_batched.ts";
import { intelCacheTag } from "./policies/intel_cache_tag.ts";
import { intelCacheTag6100 } from "./policies/intel_cache_tag_6_10_0.ts";
import { intelPerDevice } from "./policies/intel_per_device.ts";
import { smmuv3Btm } from "./policies/smmuv3_btm.ts";
import { smmuv3NoBtm } from "./policies/smmuv3_no_btm.ts";
import type { PolicyFactory, PolicyOptions, ReplayPolicy } from "./policy.ts";

/** The built-in policy factories, in their default order. */
export const BUILTIN_POLICIES: readonly PolicyFactory[] = Object.freeze([
  intelPerDevice,
  intelCacheTag,
  intelCacheTag6100,
  intelBatched,
  smmuv3Btm,
  smmuv3NoBtm,
  amdPerDevice,
  dmaStrict,
  dmaLazy,
  ideal,
]);

/** Names of the built-in policies. */
export const BUILTIN_POLICY_NAMES: readonly string[] = Object.freeze(
  BUILTIN_POLICIES.map((p) => p.name),
);

/** A policy ready to run, with the label its results are shown under. */
export interface ResolvedPolicy {
  /** The spec as given (`intel-per-device@5.10`) or the policy's name. */
  label: string;
  /** The instance. */
  policy: ReplayPolicy;
}

/**
 * Resolves a policy spec: a built-in (or `extra`) name, optionally `@<kernel>` to apply that
 * kernel version's rules, or a ready policy instance.
 *
 * @param spec `name`, `name@kernel`, or a policy instance
 * @param options options for built-ins (the spec's kernel wins over `options.kernel`)
 * @param extra more factories to look names up in (user policies)
 * @returns the instance and its label
 * @throws {UsageError} for an unknown name or a bad kernel version
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolvePolicy } from "./registry.ts";
 * const r = resolvePolicy("intel-per-device@5.10", {});
 * assert(r.label === "intel-per-device@5.10" && r.policy.name === "intel-per-device");
 * ```
 */
export function resolvePolicy(
  spec: string | ReplayPolicy,
  options: PolicyOptions = {},
  extra: readonly PolicyFactory[] = [],
): ResolvedPolicy {
  if (typeof spec !== "string") return { label: spec.name, policy: spec };
  const at = spec.indexOf("@");
  const name = at < 0 ? spec : spec.slice(0, at);
  const kernel = at < 0 ? undefined : spec.slice(at + 1);
  const f = [...extra, ...BUILTIN_POLICIES].find((p) => p.name === name);
  if (!f) {
    throw new UsageError(
      `unknown policy "${name}" (known: ${
        [...extra.map((p) => p.name), ...BUILTIN_POLICY_NAMES].join(", ")
      })`,
    );
  }
  if (kernel !== undefined) parseKernelVersion(kernel);
  const opts: PolicyOptions = kernel === undefined ? options : { ...options, kernel };
  return { label: spec, policy: f.create(opts) };
}

/**
 * The built-in policy that models a traced kernel on an IOMMU family (the fidelity default).
 *
 * Intel: before v6.10 `intel-per-device`; v6.10 with patch 0 (or no patch) `intel-cache-tag-6.10.0`;
 * later v6.10.x and v6.11 `intel-cache-tag`; v6.12+ `intel-batched`. SMMUv3: `smmuv3-no-btm`
 * (v6.11+ has no BTM path; earlier kernels with BTM hardware should pass `smmuv3-btm` explicitly).
 * AMD: `amd-per-device`. Unknown vendor: as Intel.
 *
 * @param kernel the traced kernel's version
 * @param vendor the IOMMU family
 * @returns a policy spec (`name@kernel` when the kernel changes the policy's rules)
 * @throws {UsageError} for a malformed version
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { policyForKernel } from "./registry.ts";
 * assert(policyForKernel("6.12.9", "intel") === "intel-batched@6.12.9");
 * assert(policyForKernel("6.10.0", "intel") === "intel-cache-tag-6.10.0@6.10.0");
 * assert(policyForKernel("6.8.1", "intel") === "intel-per-device@6.8.1");
 * ```
 */
export function policyForKernel(kernel: string, vendor: IommuVendor): string {
  const v = parseKernelVersion(kernel);
  if (vendor === "arm-smmuv3") return "smmuv3-no-btm";
  if (vendor === "amd") return `amd-per-device@${kernel}`;
  if (!atLeast(v, 6, 10)) return `intel-per-device@${kernel}`;
  if (v.major === 6 && v.minor === 10 && (v.patch === null || v.patch === 0)) {
    return `intel-cache-tag-6.10.0@${kernel}`;
  }
  if (!atLeast(v, 6, 12)) return `intel-cache-tag@${kernel}`;
  return `intel-batched@${kernel}`;
}
