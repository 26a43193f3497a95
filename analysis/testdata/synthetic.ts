/**
 * A small synthetic replay result (two policies, three requests, two IOMMUs, three devices),
 * shared by the saved-query, chart and report tests. Expected values in those tests are
 * worked out by hand from these rows.
 *
 * @module
 */
import { rowsToIPC } from "../../core/arrow.ts";
import { CANONICAL_TABLES } from "../../core/canonical.ts";
import { REPLAY_TABLES } from "../../core/replay/tables.ts";
import type { ColumnType, TableSpec } from "../../core/schema.ts";
import type { Engine } from "../engine.ts";

/** Declared table by name. */
export function spec(name: string): TableSpec {
  const t = [...CANONICAL_TABLES, ...REPLAY_TABLES].find((x) => x.name === name);
  if (!t) throw new Error(`no table ${name}`);
  return t;
}

function zero(t: ColumnType): unknown {
  if (t === "utf8") return "";
  if (t === "bool") return false;
  if (t === "i64" || t === "u64") return 0n;
  if (t.startsWith("list<")) return [];
  return 0;
}

/** A full row of `spec` from a partial one (missing non-nullable columns get zero values). */
export function fill(s: TableSpec, partial: Record<string, unknown>): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const c of s.columns) {
    r[c.name] = c.name in partial ? partial[c.name] : c.nullable ? null : zero(c.type);
  }
  return r;
}

const A = "0000:00:01.0";
const B = "0000:00:02.0";
const C = "0000:80:01.0";
const PD = "per-device";
const PI = "per-iommu";

type Cmd = [string, number, number, string, string | null, string, bigint | null, bigint | null];

const COMMANDS: Cmd[] = [
  [PD, 1, 1, "dmar0", A, "p_iotlb_inv", 0x1000n, 8192n],
  [PD, 1, 1, "dmar0", A, "p_dev_tlb_inv", 0x1000n, 8192n],
  [PD, 1, 1, "dmar0", B, "p_iotlb_inv", 0x1000n, 8192n],
  [PD, 1, 1, "dmar0", B, "p_dev_tlb_inv", 0x1000n, 8192n],
  [PD, 1, 1, "dmar0", null, "inv_wait", null, null],
  [PD, 2, 2, "dmar0", A, "p_iotlb_inv", 0x5000n, 4096n],
  [PD, 2, 2, "dmar0", null, "inv_wait", null, null],
  [PD, 3, 3, "dmar1", C, "p_iotlb_inv", null, null],
  [PD, 3, 3, "dmar1", C, "p_dev_tlb_inv", 0x10000n, 65536n],
  [PD, 3, 3, "dmar1", null, "inv_wait", null, null],
  [PI, 1, 1, "dmar0", null, "p_iotlb_inv", 0x1000n, 8192n],
  [PI, 1, 1, "dmar0", A, "p_dev_tlb_inv", 0x1000n, 8192n],
  [PI, 1, 1, "dmar0", B, "p_dev_tlb_inv", 0x1000n, 8192n],
  [PI, 1, 1, "dmar0", null, "inv_wait", null, null],
  [PI, 2, 2, "dmar0", null, "p_iotlb_inv", 0x5000n, 4096n],
  [PI, 2, 2, "dmar0", null, "inv_wait", null, null],
  [PI, 3, 3, "dmar1", null, "p_iotlb_inv", 0x10000n, 16384n],
  [PI, 3, 3, "dmar1", C, "p_dev_tlb_inv", 0x10000n, 16384n],
  [PI, 3, 3, "dmar1", null, "inv_wait", null, null],
];

/** The synthetic tables, as `[spec, rows]`. */
export function syntheticTables(): [TableSpec, Record<string, unknown>[]][] {
  const req = spec("requests");
  const cmd = spec("replayed_commands");
  const cost = spec("request_costs");
  const sum = spec("policy_summary");
  const an = spec("anomalies");
  return [
    [req, [
      fill(req, {
        request_id: 1,
        ts: 1000n,
        start: 0x1000n,
        end: 0x3000n,
        pages: 2n,
        source: "munmap",
      }),
      fill(req, {
        request_id: 2,
        ts: 2000n,
        start: 0x5000n,
        end: 0x6000n,
        pages: 1n,
        source: "munmap",
      }),
      fill(req, {
        request_id: 3,
        ts: 11000n,
        start: 0x10000n,
        end: 0x14000n,
        pages: 4n,
        source: "munmap",
      }),
    ]],
    [
      cmd,
      COMMANDS.map(([policy, request_id, submission, iommu, device, kind, addr, size]) =>
        fill(cmd, { policy, request_id, submission, iommu, device, kind, addr, size })
      ),
    ],
    [
      cost,
      [
        [PD, 1, 1000n, 1, 4, 3000],
        [PD, 2, 2000n, 1, 1, 1000],
        [PD, 3, 11000n, 1, 2, 2500],
        [PI, 1, 1000n, 1, 3, 2000],
        [PI, 2, 2000n, 1, 1, 1000],
        [PI, 3, 11000n, 1, 2, 1500],
      ].map(([policy, request_id, ts, submissions, descriptors, modeled_ns]) =>
        fill(cost, { policy, request_id, ts, submissions, descriptors, modeled_ns })
      ),
    ],
    [sum, [
      fill(sum, {
        policy: PD,
        submissions: 3n,
        descriptors: 7n,
        pages_requested: 7n,
        pages_invalidated: 30n,
        over_invalidation: 30 / 7,
        modeled_ns: 6500,
        baseline: PI,
        ratio_modeled_ns: 6500 / 4500,
      }),
      fill(sum, {
        policy: PI,
        submissions: 3n,
        descriptors: 6n,
        pages_requested: 7n,
        pages_invalidated: 14n,
        over_invalidation: 2,
        modeled_ns: 4500,
        baseline: PI,
        ratio_modeled_ns: 1,
      }),
    ]],
    [an, [
      fill(an, { kind: "uncovered_range", ts: 11000n, policy: PD, request_id: 3, detail: "x" }),
      fill(an, { kind: "uncovered_range", ts: 12000n, policy: PD, request_id: 3, detail: "y" }),
      fill(an, {
        kind: "pasid_reused_early",
        ts: 500n,
        pasid: 5,
        detail: "<script>alert(1)</script>",
      }),
    ]],
  ];
}

/** Loads the synthetic tables into an engine. */
export async function loadSynthetic(engine: Engine): Promise<void> {
  for (const [s, rows] of syntheticTables()) {
    await engine.registerIPC(s.schema, s.name, rowsToIPC(s, rows));
  }
}
