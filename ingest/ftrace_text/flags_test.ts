import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { decodeFlags, layoutFromLegend } from "./flags.ts";

const F = (text: string, tep = false) => decodeFlags(text, undefined, tep);

Deno.test("flags: the kernel's five columns", () => {
  assertEquals(F("....."), { flags: 0, preempt: 0 });
  assertEquals(F("d..1."), { flags: 0x01, preempt: 0x01 });
  assertEquals(F("D...."), { flags: 0x81, preempt: 0 });
  assertEquals(F("b...."), { flags: 0x80, preempt: 0 });
  assertEquals(F("X...."), { flags: 0x02, preempt: 0 });
  // need-resched column (6.13+ table)
  assertEquals(F(".N..."), { flags: 0x24, preempt: 0 });
  assertEquals(F(".n..."), { flags: 0x04, preempt: 0 });
  assertEquals(F(".p..."), { flags: 0x20, preempt: 0 });
  assertEquals(F(".B..."), { flags: 0x26, preempt: 0 });
  assertEquals(F(".L..."), { flags: 0x22, preempt: 0 });
  assertEquals(F(".b..."), { flags: 0x06, preempt: 0 });
  assertEquals(F(".l..."), { flags: 0x02, preempt: 0 });
  // hardirq/softirq/NMI column
  assertEquals(F("..Z.."), { flags: 0x48, preempt: 0 });
  assertEquals(F("..z.."), { flags: 0x40, preempt: 0 });
  assertEquals(F("..H.."), { flags: 0x18, preempt: 0 });
  assertEquals(F("..h.."), { flags: 0x08, preempt: 0 });
  assertEquals(F("..s.."), { flags: 0x10, preempt: 0 });
  // preempt depth (low nibble) and migrate-disable (high nibble), hex digits
  assertEquals(F("...f2"), { flags: 0, preempt: 0x2f });
  assertEquals(F("dNh21"), { flags: 0x2d, preempt: 0x12 });
});

Deno.test("flags: four columns of older kernels, seven of PREEMPT_RT", () => {
  assertEquals(F("d.H5"), { flags: 0x19, preempt: 5 });
  assertEquals(F("dNh2"), { flags: 0x2d, preempt: 2 });
  const rt = layoutFromLegend([
    "CPU#",
    "irqs-off",
    "need-resched",
    "need-resched-lazy",
    "hardirq/softirq",
    "preempt-depth",
    "preempt-lazy-depth",
    "migrate-disable",
    "delay",
  ])!;
  assertEquals(rt.length, 7);
  assertEquals(decodeFlags("dnLh3.1", rt), { flags: 0x0f, preempt: 0x13 });
  // Width 7 without a legend: the same RT reading.
  assertEquals(F("d...2.."), { flags: 0x01, preempt: 2 });
});

Deno.test("flags: libtraceevent's N is need-resched alone", () => {
  assertEquals(F("dN.2.", true), { flags: 0x05, preempt: 2 });
  assertEquals(F("dN.2.", false), { flags: 0x25, preempt: 2 });
});

Deno.test("flags: characters that do not fit their column are rejected", () => {
  assertEquals(F("q...."), null);
  assertEquals(F(".x..."), null);
  assertEquals(F("..N.."), null);
  assertEquals(F("...g."), null);
  assertEquals(decodeFlags("d..", ["irqs", "resched"]), null);
});
