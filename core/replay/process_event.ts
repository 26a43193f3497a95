/**
 * Process lifecycle facts the checks need (fork, exec, exit), as one small row type.
 *
 * This is an input of the replay core, produced by the normalizer from `sched:sched_process_fork`
 * (with `task:task_newtask` clone flags to drop threads), `sched:sched_process_exec`,
 * `sched:sched_process_exit` and `mmap:exit_mmap` (iommu.md §1.6).
 *
 * @module
 */

/** What happened to the process. */
export type ProcessEventKind = "fork" | "exec" | "exit";

/**
 * One process lifecycle event.
 *
 * - `fork`: `pid` is the parent, `child_pid` the child, `mm` the parent's mm. Only real forks (no
 *   `CLONE_VM`): a thread shares its parent's mm and PASID legitimately, so producers must not emit
 *   threads as forks.
 * - `exec`: `pid` ran exec and got a fresh mm; `mm` is the new mm when known.
 * - `exit`: the mm of `pid` went away (last thread exit or `exit_mmap`); `mm` is that mm when known.
 *
 * Unknown facts are `null`.
 */
export interface ProcessEventRow {
  /** Time (ns). */
  ts: bigint;
  /** Event kind. */
  kind: ProcessEventKind;
  /** The process (for `fork`, the parent). */
  pid: number;
  /** The child, for `fork`; otherwise null. */
  child_pid: number | null;
  /** The mm the event is about (see the kind list), or null. */
  mm: string | null;
}
