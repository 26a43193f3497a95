import { equal, notEqual } from "node:assert/strict";
import { CommTracker } from "./comm_tracker.ts";

Deno.test("CommTracker: unnamed threads show :tid, tid 0 is swapper", () => {
  const c = new CommTracker();
  equal(c.lookup(42, 43), ":43");
  equal(c.lookup(0, 0), "swapper");
});

Deno.test("CommTracker: a fork copies a named parent's comm only", () => {
  const c = new CommTracker();
  c.fork(11, 10, 11, 10); // parent 10 never named
  equal(c.lookup(11, 11), ":11");
  c.comm(10, 10, "bash", false);
  c.fork(12, 10, 12, 10);
  equal(c.lookup(12, 12), "bash");
});

Deno.test("CommTracker: a parent tid owned by another process is not the parent", () => {
  const c = new CommTracker();
  c.comm(7, 7, "old", false);
  c.fork(8, 99, 8, 7); // ppid 99 but tid 7 belongs to pid 7
  equal(c.lookup(8, 8), ":8");
});

Deno.test("CommTracker: keys change with the name and differ between threads", () => {
  const c = new CommTracker();
  const a = c.thread(5, 5);
  const k0 = a.key;
  c.comm(5, 5, "sh", false);
  const k1 = c.thread(5, 5).key;
  notEqual(k0, k1);
  c.comm(5, 5, "sh", true); // same name: same key
  equal(c.thread(5, 5).key, k1);
  notEqual(c.thread(6, 6).key, k1);
  c.comm(5, 5, "true", true);
  equal(c.lookup(5, 5), "true");
});

Deno.test("CommTracker: alternating and colliding threads keep their own names", () => {
  const c = new CommTracker();
  c.comm(5, 5, "a", false);
  c.comm(69, 69, "b", false); // same cache slot as 5
  c.comm(6, 6, "c", false);
  for (let i = 0; i < 3; i++) {
    equal(c.lookup(5, 5), "a");
    equal(c.lookup(69, 69), "b");
    equal(c.lookup(6, 6), "c");
  }
  const k = c.thread(5, 5).key;
  c.fork(5, 1, 5, 1); // tid 5 reused by a new process (parent 1 unnamed): replaced while cached
  equal(c.lookup(5, 5), ":5");
  notEqual(c.thread(5, 5).key, k);
  c.comm(69, 69, "b2", true);
  equal(c.lookup(69, 69), "b2");
  equal(c.lookup(6, 6), "c");
});
