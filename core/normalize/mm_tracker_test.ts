import assert from "node:assert/strict";
import { MmTracker } from "./mm_tracker.ts";

Deno.test("threads share, forks and execs get new mms", () => {
  const t = new MmTracker();
  const parent = t.of(100);
  t.newTask(100, 101, 0x3d0f00n); // CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|...
  t.newTask(100, 102, 0x1200011n); // SIGCHLD|CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID
  t.fork(100, 101); // already classified: ignored
  assert.equal(t.of(101), parent);
  assert.equal(t.of(102).id(), "pid:102");
  assert.equal(t.exec(102, 102).id(), "pid:102/exec1");
  assert.equal(t.exec(102, 102).id(), "pid:102/exec2");
  // a non-leader thread execs: it takes the leader's pid
  const m = t.exec(100, 101);
  assert.equal(m.id(), "pid:100/exec1");
  assert.equal(t.has(101), false);
  assert.equal(t.assumedForks, 0);
  t.fork(100, 103);
  assert.equal(t.assumedForks, 1);
  assert.equal(t.of(103).id(), "pid:103");
});

Deno.test("pointers: exit_mmap names the mm; a reused pointer gets #n; adoption by binders", () => {
  const t = new MmTracker();
  const a = t.of(1);
  assert.equal(t.exitMmap(1, "0xffff1", 10n), a);
  assert.equal(a.id(), "0xffff1");
  assert.equal(a.exitTs, 10n);
  // the same pointer later names a different mm
  const b = t.byPointer("0xffff1", 2, true);
  assert.notEqual(b, a);
  assert.equal(b.id(), "0xffff1#2");
  assert.equal(t.of(2), b);
  // a pointer already known is returned as is; adopt=false never renames the task's mm
  assert.equal(t.byPointer("0xffff1", 3, false), b);
  const c = t.byPointer("0xffff9", 3, false);
  assert.equal(c.id(), "0xffff9");
  assert.equal(t.of(3).id(), "pid:3");
  assert.equal(t.pointersLearned, 3);
});

Deno.test("pid reuse before the old task's sched_process_free", () => {
  const t = new MmTracker();
  t.of(50);
  t.newTask(1, 50, 0x11n); // pid 50 reused while the old task 50 is not freed yet
  assert.equal(t.of(50).id(), "pid:50~2");
  t.free(50); // the old task's late free: ignored
  assert.equal(t.of(50).id(), "pid:50~2");
  t.free(50);
  assert.equal(t.size, 0);
  assert.equal(t.of(50).id(), "pid:50~3");
});
