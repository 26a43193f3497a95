/**
 * `deno task replay <trace> [--topology FILE] [--policy a,b] [--cost-model NAME|FILE] [--out DIR] [--json]`
 *
 * @module
 */
import { UsageError } from "../core/errors.ts";
import { resultToJSON } from "../core/replay/mod.ts";
import type { PolicySummary } from "../core/replay/mod.ts";
import { parse, Progress } from "./common.ts";
import { replayTrace, type ReplayTraceResult } from "./pipeline.ts";
import { writeReport } from "./report_cmd.ts";
import { parseFormats } from "./table_formats.ts";

/** Help text. */
export const REPLAY_HELP = `Usage: deno task replay <trace> [options]

Reads a trace (trace.dat, perf.data, ftrace / trace-cmd report / perf script text; detected from
the content), rebuilds mm -> PASID -> domain -> device -> IOMMU state, replays every IOTLB and
device-TLB invalidation under each policy, checks correctness, and compares the costs.

Options:
  -t, --topology FILE      topology JSON (devices, IOMMUs, who binds what); with an mm-only trace it
                           turns on a what-if replay against those bindings
  -p, --policy a,b         policies to replay (default: all). Built-ins: intel-per-device,
                           intel-cache-tag, intel-cache-tag-6.10.0, intel-batched, smmuv3-btm,
                           smmuv3-no-btm, amd-per-device, dma-strict, dma-lazy, ideal;
                           'name@6.5' applies that kernel's range rules
  -c, --cost-model M       bare-metal-vtd (default), viommu-trap, smmuv3, amd, or a JSON file
  -b, --baseline NAME      policy the ratios are relative to (default: the first)
      --what-if            treat syscall ranges and TLB flushes as the requests (mm trace)
      --kernel VERSION     the traced kernel (uname -r) when the trace does not say
  -o, --out DIR            keep all tables (raw, canonical, results) in DIR as Arrow IPC, with
                           charts/*.svg and report.html (DIR is created, or an existing directory);
                           query them with: deno task query DIR "<SQL>"
  -f, --format LIST        with --out: arrow (default), parquet, csv, comma separated; also write
                           every table as .parquet and/or .csv beside its .arrows file (listed in
                           DIR/manifest.json)
      --json               print one JSON object: {"policies": [...], "fidelity": {...},
                           "anomalies": [...], "anomaly_counts": {...}, "not_applicable": [...]}
  -q, --quiet              no progress on stderr
  -h, --help               this help

Examples:
  deno task replay examples/sva_two_iommus.dat
  deno task replay trace.dat --policy intel-per-device,intel-batched,ideal --cost-model viommu-trap
  deno task replay mm.dat --topology examples/topology.json --out out/mm
  deno task replay trace.dat --out out/t --format arrow,parquet,csv
`;

function fmtNs(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} us`;
  return `${ns.toFixed(0)} ns`;
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r, ri) =>
    r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join("  ") +
    (ri === 0 ? "\n" + w.map((x) => "-".repeat(x)).join("  ") : "")
  ).join("\n");
}

function descriptorTotal(p: PolicySummary): number {
  let n = 0;
  for (const [k, v] of Object.entries(p.descriptors)) {
    if (!/wait|sync|completion/.test(k)) n += v;
  }
  return n;
}

/**
 * The terminal summary of a replay.
 *
 * @param r the replay
 * @returns text
 */
export function summaryText(r: ReplayTraceResult): string {
  const out: string[] = [];
  const info = r.manifest.info;
  out.push(
    `trace: ${r.manifest.source} (${info.format} v${info.version}, ${
      Number(info.events).toLocaleString("en-US")
    } events` +
      `${r.kernel ? `, kernel ${r.kernel}` : ""})`,
  );
  const c = r.canonical;
  out.push(
    `state: ${c.iommus.length} IOMMUs, ${c.devices.length} devices, ${c.bindings.length} bindings, ` +
      `${r.counts.requests.toLocaleString("en-US")} requests${
        r.whatIf ? " (what-if: from mm syscalls / TLB flushes)" : ""
      }, ` +
      `${r.counts.observed_commands.toLocaleString("en-US")} observed commands`,
  );
  for (const s of c.statements) out.push(`  - ${s}`);
  out.push("");
  const anomaliesByPolicy = new Map<string, number>();
  for (const a of r.result.anomalies) {
    const k = a.policy ?? "";
    anomaliesByPolicy.set(k, (anomaliesByPolicy.get(k) ?? 0) + 1);
  }
  const rows = [[
    "policy",
    "requests",
    "submissions",
    "descriptors",
    "full flushes",
    "pages inval.",
    "over-inval.",
    "modeled time",
    "p99/request",
    "vs baseline",
    "anomalies",
  ]];
  for (const p of r.result.policies) {
    const ratio = p.ratio_to_baseline.modeled_ns;
    rows.push([
      p.name,
      p.requests.toLocaleString("en-US"),
      p.submissions.toLocaleString("en-US"),
      descriptorTotal(p).toLocaleString("en-US"),
      p.full_flushes.toLocaleString("en-US"),
      p.pages_invalidated.toLocaleString("en-US"),
      p.over_invalidation === null ? "-" : `${p.over_invalidation.toFixed(2)}x`,
      fmtNs(p.modeled_ns),
      fmtNs(p.modeled_ns_per_request.p99 ?? 0),
      ratio === null ? "-" : `${ratio.toFixed(2)}x`,
      String(anomaliesByPolicy.get(p.name) ?? 0),
    ]);
  }
  out.push(table(rows));
  const baselines = [...new Set(r.result.policies.map((p) => p.ratio_to_baseline.baseline))];
  out.push(
    `(ratios relative to ${baselines.length ? baselines.join(" / ") : "-"}; ` +
      `cost model ${r.result.policies[0]?.cost_model ?? "-"}; over-inval. = pages invalidated / ` +
      `pages requested in the caches reached by ranged commands, full flushes counted apart)`,
  );
  for (const n of r.result.not_applicable) {
    out.push(`not applicable: ${n.name}: ${n.reason}`);
  }
  const f = r.result.fidelity;
  if (f) {
    out.push("");
    out.push(
      `fidelity (${f.policy} vs the traced kernel): ${f.matched} matched, ${f.missing} missing, ${f.extra} extra` +
        ` over ${f.requests} requests`,
    );
    for (const d of f.first_differences.slice(0, 3)) {
      out.push(
        `  first difference: ${
          JSON.stringify(d, (_k, v) => typeof v === "bigint" ? v.toString() : v)
        }`,
      );
    }
  }
  const counts = Object.entries(r.result.anomaly_counts);
  if (counts.length) {
    out.push("");
    out.push("anomalies: " + counts.map(([k, v]) => `${k} ${v}`).join(", "));
  }
  if (r.outDir) {
    out.push(
      "",
      `written to ${r.outDir}: Arrow tables, charts/*.svg, report.html`,
      `  deno task query ${r.outDir} "SELECT * FROM main.policy_summary"`,
    );
  }
  return out.join("\n");
}

/**
 * Runs the replay command.
 *
 * @param args arguments after `replay`
 * @returns exit code
 */
export async function replayCommand(args: string[]): Promise<number> {
  const p = parse(args, {
    topology: { type: "string", short: "t" },
    policy: { type: "string", short: "p" },
    "cost-model": { type: "string", short: "c" },
    baseline: { type: "string", short: "b" },
    "what-if": { type: "boolean" },
    kernel: { type: "string" },
    out: { type: "string", short: "o" },
    format: { type: "string", short: "f" },
    json: { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
  });
  if (p.values.help) {
    console.log(REPLAY_HELP);
    return 0;
  }
  if (p.positionals.length !== 1) throw new UsageError("expected exactly one trace file");
  const str = (k: string) => (typeof p.values[k] === "string" ? p.values[k] as string : undefined);
  const policies = str("policy")?.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (policies && policies.length === 0) throw new UsageError("--policy needs at least one name");
  const formats = parseFormats(str("format"));
  if (formats.length > 0 && !str("out")) throw new UsageError("--format needs --out DIR");
  const prog = new Progress("replay", p.values.quiet === true || p.values.json === true);
  const r = await replayTrace(p.positionals[0]!, {
    ...(str("topology") ? { topology: str("topology")! } : {}),
    ...(policies ? { policies } : {}),
    ...(str("cost-model") ? { costModel: str("cost-model")! } : {}),
    ...(str("baseline") ? { baseline: str("baseline")! } : {}),
    ...(p.values["what-if"] ? { whatIf: true } : {}),
    ...(str("kernel") ? { kernel: str("kernel")! } : {}),
    ...(str("out") ? { outDir: str("out")! } : {}),
    keepRows: false,
    onProgress: (stage, n, total) =>
      prog.count(stage, n, total ?? null, stage === "replay" ? "requests" : "events"),
  });
  if (r.outDir) {
    prog.update("charts and report.html");
    await writeReport(r.outDir, `${r.outDir}/report.html`, {
      svgDir: `${r.outDir}/charts`,
      title: `iommu-replay: ${p.positionals[0]}`,
      notes: [
        ...r.canonical.statements,
        ...r.result.not_applicable.map((n) => `not applicable: ${n.name}: ${n.reason}`),
      ],
    });
    if (formats.length > 0) {
      // DuckDB and parquet-wasm are loaded only when copies are asked for
      const { writeTableCopies } = await import("./table_copies.ts");
      await writeTableCopies(
        r.outDir,
        formats,
        (_t, i, n) => prog.count(`writing ${formats.join(", ")}`, i, n, "tables"),
      );
    }
  }
  prog.done();
  if (p.values.json) {
    console.log(JSON.stringify(resultToJSON(r.result)));
  } else {
    if (p.values.quiet !== true) {
      for (const w of r.warnings) console.error(`warning: ${w.message}`);
    }
    console.log(summaryText(r));
  }
  return 0;
}
