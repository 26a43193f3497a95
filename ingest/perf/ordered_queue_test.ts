import { deepStrictEqual, equal } from "node:assert/strict";
import { OrderedQueue } from "./ordered_queue.ts";

/** Collects the `a` number of each delivered record. */
function drain(q: OrderedQueue<string>, f: "round" | "flush"): number[] {
  const out: number[] = [];
  q[f]((_h, _l, _r, a) => out.push(a));
  return out;
}

Deno.test("OrderedQueue: merges per-CPU runs and keeps arrival order for equal times", () => {
  const q = new OrderedQueue<string>();
  // two "CPUs", each sorted: (time, id)
  for (const [t, id] of [[1, 10], [4, 11], [4, 12], [9, 13], [2, 20], [4, 21], [8, 22]]) {
    q.push(0, t!, "x", id!, 0, 0);
  }
  deepStrictEqual(drain(q, "round"), []); // limit 0 at the first round
  deepStrictEqual(drain(q, "round"), [10, 20, 11, 12, 21, 22, 13]);
  equal(q.size, 0);
});

Deno.test("OrderedQueue: compares the high word first and hands back every member", () => {
  const q = new OrderedQueue<string>();
  q.push(1, 0, "b", 1, 2, 3);
  q.push(0, 0xffffffff, "a", 4, 5, 6);
  q.push(2, 5, "c", -7, 8, 9);
  const out: string[] = [];
  q.flush((h, l, r, a, b, c) => out.push(`${h}:${l}:${r}:${a}:${b}:${c}`));
  deepStrictEqual(out, ["0:4294967295:a:4:5:6", "1:0:b:1:2:3", "2:5:c:-7:8:9"]);
});

Deno.test("OrderedQueue: many runs fall back to a full sort", () => {
  const q = new OrderedQueue<string>();
  const times = Array.from({ length: 200 }, (_, i) => (i * 7919) % 200);
  times.forEach((t, i) => q.push(0, t, "x", i, 0, 0));
  const out: number[] = [];
  q.flush((_h, _l, _r, i) => out.push(times[i]!));
  deepStrictEqual(out, [...times].sort((a, b) => a - b));
});

Deno.test("OrderedQueue: the cap delivers the older half", () => {
  const q = new OrderedQueue<string>(4);
  const out: number[] = [];
  const emit = (_h: number, lo: number) => out.push(lo);
  for (const t of [5, 3, 4, 1]) q.push(0, t, "x", 0, 0, 0, emit);
  deepStrictEqual(out, [1, 3]);
  equal(q.forcedFlushes, 1);
  q.flush(emit);
  deepStrictEqual(out, [1, 3, 4, 5]);
});

Deno.test("OrderedQueue: grows past its first capacity across rounds", () => {
  const q = new OrderedQueue<string>();
  for (let i = 0; i < 5000; i++) q.push(0, 5000 - i, "x", i, 0, 0);
  q.round(() => {});
  const out: number[] = [];
  q.flush((_h, lo) => out.push(lo));
  equal(out.length, 5000);
  equal(out[0], 1);
  equal(out[4999], 5000);
});
