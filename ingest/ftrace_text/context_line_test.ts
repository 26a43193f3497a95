import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  emptyContext,
  type LineContext,
  parseDefaultContext,
  parseLatencyContext,
  parseRawContext,
  parseVerboseContext,
} from "./context_line.ts";

function pick(c: LineContext) {
  return {
    comm: c.comm,
    pid: c.pid,
    tgid: c.tgid,
    cpu: c.cpu,
    flags: c.flagsText,
    ts: c.ts,
    ns: c.tsIsNs,
    digits: c.tsDigits,
    rel: c.tsRelative,
    body: c.body,
  };
}

function parse(fn: (l: string, c: LineContext) => boolean, line: string) {
  const c = emptyContext();
  return fn(line, c) ? pick(c) : null;
}

Deno.test("context: kernel default line with flags, tgid and comm oddities", () => {
  assertEquals(
    parse(
      parseDefaultContext,
      "          gen.sh-9396    [001] d..1.   383.902511: tlb_flush: pages:-1",
    ),
    {
      comm: "gen.sh",
      pid: 9396,
      tgid: null,
      cpu: 1,
      flags: "d..1.",
      ts: 383902511000n,
      ns: true,
      digits: 6,
      rel: false,
      body: "tlb_flush: pages:-1",
    },
  );
  const t = parse(
    parseDefaultContext,
    "          gen.sh-9440    (   9440) [001] d..1.   384.094258: tlb_flush: x",
  )!;
  assertEquals([t.pid, t.tgid, t.cpu], [9440, 9440, 1]);
  const u = parse(
    parseDefaultContext,
    "           <...>-12    (-------) [000] ..... 1.000001: e: x",
  )!;
  assertEquals([u.comm, u.pid, u.tgid], ["<...>", 12, null]);
  // Comms with dashes, digits and spaces: the pid is the last -digits before the CPU.
  const d = parse(parseDefaultContext, " kworker/u8:0-12-1234  [003] .... 5.000000: e: x")!;
  assertEquals([d.comm, d.pid, d.cpu, d.flags], ["kworker/u8:0-12", 1234, 3, "...."]);
  const s = parse(parseDefaultContext, "     Web Content-2711  [003] d...  26186.336632: e: x")!;
  assertEquals([s.comm, s.pid], ["Web Content", 2711]);
});

Deno.test("context: no flags, raw clock counts, glued and ns timestamps, ts-diff", () => {
  const n = parse(parseDefaultContext, "  gen.sh-9785    [000]    385.550290: tlb_flush: x")!;
  assertEquals([n.flags, n.ts], [null, 385550290000n]);
  const c = parse(parseDefaultContext, "  mkdir-9536    [000] d..2.            2: tlb_flush: x")!;
  assertEquals([c.flags, c.ts, c.ns], ["d..2.", 2n, false]);
  const g = parse(
    parseDefaultContext,
    "  bash-9273  [000]1795265353965432905: sched_process_exec: a",
  )!;
  assertEquals([g.ts, g.ns, g.body], [1795265353965432905n, false, "sched_process_exec: a"]);
  const ns = parse(
    parseDefaultContext,
    "  trace-cmd-7373  [000]   250.672887703: tlb_flush:    p=1",
  )!;
  assertEquals([ns.ts, ns.digits, ns.body], [250672887703n, 9, "tlb_flush:    p=1"]);
  const df = parse(parseDefaultContext, "  t-7373  [000]   250.672898: (+10)    tlb_flush:   p=1")!;
  assertEquals(df.body, "tlb_flush:   p=1");
  // trace-cmd 3.3+ prints flags in reports too.
  const r = parse(
    parseDefaultContext,
    "       trace-cmd-7373  [000] d..2.   250.672888: tlb_flush: x",
  )!;
  assertEquals([r.flags, r.ts], ["d..2.", 250672888000n]);
});

Deno.test("context: latency shapes (kernel relative µs, trace-cmd -l absolute)", () => {
  const k = parse(parseLatencyContext, "  <idle>-0         1d.h1. 17618us+: tlb_flush: pages:0")!;
  assertEquals([k.comm, k.pid, k.cpu, k.flags, k.ts, k.rel], [
    "<idle>",
    0,
    1,
    "d.h1.",
    17618000n,
    true,
  ]);
  const big = parse(parseLatencyContext, "    true-9526      1d..2. 109359us+: e: x")!;
  assertEquals(big.ts, 109359000n);
  const r = parse(parseLatencyContext, "trace-cm-7373    0d..2.   250.672888: tlb_flush:   p=1")!;
  assertEquals([r.comm, r.pid, r.cpu, r.flags, r.ts, r.rel], [
    "trace-cm",
    7373,
    0,
    "d..2.",
    250672888000n,
    false,
  ]);
  // Not a latency line.
  assertEquals(
    parse(parseLatencyContext, "     gen.sh-9396    [001] d..1.   383.902511: e: x"),
    null,
  );
});

Deno.test("context: verbose latency, raw and hex options", () => {
  const v = emptyContext();
  const line =
    "          gen.sh    9873   1 0 00000000 00000001 [170075fe] 17.586ms (+0.008ms): sched_process_fork: a";
  assertEquals(parseVerboseContext(line, v), true);
  assertEquals([v.comm, v.pid, v.cpu, v.flagsNum, v.preemptNum], ["gen.sh", 9873, 1, 0, 0]);
  assertEquals([v.ts, v.body], [0x170075fen * 1000n, "sched_process_fork: a"]);
  const raw = emptyContext();
  assertEquals(parseRawContext("9698 0 385174634644 type: 365", raw), true);
  assertEquals([raw.shape, raw.pid, raw.cpu, raw.ts, raw.body], [
    "raw",
    9698,
    0,
    385174634644n,
    "type: 365",
  ]);
  const hex = emptyContext();
  assertEquals(parseRawContext("00000000 00000000 00000059b9dbde9a type: 188", hex), true);
  assertEquals([hex.shape, hex.pid, hex.cpu, hex.ts], ["hex", 0, 0, 0x59b9dbde9an]);
});

Deno.test("context: garbage is not a context", () => {
  for (
    const l of [
      "",
      "hello world",
      "foo-12 [abc] 1.0: x",
      "foo-12 [001] d..1. notatime: x",
      "foo-12 [001] d..1. 1.0000000001: x",
      "x".repeat(10000),
      "\u0000\u0001\u0002-3 [001] .... 1.5",
    ]
  ) {
    assertEquals(parse(parseDefaultContext, l), null, l.slice(0, 40));
    assertEquals(parse(parseLatencyContext, l), null, l.slice(0, 40));
    assertEquals(parse(parseVerboseContext, l), null, l.slice(0, 40));
    assertEquals(parse(parseRawContext, l), null, l.slice(0, 40));
  }
});
