/**
 * Writes the hand-made regression inputs of `fuzz/regressions/` for the findings of the first
 * fuzz campaigns (each minimal, built from the repository's synthetic writers so it holds no
 * third-party data), with a note per input saying what it did before its fix.
 *
 * Run: `deno run -A fuzz/make_regressions.ts` (rewrites those files; campaign findings saved
 * by `deno task fuzz` sit beside them as `<kind>-<sha>.bin`).
 *
 * @module
 */
import { parseFormatFile } from "../ingest/format/format_file.ts";
import type { EventFormat } from "../ingest/format/types.ts";
import { knownFormats } from "../ingest/known_formats/known_formats.ts";
import { synthPerfData, type SynthRecord } from "../ingest/perf/testdata/synth_perf.ts";
import { randomEvents } from "../synth/_random_events.ts";
import { writeTraceDat } from "../synth/tracedat_writer.ts";
const ENC = new TextEncoder();
const dir = new URL("./regressions/", import.meta.url);
const FORMATS = knownFormats("6.18", { systems: ["tlb", "iommu"] });
const PARSED = new Map<string, EventFormat>(
  FORMATS.map((f) => [`${f.system}:${f.name}`, parseFormatFile(f.text, f.system)]),
);
const EVENTS = randomEvents(PARSED, { seed: 9, count: 20, cpus: 2 });
/** Little-endian u32. */
const le32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};
const le64 = (v: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
};
const cat = (...p: Uint8Array[]) => {
  const o = new Uint8Array(p.reduce((n, x) => n + x.length, 0));
  let a = 0;
  for (const x of p) {
    o.set(x, a);
    a += x.length;
  }
  return o;
};
function put(target: string, name: string, bytes: Uint8Array, note: string) {
  const d = new URL(`${target}/`, dir);
  Deno.mkdirSync(d, { recursive: true });
  Deno.writeFileSync(new URL(`${name}.bin`, d), bytes);
  Deno.writeTextFileSync(new URL(`${name}.txt`, d), `target: ${target}\n${note.trim()}\n`);
}
function replaceSame(b: Uint8Array, from: string, to: string): Uint8Array {
  const f = ENC.encode(from), t = ENC.encode(to);
  if (f.length !== t.length) throw new Error("length");
  const o = b.slice();
  for (let i = 0; i + f.length <= o.length; i++) {
    if (f.every((c, k) => o[i + k] === c)) {
      o.set(t, i);
      return o;
    }
  }
  throw new Error(`not found: ${from}`);
}
// 1. trace.dat version text with a terminal escape and a newline.
const v7 = writeTraceDat({ cpus: 2, compression: "none", formats: FORMATS, events: EVENTS });
const ver = v7.slice(0, 64);
ver.set(ENC.encode("7\u001b[2J\n\0"), 10);
put(
  "tracedat",
  "bad_error-version-escape",
  ver,
  `
outcome: bad_error (TraceError message carried ESC and a newline from the version text)
fixed by: errors: escape control characters in TraceError/UsageError messages`,
);
// 2. compression name with control characters.
const comp = replaceSame(v7, "none\0", "n\r\u009b\0");
put(
  "tracedat",
  "bad_error-compression-escape",
  comp,
  `
outcome: bad_error (unknown compression name quoted raw: CR and a C1 CSI)
fixed by: errors: escape control characters in TraceError/UsageError messages`,
);
// 3. a format line with ESC: the bad_format warning quoted it.
const v6 = writeTraceDat({ version: 6, cpus: 2, formats: FORMATS, events: EVENTS });
const fmt = replaceSame(v6, "gid;\toffset:", "gid;\toffs\u001bt:");
put(
  "tracedat_events",
  "bad_error-format-warning-escape",
  fmt,
  `
outcome: bad_error (bad_format warning quoted a format line with an ANSI escape)
fixed by: errors: escape control characters ... (metadata.ts escapes the warning)`,
);
// 4. a v7 BUFFER option pointing at 2^63: error offset not a safe integer.
const far = writeTraceDat({
  cpus: 2,
  compression: "zstd",
  formats: FORMATS,
  events: EVENTS,
  options: {
    extra: [{
      id: 3,
      data: cat(le64(1n << 63n), ENC.encode("inst\0local\0"), le32(4096), le32(0)),
    }],
  },
});
put(
  "tracedat_events",
  "bad_error-buffer-offset-2e63",
  far,
  `
outcome: bad_error (TraceError offset 9223372036854775808, past the file and not a safe integer)
fixed by: tracedat: offsets and page sizes from options are checked before use`,
);
// 5. a BUFFER option whose CPU data sits at 2^62 (damaged_tail warning offset).
const cpuFar = writeTraceDat({
  cpus: 2,
  compression: "zstd",
  formats: FORMATS,
  events: EVENTS,
  options: {
    extra: [{
      id: 3,
      data: cat(
        le64(BigInt(10 + 2 + 6 + 5 + 6 + 8)),
        ENC.encode("inst\0local\0"),
        le32(4096),
        le32(1),
        le32(0),
        le64(1n << 62n),
        le64(4096n),
      ),
    }],
  },
});
put(
  "tracedat",
  "bad_error-chunk-offset-2e62",
  cpuFar,
  `
outcome: bad_error (damaged_tail warning located at byte 4611686018427387904)
fixed by: tracedat: cap decompressed blocks ... (damaged-chunk warnings keep their offset inside the file)`,
);
// 6. text headers with counts past u32/u64.
put(
  "ftrace_text",
  "crash-header-counts",
  ENC.encode([
    "# tracer: nop",
    "#",
    `# entries-in-buffer/entries-written: 2/${"9".repeat(30)}   #P:${"2".repeat(300)}`,
    "#",
    "           bash-42      [000] .....   100.000001: tlb_flush: pages:1 reason:flush on task switch (0)",
    "CPU:0 [LOST 18446744073709551615 EVENTS]",
    "CPU:0 [LOST 18446744073709551615 EVENTS]",
    "",
  ].join("\n")),
  `
outcome: crash (TypeError: main.trace_info.cpus out of range for u32 / lost_events out of range for u64)
fixed by: ftrace_text: header counts past any machine are ignored, lost-event sums saturate at u64`,
);
put(
  "report_text",
  "crash-cpus-u64",
  ENC.encode(
    [
      "cpus=18446744073709551615",
      "           bash-42   [001]     5.000000100: tlb_flush:            pages=1 reason=0",
      "",
    ].join("\n"),
  ),
  `
outcome: crash (TypeError: main.trace_info.cpus out of range for u32)
fixed by: ftrace_text: header counts past any machine are ignored ...`,
);
put(
  "perf_script",
  "crash-nrcpus",
  ENC.encode(
    [
      "# ========",
      "# nrcpus online : 99999999999999",
      "# ========",
      "            bash    42 [001] 100.000001: tlb:tlb_flush: pages=1 reason=0",
      "",
    ].join("\n"),
  ),
  `
outcome: crash (TypeError: main.trace_info.cpus out of range for u32)
fixed by: the perf script cpus bound (committed inside bf16c7a by the perf reader's author)`,
);
// 7. perf LOST records summing past u64.
put(
  "perf_data",
  "crash-lost-sum-u64",
  synthPerfData({
    tracepoints: ["tlb:tlb_flush"],
    records: [
      { kind: "lost", lost: (1n << 64n) - 1n, time: 1n },
      { kind: "lost", lost: 5n, time: 2n },
      { kind: "round" },
    ],
  }).bytes,
  `
outcome: crash (TypeError: main.trace_info.lost_events out of range for u64)
fixed by: perf: LOST counts summing past u64 saturate in trace_info`,
);
// 8. JSON with a control character: JSON.parse's message quotes it.
put(
  "topology",
  "bad_error-json-control-char",
  ENC.encode('{"format":"iommu-replay-topology/1","iommus":[\u0001]}'),
  `
outcome: bad_error (UsageError quoted JSON.parse's message with the raw control character)
fixed by: errors: escape control characters in TraceError/UsageError messages`,
);
put(
  "topology",
  "bad_error-iommu-name-escape",
  ENC.encode(
    JSON.stringify({
      format: "iommu-replay-topology/1",
      iommus: [],
      devices: [{ name: "d", iommu: "dmar0\u001b[2J\n" }],
    }),
  ),
  `
outcome: bad_error (UsageError quoted the unknown IOMMU name raw)
fixed by: errors: escape control characters in TraceError/UsageError messages`,
);
put(
  "probes",
  "bad_error-json-control-char",
  ENC.encode('{"format":"iommu-replay-probes/1","name":"m","probes":[\u001b]}'),
  `
outcome: bad_error (UsageError quoted JSON.parse's message with the raw ESC)
fixed by: errors: escape control characters in TraceError/UsageError messages`,
);
put(
  "probes",
  "silent-proto-where",
  ENC.encode(
    '{"format":"iommu-replay-probes/1","name":"m","probes":[{"kind":"mm_invalidate","type":"kprobe","function":"f","system":"g","event":"e","fetch":"__proto__=$arg4 mm=$arg1 start=$arg2 end=$arg3","fields":{"mm":"mm","start":"start","end":"end"},"where":{"__proto__":1}}]}',
  ),
  `
outcome: accepted with the where filter silently dropped (now a UsageError: "__proto__" is reserved)
fixed by: probes: reject a fetch field named __proto__`,
);
// 9. a perf -z stream whose second piece has one byte flipped.
{
  const recs: SynthRecord[] = Array.from({ length: 3000 }, (_, i) => ({
    kind: "sample",
    event: "tlb:tlb_flush",
    time: BigInt(1000 + i * 37),
    pid: 100 + (i % 7),
    tid: 100 + (i % 7),
    cpu: i % 4,
    fields: { pages: BigInt(i * 13), reason: i % 5 },
  }));
  const f = synthPerfData({
    tracepoints: ["tlb:tlb_flush"],
    records: recs,
    compress: "zstd",
    pieceSize: 20000,
  }).bytes;
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const dataAt = Number(v.getBigUint64(40, true));
  const second = dataAt + v.getUint16(dataAt + 6, true);
  f[second + 8 + 228]! ^= 0xff;
  put(
    "perf_data",
    "died-zstd-corrupt-piece",
    f,
    `
outcome: died (the process died of an uncaught error; when caught globally, a hang)
input: 3000 tlb:tlb_flush samples, zstd pieces of 20000 bytes, byte 228 of the second
COMPRESSED record's payload flipped
cause: Deno's node:zlib threw "Zstd decompress error: Data corruption detected" from a nextTick
callback instead of emitting "error" on the stream, so ZstdStream.push never settled
first found: a mutated ../shared perf -z fixture (seed 77, input 72; not kept: shared data)
fixed by: perf: a corrupt zstd piece mid-stream no longer hangs (or kills) the reader`,
  );
}
console.log("ok");
