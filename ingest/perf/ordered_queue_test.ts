import { deepStrictEqual, equal } from "node:assert/strict";
import { OrderedQueue } from "./ordered_queue.ts";

function drain(q: OrderedQueue<number>, f: "round" | "flush"): number[] {
  const out: number[] = [];
  q[f]((x) => out.push(x));
  return out;
}

Deno.test("OrderedQueue: merges per-CPU runs and keeps arrival order for equal times", () => {
  const q = new OrderedQueue<number>();
  // two "CPUs", each sorted: (time, id)
  for (const [t, id] of [[1, 10], [4, 11], [4, 12], [9, 13], [2, 20], [4, 21], [8, 22]]) {
    q.push(0, t!, id!);
  }
  deepStrictEqual(drain(q, "round"), []); // limit 0 at the first round
  deepStrictEqual(drain(q, "round"), [10, 20, 11, 12, 21, 22, 13]);
  equal(q.size, 0);
});

Deno.test("OrderedQueue: compares the high word first", () => {
  const q = new OrderedQueue<string>();
  q.push(1, 0, "b");
  q.push(0, 0xffffffff, "a");
  q.push(2, 5, "c");
  const out: string[] = [];
  q.flush((x) => out.push(x));
  deepStrictEqual(out, ["a", "b", "c"]);
});

Deno.test("OrderedQueue: many runs fall back to a full sort", () => {
  const q = new OrderedQueue<number>();
  const times = Array.from({ length: 200 }, (_, i) => (i * 7919) % 200);
  times.forEach((t, i) => q.push(0, t, i));
  const out: number[] = [];
  q.flush((i) => out.push(times[i]!));
  deepStrictEqual(out, [...times].sort((a, b) => a - b));
});

Deno.test("OrderedQueue: the cap delivers the older half", () => {
  const q = new OrderedQueue<number>(4);
  const out: number[] = [];
  for (const t of [5, 3, 4, 1]) q.push(0, t, t, (x) => out.push(x));
  deepStrictEqual(out, [1, 3]);
  equal(q.forcedFlushes, 1);
  q.flush((x) => out.push(x));
  deepStrictEqual(out, [1, 3, 4, 5]);
});
