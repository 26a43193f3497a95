/**
 * The command name of each thread over time, from COMM and FORK records, the way `perf script`
 * shows it: a thread's comm is the last one set before the sample (records are applied in time
 * order); a forked thread starts with its parent's comm when the parent has one; a thread never
 * named shows as `:<tid>`; tid 0 is `swapper`.
 *
 * @module
 */

/** A thread's state. */
export interface PerfThread {
  /** Process id (-1 when not known yet). */
  pid: number;
  /** null until a COMM record (or a fork from a named parent) sets it. */
  comm: string | null;
  /** What `perf script` prints: `comm`, or `:<tid>` when unset. */
  name: string;
  /** A number unique to this thread and name (changes when the name changes). */
  key: number;
}

/**
 * Thread comm state.
 *
 * @example
 * ```ts
 * import { CommTracker } from "./comm_tracker.ts";
 * const c = new CommTracker();
 * c.comm(10, 10, "bash", false);
 * c.fork(11, 10, 11, 10);
 * console.assert(c.lookup(11, 11) === "bash" && c.lookup(12, 12) === ":12");
 * c.comm(11, 11, "ls", true);
 * console.assert(c.lookup(11, 11) === "ls" && c.lookup(0, 0) === "swapper");
 * ```
 */
export class CommTracker {
  private threads = new Map<number, PerfThread>();
  private nextKey = 1;
  /**
   * Threads looked up lately, by `tid & 63` (direct mapped): samples of a few threads on
   * different CPUs alternate, which a one-entry cache misses. `-2` marks an empty slot.
   */
  private readonly recentTid = new Int32Array(64).fill(-2);
  private readonly recent: (PerfThread | undefined)[] = new Array(64);
  /** COMM records applied. */
  comms = 0;
  /** FORK records applied. */
  forks = 0;

  /** Starts with the idle thread, tid 0, named `swapper`. */
  constructor() {
    this.threads.set(0, { pid: 0, comm: "swapper", name: "swapper", key: 0 });
  }

  /** Creates (or replaces) the thread of `tid`. */
  private make(pid: number, tid: number, comm: string | null): PerfThread {
    const t = { pid, comm, name: comm ?? `:${tid}`, key: this.nextKey++ };
    this.threads.set(tid, t);
    if (this.recentTid[tid & 63] === tid) this.recentTid[tid & 63] = -2;
    return t;
  }

  /**
   * The thread of `tid`, created (unnamed) when new, as perf's `machine__findnew_thread`.
   *
   * @param pid process id
   * @param tid thread id
   * @returns the thread
   */
  thread(pid: number, tid: number): PerfThread {
    const slot = tid & 63;
    if (this.recentTid[slot] === tid) {
      const c = this.recent[slot]!;
      if (c.pid === pid || pid === -1) return c;
    }
    const t = this.threads.get(tid);
    const r = t ?? this.make(pid, tid, null);
    if (r.pid === -1 && pid !== -1) r.pid = pid;
    this.recentTid[slot] = tid;
    this.recent[slot] = r;
    return r;
  }

  /**
   * Applies a COMM record.
   *
   * @param pid process id
   * @param tid thread id
   * @param comm the new name
   * @param exec whether the record came from exec (same effect on the name)
   */
  comm(pid: number, tid: number, comm: string, exec: boolean): void {
    void exec;
    this.comms++;
    const t = this.thread(pid, tid);
    if (t.comm === comm) return;
    t.comm = comm;
    t.name = comm;
    t.key = this.nextKey++;
  }

  /**
   * Applies a FORK record: the child thread is (re)created and named after its parent.
   *
   * @param pid child pid
   * @param ppid parent pid
   * @param tid child tid
   * @param ptid parent tid
   */
  fork(pid: number, ppid: number, tid: number, ptid: number): void {
    this.forks++;
    let parent = this.threads.get(ptid);
    // A thread under the parent's tid that belongs to another process is stale: start afresh.
    if (parent && parent.pid !== -1 && parent.pid !== ppid) parent = undefined;
    if (!parent) parent = this.make(ppid, ptid, null);
    this.make(pid, tid, parent.comm);
  }

  /**
   * The comm to show for a sample of `pid`/`tid` (creates the thread, unnamed, when new).
   *
   * @param pid process id
   * @param tid thread id
   * @returns the name, or `:<tid>` when none was ever set
   */
  lookup(pid: number, tid: number): string {
    return this.thread(pid, tid).name;
  }
}
