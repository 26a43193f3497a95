/**
 * Writes the repository's example files into `examples/`:
 *
 * - `sva_two_iommus.dat`: the SVA workload of `scenarios/example_workload.ts` (Linux 6.12, two
 *   VT-d units, six devices, four application lives) as a trace.dat v7 with zstd-compressed
 *   sections, the way `trace-cmd record` stores it. After writing, the file is read back with the
 *   real `trace-cmd report` and every event and field is compared with what was written
 *   (`trace_cmd_check.ts`); a missing trace-cmd fails the run.
 * - `sva_two_iommus.txt`: the same events as the kernel's `trace` file (header and one line per
 *   event, payloads rendered by the print-format engine, `ingest/format/print_render.ts`, with the
 *   kernel flavor). `prq_report` is printed by hand, as the kernel's `decode_prq_descriptor()`
 *   does, because the engine does not know that kernel helper.
 * - `topology.json`: a what-if topology (`core/topology.ts` format) with the same units and
 *   devices, binding the programs of the real recording `mm_workload.dat`
 *   (`examples/record_mm_workload.sh`) by command name to the accelerators the synthetic example
 *   binds them to.
 *
 * Run: `deno run --allow-read --allow-write --allow-run synth/make_example.ts [--out-dir DIR]`
 * (default `examples`). The output is deterministic: running it again gives the same bytes.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { TraceEvent } from "../core/event.ts";
import { sidOfName, type Topology, TOPOLOGY_FORMAT, topologyToJson } from "../core/topology.ts";
import { parseFormatFile } from "../ingest/format/format_file.ts";
import { renderPayload } from "../ingest/format/print_render.ts";
import type { EventFormat } from "../ingest/format/types.ts";
import { type KnownFormat, knownFormats } from "../ingest/known_formats/known_formats.ts";
import { renderFtraceText } from "./ftrace_text_writer.ts";
import {
  EXAMPLE_WORKLOAD_PARAMS,
  type ExampleWorkload,
  exampleWorkload,
  type ExampleWorkloadParams,
} from "./scenarios/example_workload.ts";
import { checkWithTraceCmd } from "./trace_cmd_check.ts";
import { writeTraceDat } from "./tracedat_writer.ts";

/** File names inside the examples directory. */
export const EXAMPLE_FILES: Readonly<
  { dat: string; text: string; topology: string; mmWorkload: string }
> = Object.freeze({
  dat: "sva_two_iommus.dat",
  text: "sva_two_iommus.txt",
  topology: "topology.json",
  mmWorkload: "mm_workload.dat",
});

/**
 * The bundled format files of the event types a workload uses, in catalog order (what
 * `trace-cmd record -e ...` stores for the enabled events).
 *
 * @param w the workload
 * @returns the format files
 */
export function exampleFormats(w: ExampleWorkload): KnownFormat[] {
  const used = new Set(w.events.map((e) => `${e.system}:${e.event}`));
  return knownFormats(w.kernel).filter((f) => used.has(`${f.system}:${f.name}`));
}

/**
 * The example trace.dat: v7, zstd, the workload's kernel and CPU count, no kallsyms.
 *
 * @param w the workload (default: the committed example)
 * @returns the file bytes and the format files in it
 * @example
 * ```ts
 * import { exampleTraceDat } from "./make_example.ts";
 * const { bytes } = exampleTraceDat();
 * console.assert(new TextDecoder().decode(bytes.subarray(3, 11)) === "tracing7");
 * ```
 */
export function exampleTraceDat(
  w: ExampleWorkload = exampleWorkload(),
): { bytes: Uint8Array; formats: KnownFormat[] } {
  const formats = exampleFormats(w);
  const bytes = writeTraceDat({
    version: 7,
    compression: "zstd",
    kernel: w.kernel,
    cpus: w.cpus,
    formats,
    events: w.events,
  });
  return { bytes, formats };
}

/**
 * The kernel's `decode_prq_descriptor()` (`drivers/iommu/intel/iommu.h`): the text `prq_report`
 * prints after `seq# N: `. The trace record does not hold it (the helper fills the event's
 * `buff` when the event is printed).
 *
 * @param dw0 descriptor word 0
 * @param dw1 descriptor word 1
 * @param dw2 descriptor word 2 (private data)
 * @param dw3 descriptor word 3 (private data)
 * @returns e.g. `rid=0x6a08 addr=0x7f1c2 -w--l pasid=0x2 index=0x5`
 * @example
 * ```ts
 * import { decodePrqDescriptor } from "./make_example.ts";
 * const s = decodePrqDescriptor(0x20000000000n | (0x6a08n << 16n) | 0x101n, 0x7f1c2000n | (5n << 3n) | 6n, 0n, 0n);
 * console.assert(s === "rid=0x6a08 addr=0x7f1c2 -w--l pasid=0x2 index=0x5");
 * ```
 */
export function decodePrqDescriptor(dw0: bigint, dw1: bigint, dw2: bigint, dw3: bigint): string {
  const bit = (v: bigint, b: bigint) => ((v >> b) & 1n) === 1n;
  const hex = (v: bigint) => `0x${v.toString(16)}`;
  let s = `rid=${hex((dw0 >> 16n) & 0xffffn)} addr=${hex((dw1 >> 12n) & 0xfffffffffffffn)} ` +
    (bit(dw1, 0n) ? "r" : "-") + (bit(dw1, 1n) ? "w" : "-") + (bit(dw0, 52n) ? "x" : "-") +
    (bit(dw0, 53n) ? "p" : "-") + (bit(dw1, 2n) ? "l" : "-") +
    ` pasid=${hex((dw0 >> 32n) & 0xfffffn)} index=${hex((dw1 >> 3n) & 0x1ffn)}`;
  if (bit(dw0, 9n)) s += ` private=${hex(dw2)}/${hex(dw3)}\n`;
  return s;
}

/** What the kernel prints for `prq_report`: `"%s/%s seq# %ld: %s"`. */
function prqReportText(e: TraceEvent): string {
  const f = e.fields;
  const w = (k: string) => BigInt(f[k] as bigint);
  return `${f.iommu}/${f.dev} seq# ${f.seq}: ${
    decodePrqDescriptor(w("dw0"), w("dw1"), w("dw2"), w("dw3"))
  }`;
}

/**
 * The example as the kernel's `trace` file.
 *
 * @param w the workload (default: the committed example)
 * @returns the text
 * @example
 * ```ts
 * import { exampleKernelText } from "./make_example.ts";
 * console.assert(exampleKernelText().startsWith("# tracer: nop\n"));
 * ```
 */
export function exampleKernelText(w: ExampleWorkload = exampleWorkload()): string {
  const parsed = new Map<string, EventFormat>(
    exampleFormats(w).map((f) => [`${f.system}:${f.name}`, parseFormatFile(f.text, f.system)]),
  );
  return renderFtraceText(w.events, {
    cpus: w.cpus,
    renderPayload: (e) => {
      if (e.system === "intel_iommu" && e.event === "prq_report") return prqReportText(e);
      return renderPayload(parsed.get(`${e.system}:${e.event}`)!, e.fields, { flavor: "kernel" });
    },
  });
}

/** Which programs of the recorded mm workload bind which devices, in the what-if topology. */
export const WHAT_IF_BINDINGS: readonly { comm: string; devices: string[]; pasid: number }[] =
  Object.freeze([
    { comm: "dsa_copy", devices: ["0000:6a:01.0", "0000:6a:02.0", "0000:e7:01.0"], pasid: 2 },
    { comm: "iaa_comp", devices: ["0000:6a:02.0", "0000:e7:02.0", "0000:e7:01.0"], pasid: 3 },
    { comm: "db_worker", devices: ["0000:e7:01.0"], pasid: 4 },
  ]);

/**
 * The what-if topology: the example machine's units and devices, and the bindings of the
 * recorded programs by command name.
 *
 * @param params the machine (default: the committed example's)
 * @returns the topology
 * @example
 * ```ts
 * import { exampleTopology } from "./make_example.ts";
 * const t = exampleTopology();
 * console.assert(t.devices.length === 6 && t.bindings.length === 3);
 * ```
 */
export function exampleTopology(
  params: Readonly<ExampleWorkloadParams> = EXAMPLE_WORKLOAD_PARAMS,
): Topology {
  return {
    format: TOPOLOGY_FORMAT,
    kernel: params.kernel,
    note: "What-if: the two-unit VT-d machine of sva_two_iommus.dat; the programs of " +
      "mm_workload.dat (record_mm_workload.sh) bound by command name to its accelerators. " +
      "The NIC and NVMe drive have no ATS and cannot be bound to an mm on VT-d.",
    iommus: params.iommus.map((name) => ({ name, vendor: "intel" as const })),
    devices: params.devices.map((d) => ({
      name: d.name,
      iommu: d.iommu,
      sid: sidOfName(d.name),
      ats: d.ats,
      pasid: d.ats,
      qdep: d.ats ? d.qdep : null,
    })),
    bindings: WHAT_IF_BINDINGS.map((b) => ({
      pid: null,
      comm: b.comm,
      mm: null,
      devices: [...b.devices],
      pasid: b.pasid,
    })),
  };
}

/** What {@linkcode writeExamples} wrote. */
export interface WrittenExamples {
  /** Paths written. */
  files: string[];
  /** Events in the trace. */
  events: number;
  /** Events trace-cmd showed (equal to `events`: the check throws otherwise). */
  checkedEvents: number;
  /** Field values compared with trace-cmd's output. */
  checkedFields: number;
  /** Size of the trace.dat in bytes. */
  datBytes: number;
}

/**
 * Writes `sva_two_iommus.dat`, `sva_two_iommus.txt` and `topology.json` into a directory and
 * checks the trace.dat with `trace-cmd report`.
 *
 * @param dir output directory (created when missing)
 * @returns what was written and checked
 * @throws {Error} when trace-cmd is missing or shows anything other than the events written
 */
export async function writeExamples(dir: string): Promise<WrittenExamples> {
  await Deno.mkdir(dir, { recursive: true });
  const w = exampleWorkload();
  const { bytes, formats } = exampleTraceDat(w);
  const dat = `${dir}/${EXAMPLE_FILES.dat}`;
  const text = `${dir}/${EXAMPLE_FILES.text}`;
  const topo = `${dir}/${EXAMPLE_FILES.topology}`;
  await Deno.writeFile(dat, bytes);
  await Deno.writeTextFile(text, exampleKernelText(w));
  await Deno.writeTextFile(topo, topologyToJson(exampleTopology()));
  const parsed = new Map<string, EventFormat>(
    formats.map((f) => [`${f.system}:${f.name}`, parseFormatFile(f.text, f.system)]),
  );
  const r = await checkWithTraceCmd(dat, w.events, parsed);
  return {
    files: [dat, text, topo],
    events: w.events.length,
    checkedEvents: r.events,
    checkedFields: r.fields,
    datBytes: bytes.length,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { "out-dir": { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help) {
    console.log("Usage: deno run -A synth/make_example.ts [--out-dir DIR]   (default: examples)");
    Deno.exit(0);
  }
  const r = await writeExamples(values["out-dir"] ?? "examples");
  console.log(`wrote ${r.files.join(", ")}`);
  console.log(
    `${r.events} events (${r.datBytes} bytes of trace.dat); trace-cmd report shows all ` +
      `${r.checkedEvents} events and ${r.checkedFields} field values as written`,
  );
}
