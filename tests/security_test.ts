/**
 * Security: hostile strings (script tags, quotes, control characters, very long names, invalid
 * UTF-8) in comm and device names travel from a trace through ingest to the query output (CSV
 * and JSON, quoted by DuckDB) and the HTML report (escaped); error messages never carry raw
 * control characters; no source file evaluates text; topology and probe-mapping files reject
 * unknown keys, prototype keys and bad values with clear errors.
 */
import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { escapeControl, TraceError, UsageError } from "../core/errors.ts";
import { parseProbeMapping } from "../core/probes/mapping.ts";
import { parseTopology } from "../core/topology.ts";
import { loadStreams } from "../analysis/dataset.ts";
import { openDuckDBWasm } from "../analysis/duckdb_wasm.ts";
import { buildReport } from "../analysis/report.ts";
import { memorySource } from "../ingest/file_source.ts";
import { ingestToMemory } from "../ingest/ingest.ts";
import { knownFormats } from "../ingest/known_formats/known_formats.ts";
import { openTraceDat } from "../ingest/tracedat/tracedat_file.ts";
import { writeTraceDat } from "../synth/tracedat_writer.ts";
import type { TraceEvent } from "../core/event.ts";
import { HOSTILE_STRINGS } from "../fuzz/hostile.ts";

const ROOT = new URL("../", import.meta.url);
const ENC = new TextEncoder();

/** Invalid UTF-8 written in place of this placeholder after the file is built. */
const BAD_UTF8_MARK = "QQ~bad~QQ";
const BAD_UTF8 = new Uint8Array([0x61, 0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x62]);

// Device names: every hostile string (NUL ends a C string, so not those), a 2000-byte name, and
// invalid UTF-8. Not a leading U+FEFF: string decoders drop it (the format engine's field
// decoder and apache-arrow's Utf8 vectors decode with a BOM-stripping TextDecoder; reported).
const DEVICES = [
  ...HOSTILE_STRINGS.filter((s) => !s.includes("\u0000") && !s.startsWith("\ufeff")),
  "d".repeat(2000),
  BAD_UTF8_MARK,
];
// Comms come from saved_cmdlines (one "pid comm" per line): no newlines there.
const COMMS = [
  ...HOSTILE_STRINGS.filter((s) =>
    !s.includes("\n") && !s.includes("\u0000") && !s.startsWith("\ufeff")
  ),
  "c".repeat(300),
  BAD_UTF8_MARK,
];

function replaceAll(bytes: Uint8Array, mark: string, by: Uint8Array): Uint8Array {
  const m = ENC.encode(mark);
  ok(m.length === by.length, "same length keeps every size field true");
  const out = bytes.slice();
  let n = 0;
  for (let i = 0; i + m.length <= out.length; i++) {
    if (m.every((c, k) => out[i + k] === c)) {
      out.set(by, i);
      n++;
    }
  }
  ok(n > 0, `placeholder ${mark} found`);
  return out;
}

const AS_UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** What a reader makes of the invalid bytes (WHATWG UTF-8 decoding with replacement). */
const DECODED_BAD = new TextDecoder().decode(BAD_UTF8);

function hostileTrace(): {
  bytes: Uint8Array;
  rows: { pid: number; comm: string; device: string }[];
} {
  const events: TraceEvent[] = [];
  const rows: { pid: number; comm: string; device: string }[] = [];
  const cmdlines: [number, string][] = [];
  const n = Math.max(DEVICES.length, COMMS.length);
  for (let i = 0; i < n; i++) {
    const pid = 1000 + i;
    const comm = COMMS[i % COMMS.length]!;
    const device = DEVICES[i % DEVICES.length]!;
    cmdlines.push([pid, comm]);
    events.push({
      ts: 1_000_000n + BigInt(i),
      cpu: i % 2,
      pid,
      comm,
      system: "iommu",
      event: "add_device_to_group",
      buffer: "",
      flags: 0,
      preempt_count: 0,
      fields: { gid: i, device },
    });
    // What was written: UTF-8 (a lone surrogate becomes U+FFFD), or the invalid bytes.
    const fix = (s: string) => (s === BAD_UTF8_MARK ? DECODED_BAD : AS_UTF8.decode(ENC.encode(s)));
    rows.push({ pid, comm: fix(comm), device: fix(device) });
  }
  const bytes = writeTraceDat({
    cpus: 2,
    compression: "none",
    formats: knownFormats("6.18", { systems: ["iommu"] }),
    cmdlines,
    events,
  });
  return { bytes: replaceAll(bytes, BAD_UTF8_MARK, BAD_UTF8), rows };
}

/** An RFC 4180 CSV parser (quoted fields, doubled quotes, newlines inside quotes). */
function parseCSV(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') {
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || (c === "\r" && text[i + 1] === "\n")) {
      if (c === "\r") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
    i++;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

async function ingestBytes(bytes: Uint8Array) {
  const tmp = await Deno.makeTempFile({ suffix: ".dat" });
  try {
    await Deno.writeFile(tmp, bytes);
    return await ingestToMemory(tmp);
  } finally {
    await Deno.remove(tmp);
  }
}

Deno.test("security: hostile comm and device names come out of query CSV and JSON exactly", async () => {
  const { bytes, rows } = hostileTrace();
  const ing = await ingestBytes(bytes);
  const engine = await openDuckDBWasm();
  try {
    await loadStreams(engine, ing.streams);
    const sql = "SELECT pid, comm, device FROM iommu.add_device_to_group ORDER BY ts";
    const csv = parseCSV(await engine.queryCSV(sql));
    deepStrictEqual(csv[0], ["pid", "comm", "device"]);
    deepStrictEqual(
      csv.slice(1),
      rows.map((r) => [String(r.pid), r.comm, r.device]),
    );
    const json = JSON.parse(await engine.queryJSON(sql)) as unknown[];
    deepStrictEqual(json, rows);
    // The very strings the CSV must quote are there, quoted.
    const raw = await engine.queryCSV(
      "SELECT device FROM iommu.add_device_to_group WHERE device LIKE '%,%' ORDER BY ts LIMIT 1",
    );
    equal(raw, 'device\n"""quoted"",""comma"","\n');
  } finally {
    await engine.close();
  }
});

Deno.test("security: the HTML report shows hostile names escaped, never as markup", async () => {
  const { bytes, rows } = hostileTrace();
  const ing = await ingestBytes(bytes);
  const engine = await openDuckDBWasm();
  let html: string;
  try {
    await loadStreams(engine, ing.streams);
    const r = await engine.query(
      "SELECT comm, device FROM iommu.add_device_to_group ORDER BY ts",
    );
    equal(r.rows.length, rows.length);
    html = buildReport({
      title: "<script>alert('title')</script>",
      notes: ["note </p><script>alert(2)</script>"],
      summaryTables: [{ title: "devices <b>", columns: ["comm", "<device>"], rows: r.rows }],
      charts: [{
        title: "chart",
        spec: {
          data: { values: r.rows.map(([comm, device]) => ({ comm, device, n: 1 })) },
          mark: "bar",
          encoding: {
            x: { field: "device", type: "nominal" },
            y: { field: "n", type: "quantitative" },
          },
        },
      }],
    });
  } finally {
    await engine.close();
  }
  for (
    const s of [
      "<script>alert(1)</script>",
      "<img src=x onerror=alert(1)>",
      "alert('title')</script>",
      "<b>",
      "<device>",
    ]
  ) {
    ok(!html.includes(s), `raw ${s} in the report`);
  }
  ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  ok(html.includes("&lt;device&gt;"));
  // The chart data travels in a JSON script block: no "</script" or "<!--" can end it early.
  const blocks = [...html.matchAll(/<script type="application\/json"[^>]*>([\s\S]*?)<\/script>/g)];
  ok(blocks.length > 0);
  for (const b of blocks) {
    ok(!/<\/?script|<!--/i.test(b[1]!));
    const specs = JSON.parse(b[1]!) as { data: { values: { device: string }[] } }[];
    deepStrictEqual(specs[0]!.data.values.map((v) => v.device), rows.map((x) => x.device));
  }
  // No raw control characters but newline and tab anywhere in the page.
  // deno-lint-ignore no-control-regex
  ok(!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(html));
});

Deno.test("security: hostile text in kernel trace lines reaches the tables as data", async () => {
  const lines = [
    "# tracer: nop",
    "#",
    '   <script>x</sc-42      [000] .....   100.000001: add_device_to_group: IOMMU: groupID=1 device="><img src=x>',
    '  a,b"c;DROP-43      [001] .....   100.000002: add_device_to_group: IOMMU: groupID=2 device=\u001b[31mred',
    "",
  ];
  const tmp = await Deno.makeTempFile({ suffix: ".txt" });
  try {
    await Deno.writeTextFile(tmp, lines.join("\n"));
    const ing = await ingestToMemory(tmp);
    const engine = await openDuckDBWasm();
    try {
      await loadStreams(engine, ing.streams);
      const j = JSON.parse(
        await engine.queryJSON(
          "SELECT pid, comm, gid, device FROM iommu.add_device_to_group ORDER BY ts",
        ),
      );
      deepStrictEqual(j, [
        { pid: 42, comm: "<script>x</sc", gid: 1, device: '"><img src=x>' },
        { pid: 43, comm: 'a,b"c;DROP', gid: 2, device: "\u001b[31mred" },
      ]);
    } finally {
      await engine.close();
    }
  } finally {
    await Deno.remove(tmp);
  }
});

Deno.test("security: error messages escape control characters taken from the input", async () => {
  // A trace.dat whose version text carries an ANSI escape and a newline.
  const v = new Uint8Array([
    0x17,
    0x08,
    0x44,
    ...ENC.encode("tracing"),
    ...ENC.encode("7\u001b[2J\n\0"),
    0,
    8,
  ]);
  const bytes = new Uint8Array(64);
  bytes.set(v);
  try {
    openTraceDat(memorySource(bytes, "evil\u001b]0;title\u0007.dat"));
    throw new Error("no error");
  } catch (e) {
    ok(e instanceof TraceError, String(e));
    equal(e.code, "unsupported_version");
    // deno-lint-ignore no-control-regex
    ok(!/[\u0000-\u001f\u007f]/.test(e.message), JSON.stringify(e.message));
    ok(e.message.includes("7\\x1b[2J\\x0a"), e.message);
    ok(e.message.startsWith("evil\\x1b]0;title\\x07.dat: "), e.message);
  }
  // Through ingest too: a compression name with control characters.
  const c = new Uint8Array(200);
  c.set([
    0x17,
    0x08,
    0x44,
    ...ENC.encode("tracing7\0"),
    0,
    8,
    0,
    16,
    0,
    0,
    ...ENC.encode("z\r\u009b31m\0v\0"),
  ]);
  const tmp = await Deno.makeTempFile();
  try {
    await Deno.writeFile(tmp, c);
    await ingestToMemory(tmp).then(() => {
      throw new Error("no error");
    }, (e) => {
      ok(e instanceof TraceError, String(e));
      equal(e.code, "unknown_compression");
      ok(e.message.includes("z\\x0d\\x9b31m"), e.message);
    });
  } finally {
    await Deno.remove(tmp);
  }
  equal(escapeControl("ok\ttab \u2028"), "ok\ttab \\u2028");
  equal(new UsageError("a\nb").message, "a\\x0ab");
});

/** Source text with comments removed (line comments after whitespace, block comments, JSDoc). */
function codeOnly(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .split("\n")
    .map((l) => (/^\s*\/\//.test(l) ? "" : l.replace(/\s\/\/.*$/, "")))
    .join("\n");
}

Deno.test("security: no source file calls eval or builds functions from text", () => {
  const offenders: string[] = [];
  let files = 0;
  const skip = new Set([".git", "node_modules", "out", ".deno"]);
  const walk = (dir: URL, rel: string) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) {
        if (!skip.has(e.name) && `${rel}${e.name}` !== "bench/out") {
          walk(new URL(`${e.name}/`, dir), `${rel}${e.name}/`);
        }
      } else if (e.isFile && /\.(ts|tsx|js|mjs|cjs)$/.test(e.name)) {
        files++;
        const code = codeOnly(Deno.readTextFileSync(new URL(e.name, dir)));
        code.split("\n").forEach((l, i) => {
          if (/\beval\s*\(|\bnew\s+Function\b|(^|[^.\w])Function\s*\(/.test(l)) {
            offenders.push(`${rel}${e.name}:${i + 1}: ${l.trim()}`);
          }
        });
      }
    }
  };
  walk(ROOT, "");
  ok(files > 100, `scanned ${files} files`);
  deepStrictEqual(offenders, []);
  // The scan itself finds what it looks for.
  const call = ["ev", "al('1')"].join("");
  ok(/\beval\s*\(/.test(codeOnly(`const x = ${call};`)));
  equal(codeOnly(`// ${call}\n/* ${call} */ ok();`).trim(), "ok();");
});

Deno.test("security: topology files reject unknown and prototype keys and bad values", () => {
  const base = {
    format: "iommu-replay-topology/1",
    iommus: [{ name: "dmar0", vendor: "intel" }],
    devices: [{ name: "0000:00:02.0", iommu: "dmar0" }],
  };
  const bad = (doc: string, msg: string | RegExp) =>
    throws(() => parseTopology(doc, "t.json"), (e: unknown) => {
      ok(e instanceof UsageError, String(e));
      if (typeof msg === "string") equal(e.message, msg);
      else ok(msg.test(e.message), e.message);
      return true;
    });
  bad(
    JSON.stringify({ ...base, extra: 1 }),
    "t.json: $.extra: unknown key (allowed: format, kernel, note, iommus, devices, bindings)",
  );
  bad(
    '{"format":"iommu-replay-topology/1","iommus":[],"devices":[],"__proto__":{"bindings":[]}}',
    "t.json: $.__proto__: unknown key (allowed: format, kernel, note, iommus, devices, bindings)",
  );
  bad(
    JSON.stringify({ ...base, iommus: [{ name: "dmar0", constructor: "x" }] }),
    "t.json: $.iommus[0].constructor: unknown key (allowed: name, vendor)",
  );
  bad(
    JSON.stringify({ ...base, devices: [{ name: "0000:00:02.0", qdep: 1e308 }] }),
    "t.json: $.devices[0].qdep: must be an integer 1..32 or null",
  );
  bad(
    JSON.stringify({ ...base, devices: [{ name: "x", sid: -1 }] }),
    "t.json: $.devices[0].sid: must be an integer 0..65535 or null",
  );
  bad(
    JSON.stringify({ ...base, iommus: [{ name: "<script>\n", vendor: "evil\u001b[0m" }] }),
    "t.json: $.iommus[0].vendor: must be one of intel, arm-smmuv3, amd, unknown",
  );
  bad(
    JSON.stringify({ ...base, devices: [{ name: "0000:00:02.0", iommu: "dmar9\u001b[2J" }] }),
    't.json: $.devices[0].iommu: IOMMU "dmar9\\x1b[2J" is not listed in $.iommus',
  );
  bad(
    JSON.stringify({ ...base, bindings: [{ comm: "x".repeat(16), devices: ["0000:00:02.0"] }] }),
    "t.json: $.bindings[0].comm: is longer than 15 characters (TASK_COMM_LEN)",
  );
  bad("[1,2", /^t\.json: \$: not valid JSON \(.+\)$/);
  // deno-lint-ignore no-control-regex
  bad('{"format":"\u0001', /^t\.json: \$: not valid JSON \([^\u0000-\u001f]+\)$/);
  const long = parseTopology(
    JSON.stringify({ ...base, devices: [{ name: "n".repeat(100_000) }] }),
    "t.json",
  );
  equal(long.devices[0]!.name.length, 100_000);
});

Deno.test("security: probe mappings reject unknown and prototype keys, reserved names and bad values", () => {
  const probe = {
    kind: "mm_invalidate",
    type: "kprobe",
    function: "f",
    system: "g",
    event: "e",
    fetch: "mm=$arg1:x64 start=$arg2:x64 end=$arg3:x64",
    fields: { mm: "mm", start: "start", end: "end" },
  };
  const doc = (p: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ format: "iommu-replay-probes/1", name: "m", probes: [p], ...extra });
  const bad = (text: string, msg: string) =>
    throws(() => parseProbeMapping(text, "m.json"), (e: unknown) => {
      ok(e instanceof UsageError, String(e));
      equal(e.message, msg);
      return true;
    });
  bad(
    doc(probe, { extra: 1 }),
    "m.json: $.extra: unknown key (allowed: format, name, description, probes)",
  );
  bad(
    doc({ ...probe, toString: "x" }),
    "m.json: $.probes[0].toString: unknown key (allowed: kind, type, function, system, event, fetch, fields, where, prefix, kernels, doc)",
  );
  bad(
    doc({ ...probe, fields: { ...probe.fields, __proto__: "mm" } }).replace(
      '"fields":{',
      '"fields":{"__proto__":"mm",',
    ),
    "m.json: $.probes[0].fields.__proto__: role not used by kind mm_invalidate (roles: mm, start, end)",
  );
  bad(
    doc({ ...probe, fetch: "__proto__=$arg1 mm=$arg1 start=$arg2 end=$arg3" }),
    'm.json: $.probes[0].fetch: "__proto__" is reserved',
  );
  bad(
    doc({ ...probe, where: { mm: 2 ** 60 } }),
    "m.json: $.probes[0].where.mm: must be an integer or a string",
  );
  bad(
    doc({ ...probe, function: "f; rm -rf /" }),
    'm.json: $.probes[0].function: "f; rm -rf /" is not a kernel symbol name',
  );
  bad(
    doc({ ...probe, event: "e\n-:kprobes/x" }),
    'm.json: $.probes[0].event: "e\\n-:kprobes/x" is not an identifier',
  );
  bad(
    doc({ ...probe, type: "uprobe", function: "relative:0x10" }),
    'm.json: $.probes[0].function: "relative:0x10" is not an absolute PATH:OFFSET',
  );
});
