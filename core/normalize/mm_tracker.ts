/**
 * Tracks which address space (mm) each task runs in, from the mm lifecycle tracepoints.
 *
 * Tracepoints expose an mm identity in only one place (`mmap:exit_mmap`'s `mm` pointer, at
 * teardown) and probes expose it where they fetch it. Everything else is derived from pids:
 *
 * - A task first seen without history runs in the mm `pid:<pid>`.
 * - `task:task_newtask` (emitted by the parent) with `CLONE_VM` (0x100) in `clone_flags`: the child
 *   shares the parent's mm (a thread, or vfork). Without `CLONE_VM`: a fork, the child gets the new
 *   mm `pid:<child>`.
 * - `sched:sched_process_fork` alone (no `task_newtask`): the child is assumed to be a fork.
 * - `sched:sched_process_exec`: the task gets a fresh mm `pid:<pid>/exec<n>` (n = 1, 2, ...).
 * - `mmap:exit_mmap` in a task's context names the task's current mm with its pointer (true
 *   unless another task dropped the last mm_users reference) and ends that mm; the pointer is
 *   forgotten so a reused pointer names a new mm (`0x...#2`).
 * - `sched:sched_process_free` drops the pid (state stays bounded by live tasks); a later task
 *   reusing that pid gets `pid:<pid>~2` (then `~3`, ...) so ids stay unique.
 *
 * Rows hold {@linkcode MmRef} objects; their final id (the pointer when learned, else the
 * synthetic id) is read when the tables are finished.
 *
 * @module
 */

/** One address space. */
export class MmRef {
  /** Synthetic id (`pid:<pid>`, `pid:<pid>/exec<n>`) or the pointer text when born from a pointer. */
  readonly synthetic: string;
  /** Pointer text (`0xffff...`, with `#n` when the pointer was reused), once learned. */
  ptr: string | null = null;
  /** Time of `exit_mmap`, once seen. */
  exitTs: bigint | null = null;

  /**
   * Creates an mm.
   *
   * @param synthetic the synthetic id
   */
  constructor(synthetic: string) {
    this.synthetic = synthetic;
  }

  /**
   * The id rows carry: the pointer when known, else the synthetic id.
   *
   * @returns the id
   */
  id(): string {
    return this.ptr ?? this.synthetic;
  }
}

/** `CLONE_VM` from `include/uapi/linux/sched.h`. */
export const CLONE_VM = 0x100n;

/**
 * pid -> mm bookkeeping.
 *
 * @example
 * ```ts
 * import { MmTracker } from "./mm_tracker.ts";
 * const t = new MmTracker();
 * t.newTask(100, 101, 0x3d0f00n); // a thread (CLONE_VM set)
 * console.assert(t.of(101) === t.of(100) && t.of(100).id() === "pid:100");
 * ```
 */
export class MmTracker {
  #byPid = new Map<number, MmRef>();
  #byPtr = new Map<string, MmRef>();
  #ptrUses = new Map<string, number>();
  #execs = new Map<number, number>();
  #classified = new Set<number>();
  #lives = new Map<number, number>();
  #staleFree = new Set<number>();
  /** Children seen only through sched_process_fork (thread vs fork undecidable). */
  assumedForks = 0;
  /** Pointers learned from exit_mmap or probes. */
  pointersLearned = 0;

  /**
   * The current mm of a pid (created as `pid:<pid>` on first use).
   *
   * @param pid task id
   * @returns its mm
   */
  of(pid: number): MmRef {
    let m = this.#byPid.get(pid);
    if (!m) {
      m = new MmRef(this.#base(pid));
      this.#byPid.set(pid, m);
    }
    return m;
  }

  /** A new task takes a pid whose previous owner's sched_process_free has not been seen yet. */
  #reuse(pid: number): void {
    if (!this.#byPid.has(pid)) return;
    this.#byPid.delete(pid);
    this.#execs.delete(pid);
    this.#lives.set(pid, (this.#lives.get(pid) ?? 1) + 1);
    this.#staleFree.add(pid);
  }

  #base(pid: number): string {
    const life = this.#lives.get(pid) ?? 1;
    return life === 1 ? `pid:${pid}` : `pid:${pid}~${life}`;
  }

  /**
   * True when the pid has been seen (has a current mm).
   *
   * @param pid task id
   * @returns whether it is tracked
   */
  has(pid: number): boolean {
    return this.#byPid.has(pid);
  }

  /**
   * `task_newtask`: the parent created `child` with `flags`.
   *
   * @param parent creating task (the event's pid)
   * @param child new task
   * @param flags clone flags
   */
  newTask(parent: number, child: number, flags: bigint): void {
    this.#reuse(child);
    this.#classified.add(child);
    if ((flags & CLONE_VM) !== 0n) this.#byPid.set(child, this.of(parent));
    else this.#byPid.set(child, new MmRef(this.#base(child)));
  }

  /**
   * `sched_process_fork`: used only when `task_newtask` did not classify the child.
   *
   * @param _parent parent pid
   * @param child child pid
   */
  fork(_parent: number, child: number): void {
    if (this.#classified.delete(child)) return;
    this.#reuse(child);
    this.assumedForks++;
    this.#byPid.set(child, new MmRef(this.#base(child)));
  }

  /**
   * `sched_process_exec`: a fresh mm for `pid`.
   *
   * @param pid the task after exec
   * @param oldPid the task id before exec (differs when a non-leader thread execs)
   * @returns the new mm
   */
  exec(pid: number, oldPid: number): MmRef {
    if (oldPid !== pid) this.#byPid.delete(oldPid);
    const n = (this.#execs.get(pid) ?? 0) + 1;
    this.#execs.set(pid, n);
    const m = new MmRef(`${this.#base(pid)}/exec${n}`);
    this.#byPid.set(pid, m);
    return m;
  }

  /**
   * `exit_mmap` in the context of `pid`: names and ends its current mm.
   *
   * @param pid context task
   * @param ptr the mm pointer (hex text)
   * @param ts event time
   * @returns the ended mm
   */
  exitMmap(pid: number, ptr: string, ts: bigint): MmRef {
    const known = this.#byPtr.get(ptr);
    const m = known ?? this.of(pid);
    if (m.ptr === null) this.#name(m, ptr);
    m.exitTs = ts;
    this.#byPtr.delete(ptr);
    return m;
  }

  /**
   * The mm a pointer names. When unknown, the context task's mm takes the pointer if `adopt` and
   * that mm has none yet (a bind from the process itself); otherwise a new mm is born from the
   * pointer.
   *
   * @param ptr pointer text
   * @param pid context task, or null
   * @param adopt whether the context task's mm may take the pointer
   * @returns the mm
   */
  byPointer(ptr: string, pid: number | null, adopt: boolean): MmRef {
    const known = this.#byPtr.get(ptr);
    if (known) return known;
    if (adopt && pid !== null) {
      const m = this.of(pid);
      if (m.ptr === null && m.exitTs === null) {
        this.#name(m, ptr);
        return m;
      }
    }
    const m = new MmRef(ptr);
    this.#name(m, ptr);
    return m;
  }

  #name(m: MmRef, ptr: string): void {
    const uses = (this.#ptrUses.get(ptr) ?? 0) + 1;
    this.#ptrUses.set(ptr, uses);
    m.ptr = uses === 1 ? ptr : `${ptr}#${uses}`;
    this.#byPtr.set(ptr, m);
    this.pointersLearned++;
  }

  /**
   * `sched_process_free`: forget the pid.
   *
   * @param pid task id
   */
  free(pid: number): void {
    if (this.#staleFree.delete(pid)) return;
    this.#byPid.delete(pid);
    this.#classified.delete(pid);
    this.#execs.delete(pid);
    this.#lives.set(pid, (this.#lives.get(pid) ?? 1) + 1);
  }

  /** Number of tracked pids (for the bounded-state test). */
  get size(): number {
    return this.#byPid.size;
  }
}
