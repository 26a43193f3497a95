import assert from "node:assert/strict";
import {
  formatTraceTime,
  ftraceLine,
  kernelLatencyFlags,
  renderFtraceText,
} from "./ftrace_text_writer.ts";
import type { FieldValue, TraceEvent } from "../core/event.ts";

function ev(
  ts: bigint,
  cpu: number,
  pid: number,
  comm: string,
  system: string,
  event: string,
  flags: number,
  pc: number,
  fields: Record<string, FieldValue> = {},
): TraceEvent {
  return { ts, cpu, pid, comm, system, event, buffer: "", flags, preempt_count: pc, fields };
}

// Expected text: the layout of a 6.18 kernel's trace file (header and lines as recorded in
// the project's shared fixtures, text/default.txt and siblings).
const HEADER = `# tracer: nop
#
# entries-in-buffer/entries-written: 3/3   #P:2
#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
`;

const PAYLOADS: Record<string, string> = {
  tlb_flush: "pages:-1 reason:local MM shootdown (3)",
  sched_process_fork: "comm=gen.sh pid=9396 child_comm=gen.sh child_pid=9397",
};

Deno.test("default trace file: header block, flags, rounded microseconds, syscall style", () => {
  const events = [
    ev(383902530400n, 1, 9396, "gen.sh", "sched", "sched_process_fork", 0, 0),
    ev(383902510600n, 1, 9396, "gen.sh", "tlb", "tlb_flush", 0x01, 0x01),
    ev(383903319501n, 0, 9397, "python3", "syscalls", "sys_enter_munmap", 0, 0, {
      __syscall_nr: 11,
      addr: 0x7f5f00038000n,
      len: 0x8c5fn,
    }),
  ];
  const text = renderFtraceText(events, { cpus: 2, renderPayload: (e) => PAYLOADS[e.event]! });
  assert.equal(
    text,
    HEADER +
      "          gen.sh-9396    [001] d..1.   383.902511: tlb_flush: pages:-1 reason:local MM shootdown (3)\n" +
      "          gen.sh-9396    [001] .....   383.902530: sched_process_fork: comm=gen.sh pid=9396 child_comm=gen.sh child_pid=9397\n" +
      "         python3-9397    [000] .....   383.903320: sys_munmap(addr: 0x7f5f00038000, len: 0x8c5f)\n",
  );
});

Deno.test("noirq-info, record-tgid and non-ns clock variants", () => {
  const e = ev(385550290000n, 0, 9785, "gen.sh", "tlb", "tlb_flush", 0x01, 0x02);
  const p = { renderPayload: () => "pages:-1 reason:local MM shootdown (3)" };
  assert.equal(
    ftraceLine(e, { cpus: 2, irqInfo: false, ...p }),
    "          gen.sh-9785    [000]    385.550290: tlb_flush: pages:-1 reason:local MM shootdown (3)",
  );
  assert.equal(
    ftraceLine({ ...e, pid: 9440, ts: 384094258000n, cpu: 1 }, {
      cpus: 2,
      tgid: new Map([[9440, 9440]]),
      ...p,
    }),
    "          gen.sh-9440    (   9440) [001] d..2.   384.094258: tlb_flush: pages:-1 reason:local MM shootdown (3)",
  );
  assert.equal(
    ftraceLine({ ...e, comm: "mkdir", pid: 9536, ts: 2n }, { cpus: 2, clockInNs: false, ...p }),
    "           mkdir-9536    [000] d..2.            2: tlb_flush: pages:-1 reason:local MM shootdown (3)",
  );
  const noirq = renderFtraceText([], { cpus: 2, irqInfo: false });
  assert.ok(noirq.endsWith(
    "#           TASK-PID     CPU#     TIMESTAMP  FUNCTION\n" +
      "#              | |         |         |         |\n",
  ));
  const tgid = renderFtraceText([], { cpus: 2, tgid: new Map() });
  assert.ok(
    tgid.includes("#                                          _-----=> irqs-off/BH-disabled\n"),
  );
  assert.ok(tgid.includes("#           TASK-PID       TGID    CPU#  |||||  TIMESTAMP  FUNCTION\n"));
});

Deno.test("flags column follows trace_print_lat_fmt", () => {
  const cases: [number, number, string][] = [
    [0x00, 0x00, "....."],
    [0x81, 0x00, "D...."],
    [0x80, 0x00, "b...."],
    [0x02, 0x00, "X...."],
    [0x24, 0x00, ".N..."],
    [0x20, 0x00, ".p..."],
    [0x48, 0x00, "..Z.."],
    [0x40, 0x00, "..z.."],
    [0x18, 0x3f, "..Hf3"],
    [0x10, 0x10, "..s.1"],
  ];
  for (const [f, pc, want] of cases) assert.equal(kernelLatencyFlags(f, pc), want, `${f}/${pc}`);
  assert.equal(kernelLatencyFlags(0x26, 0, true), ".B...");
  assert.equal(kernelLatencyFlags(0x22, 0, true), ".L...");
  assert.equal(kernelLatencyFlags(0x02, 0, true), ".l...");
});

Deno.test("time rounds to the nearest microsecond like ns2usecs", () => {
  assert.equal(formatTraceTime(383902510500n), "  383.902511");
  assert.equal(formatTraceTime(383902510499n), "  383.902510");
  assert.equal(formatTraceTime(999999500n), "    1.000000");
  assert.equal(formatTraceTime(123456789012345678n), "123456789.012346");
});

Deno.test("ordering across CPUs, idle and unknown comms, lost events, syscall exit", () => {
  const text = renderFtraceText([
    ev(20n, 1, 0, "swapper/1", "tlb", "tlb_flush", 0, 0, { reason: 0, pages: 1 }),
    ev(20n, 0, 5, "", "tlb", "tlb_flush", 0, 0, { reason: 1, pages: 2 }),
    ev(30n, 0, 5, "a", "syscalls", "sys_exit_munmap", 0, 0, { __syscall_nr: 11, ret: -12 }),
    { ...ev(40n, 0, 5, "a", "tlb", "tlb_flush", 0, 0), buffer: "other" },
  ], { cpus: 2, lost: [{ cpu: 0, ts: 25n, count: 7 }] });
  const lines = text.split("\n").filter((l) => !l.startsWith("#") && l !== "");
  assert.deepEqual(lines, [
    "           <...>-5       [000] .....     0.000000: tlb_flush: reason=1 pages=2",
    "          <idle>-0       [001] .....     0.000000: tlb_flush: reason=0 pages=1",
    "CPU:0 [LOST 7 EVENTS]",
    "               a-5       [000] .....     0.000000: sys_munmap -> 0xfffffffffffffff4",
  ]);
  assert.match(text, /entries-written: 3\/3 /);
});
