/**
 * The replay core: rebuild mm <-> PASID <-> domain <-> device <-> IOMMU state from canonical rows,
 * re-run every invalidation request under each policy, model its cost, check correctness, and
 * compare with what the traced kernel issued.
 *
 * Entry points: {@linkcode replay} (and {@linkcode replayAsync}, {@linkcode ReplayEngine} for
 * streams), {@linkcode whatIf} for an mm trace against hypothetical bindings,
 * {@linkcode resultToJSON} for the JSON form.
 *
 * @module
 */
export { replay, replayAsync } from "./run.ts";
export type { ReplayAsyncInput, ReplayInput } from "./run.ts";
export { DMA_SOURCES, PARALLEL_MIN_REQUESTS, ReplayEngine } from "./engine.ts";
export { closeReplayWorkers } from "./replay_workers.ts";
export type { ReplayOptions, ReplaySetup } from "./engine.ts";
export { countToJson, resultToJSON } from "./result.ts";
export type { Json, NotApplicablePolicy, PolicySummary, ReplayResult } from "./result.ts";
export { hypotheticalBindings, requestsFromMmTrace, whatIf } from "./whatif.ts";
export type { BindWish, MmRangeEvent, MmRequestOptions, WhatIfInput } from "./whatif.ts";
export { BindingState, UNKNOWN_IOMMU } from "./state.ts";
export type { BindingView, SnapshotDomain, StateSnapshot, ViewQuery } from "./state.ts";
export { FULL, KERNEL_RANGE_SOURCES, policyKernel, reachesAsFull, x86Ceiling } from "./policy.ts";
export type {
  CommandSink,
  PolicyFactory,
  PolicyOptions,
  PolicyScope,
  ReplayPolicy,
  RequestInfo,
} from "./policy.ts";
export {
  BUILTIN_POLICIES,
  BUILTIN_POLICY_NAMES,
  policyForKernel,
  resolvePolicy,
} from "./registry.ts";
export type { ResolvedPolicy } from "./registry.ts";
export { CLASS_CODE, kind, KNOWN_KINDS } from "./kinds.ts";
export type { KindClass, KindSpec } from "./kinds.ts";
export type { CostModel } from "./cost/cost_model.ts";
export { descriptorNs } from "./cost/cost_model.ts";
export {
  BUILTIN_COST_MODELS,
  costModel,
  costModelFromJson,
  DEFAULT_COST_MODEL,
  loadCostModel,
  parseCostModel,
} from "./cost/load_cost_model.ts";
export {
  AnomalyCollector,
  checkLifecycle,
  checkObservedPasid,
  ChildPasidChecker,
  DEFAULT_EXIT_GRACE_NS,
  DEFAULT_UNBIND_GRACE_NS,
} from "./checks.ts";
export type { CheckOptions } from "./checks.ts";
export { FIDELITY_KEY, fidelityKey, FidelityTracker } from "./fidelity.ts";
export type { FidelityDifference, FidelityReport, IgnoredReason } from "./fidelity.ts";
export type { ProcessEventKind, ProcessEventRow } from "./process_event.ts";
export type { RequestCostRow, RunTotals } from "./policy_run.ts";
export { PolicyRun } from "./policy_run.ts";
export { policyDescriptorRows, policySummaryRows, REPLAY_TABLES } from "./tables.ts";
export type { PolicyDescriptorRow, PolicySummaryRow } from "./tables.ts";
export { atLeast, parseKernelVersion } from "./kernel_version.ts";
export type { KernelVersion } from "./kernel_version.ts";
export { Distribution } from "./distribution.ts";
export type { DistributionSummary } from "./distribution.ts";
export { ExactSum } from "./exact_sum.ts";
