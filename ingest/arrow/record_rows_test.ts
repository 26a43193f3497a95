import assert from "node:assert/strict";
import { parseFormatFile } from "../format/format_file.ts";
import type { EventFormat } from "../format/types.ts";
import { type EventTable, RawTables } from "./raw_tables.ts";
import { RecordRows } from "./record_rows.ts";
import { batchText } from "./testdata/batch_text.ts";

/**
 * `addRecordRows` (column by column) must write the same bytes as `tsPushSplit` + `addRecord`
 * (row by row): batch boundaries, short records, strings, lists, several tables and the index.
 */

const COMMON = `\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;
`;

const INTS = parseFormatFile(
  `name: ints\nID: 1\nformat:\n${COMMON}
\tfield:unsigned long a;\toffset:8;\tsize:8;\tsigned:0;
\tfield:int b;\toffset:16;\tsize:4;\tsigned:1;
\tfield:unsigned short c;\toffset:20;\tsize:2;\tsigned:0;
\tfield:char d;\toffset:22;\tsize:1;\tsigned:1;
\tfield:long e;\toffset:24;\tsize:8;\tsigned:1;

print fmt: "a=%lu", REC->a
`,
  "demo",
);

const MIXED = parseFormatFile(
  `name: mixed\nID: 2\nformat:\n${COMMON}
\tfield:int x;\toffset:8;\tsize:4;\tsigned:1;
\tfield:__data_loc char[] name;\toffset:12;\tsize:4;\tsigned:0;
\tfield:unsigned int v[2];\toffset:16;\tsize:8;\tsigned:0;

print fmt: "x=%d", REC->x
`,
  "demo",
);

/** A deterministic pseudo-random sequence. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

interface Row {
  f: EventFormat;
  hi: number;
  lo: number;
  cpu: number;
  pid: number;
  key: number;
  comm: string;
  start: number;
  len: number;
}

/** Records in one buffer and the rows that point at them. */
function makeRows(n: number, seed: number): { bytes: Uint8Array; rows: Row[] } {
  const r = rng(seed);
  const bytes = new Uint8Array(n * 48);
  for (let i = 0; i < bytes.length; i++) bytes[i] = r() & 0xff;
  const v = new DataView(bytes.buffer);
  const rows: Row[] = [];
  const comms = ["bash", "ls", ":42", "swapper", "kworker/0:1"];
  for (let i = 0; i < n; i++) {
    // The second table first shows up after a few batches of the index.
    const f = i >= 20 && r() % 3 === 0 ? MIXED : INTS;
    const start = i * 48;
    // Mostly whole records; some cut short (nulls, flags past the end).
    const cut = r() % 10 === 0;
    const len = cut ? r() % 32 : 32 + (r() % 16);
    if (f === MIXED) v.setUint32(start + 12, ((r() % 8) << 16) | (24 + (r() % 8)), true);
    const k = r() % comms.length;
    rows.push({
      f,
      hi: r() % 4,
      lo: r(),
      cpu: r() % 3,
      pid: (r() % 1000) - 1,
      key: k + (r() % 2) * 1000,
      comm: comms[k]!,
      start,
      len,
    });
  }
  return { bytes, rows };
}

function collect(batchRows: number): { rt: RawTables; out: Map<string, Uint8Array[]> } {
  const out = new Map<string, Uint8Array[]>();
  const rt = new RawTables({
    write(s, t, ipc) {
      const k = `${s}.${t}`;
      out.set(k, [...(out.get(k) ?? []), ipc.slice()]);
    },
  }, { batchRows });
  return { rt, out };
}

Deno.test("addRecordRows: the same IPC bytes as addRecord row by row", () => {
  for (const [seed, batchRows, block] of [[1, 7, 5], [2, 64, 100], [3, 65536, 16384], [4, 3, 1]]) {
    const { bytes, rows } = makeRows(700, seed!);
    const view = new DataView(bytes.buffer);

    const a = collect(batchRows!);
    const ta = new Map<EventFormat, EventTable>();
    for (const x of rows) {
      let t = ta.get(x.f);
      if (!t) ta.set(x.f, t = a.rt.tableForFormat(x.f, true));
      a.rt.tsPushSplit(t, x.hi, x.lo, 0);
      a.rt.addRecord(
        t,
        x.cpu,
        x.pid,
        () => x.comm,
        2 < x.len ? bytes[x.start + 2]! : 0,
        3 < x.len ? bytes[x.start + 3]! : 0,
        0,
        "",
        view,
        bytes,
        x.start,
        x.len,
        x.key,
      );
    }
    a.rt.finish();

    const b = collect(batchRows!);
    const tb = new Map<EventFormat, EventTable>();
    const rr = new RecordRows(block);
    for (const x of rows) {
      let t = tb.get(x.f);
      if (!t) {
        b.rt.addRecordRows(rr);
        tb.set(x.f, t = b.rt.tableForFormat(x.f, true));
      }
      const buf = rr.bufferOf(view, bytes);
      rr.push(t.ordinal, x.hi, x.lo, x.cpu, x.pid, x.key, x.comm, buf, x.start, x.len);
      if (rr.length === rr.capacity) b.rt.addRecordRows(rr);
    }
    b.rt.addRecordRows(rr);
    b.rt.finish();

    assert.deepStrictEqual([...b.out.keys()].sort(), [...a.out.keys()].sort());
    for (const [k, v] of a.out) {
      const w = b.out.get(k)!;
      assert.equal(w.length, v.length, `seed ${seed}: ${k}: batches`);
      // Buffer by buffer: the bytes differ only in dictionary ids (Arrow numbers dictionary
      // types in the order a process makes them; here the second tables are made later).
      v.forEach((x, i) => assert.equal(batchText(w[i]!), batchText(x), `seed ${seed}: ${k}: ${i}`));
    }
    for (const t of a.rt.all) {
      assert.equal(b.rt.all[t.ordinal]!.builder.rows, t.builder.rows);
      assert.equal(b.rt.all[t.ordinal]!.builder.written, t.builder.written);
    }
  }
});

Deno.test("RecordRows: buffers are listed once; clear forgets them", () => {
  const rr = new RecordRows(4);
  const a = new Uint8Array(8), b = new Uint8Array(8);
  const va = new DataView(a.buffer), vb = new DataView(b.buffer);
  assert.equal(rr.bufferOf(va, a), 0);
  assert.equal(rr.bufferOf(vb, b), 1);
  assert.equal(rr.bufferOf(va, a), 0);
  rr.push(0, 0, 1, 0, 0, 0, "x", 1, 0, 8);
  assert.equal(rr.length, 1);
  rr.clear();
  assert.equal(rr.length, 0);
  assert.equal(rr.views.length, 0);
  assert.equal(rr.bufferOf(vb, b), 0);
});
