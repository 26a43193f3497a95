/**
 * Replay workers: built-in policy runs replayed on other threads, driven synchronously.
 *
 * The engine's API is synchronous (`pushRequest`, `finish`), so the workers are driven without
 * the event loop: batches are posted (at most {@linkcode MAX_IN_FLIGHT} per worker ahead of what
 * it has done, waiting on a shared counter otherwise), and `finish` blocks on `Atomics.wait` until
 * each worker has posted its answer, then takes it with `receiveMessageOnPort`. Workers are kept
 * (unreferenced, so they never hold the process open) and reused by the next replay.
 *
 * Each run stays on one worker for the whole replay, seeing every request in order, so a run
 * computes exactly what it would on the engine's thread; the anomalies come back with their
 * sequential positions and are merged by the engine.
 *
 * @module
 */
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import type { AnomalyRow, BindingRow, DeviceRow, IommuRow } from "../canonical.ts";
import type { CostModel } from "./cost/cost_model.ts";
import type { PolicyOptions } from "./policy.ts";
import type { RunTotals } from "./policy_run.ts";
import type { BatchWire, RequestBatch } from "./request_batch.ts";
import type { ViewQuery } from "./state.ts";

/** Batches a worker may be behind before the engine waits for it. */
export const MAX_IN_FLIGHT: number = 4;
/** A worker that shows no progress for this long (ms) is taken for dead. */
const STALL_MS = 300_000;
/** A worker that has not started listening after this long (ms) failed to start. */
const START_MS = 60_000;

/** How a worker finds a view: the query and time of the first request that used it. */
export interface ViewDef extends ViewQuery {
  /** The request's time. */
  ts: bigint;
}

/** A run a worker replays. */
export interface RemoteRunSpec {
  /** Label in results. */
  label: string;
  /** Built-in policy spec (`name` or `name@kernel`). */
  spec: string;
  /** Slot in the sequential order of anomalies. */
  slot: number;
}

/** What a worker needs to start a replay. */
export interface WorkerSetup {
  /** Topology and bindings. */
  setup: { iommus: IommuRow[]; devices: DeviceRow[]; bindings: BindingRow[] };
  /** Options of the built-in policies. */
  policyOptions: PolicyOptions;
  /** The cost model. */
  model: CostModel;
  /** Anomaly rows kept per kind. */
  maxPerKind: number;
  /** Seq stride. */
  stride: number;
  /** Reuse outcomes of request shapes already seen. */
  memo: boolean;
}

/** Messages to a worker. */
export type WorkerMessage =
  | ({ type: "init"; runs: RemoteRunSpec[] } & WorkerSetup)
  | { type: "batch"; batch: BatchWire; views: ViewDef[]; sources: string[] }
  | { type: "finish"; requests: number };

/** One run's outcome, from a worker. */
export interface RemoteRun {
  /** Label. */
  label: string;
  /** Counters. */
  totals: RunTotals;
  /** Kept anomalies, their seqs and the counts by kind. */
  anomalies: { rows: AnomalyRow[]; seqs: number[]; counts: [string, number][] };
}

/** A worker's answer to `finish`. */
export type RemoteResult = { ok: true; runs: RemoteRun[] } | { ok: false; error: string };

interface PooledWorker {
  worker: Worker;
  results: MessagePort;
  ctl: Int32Array;
  /** Batches posted in this replay. */
  posted: number;
  /** `ctl[0]` when this replay started. */
  doneBase: number;
  /** Answers received so far. */
  answers: number;
}

const idle: PooledWorker[] = [];

function spawn(): PooledWorker {
  const ctl = new Int32Array(new SharedArrayBuffer(12));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL("./replay_worker.ts", import.meta.url), {
    workerData: { ctl: ctl.buffer, results: port2 },
    transferList: [port2],
  });
  worker.unref();
  port1.unref();
  return { worker, results: port1, ctl, posted: 0, doneBase: 0, answers: 0 };
}

/** Waits until `ok()` holds, failing when the worker stalls or never starts. */
function waitUntil(w: PooledWorker, index: number, ok: () => boolean, what: string): void {
  let last = Atomics.load(w.ctl, 0), since = performance.now();
  while (!ok()) {
    const v = Atomics.load(w.ctl, index);
    Atomics.wait(w.ctl, index, v, 100);
    const now = performance.now(), done = Atomics.load(w.ctl, 0);
    if (done !== last) {
      last = done;
      since = now;
    }
    const started = Atomics.load(w.ctl, 2) === 1;
    if (now - since > (started ? STALL_MS : START_MS)) {
      w.worker.terminate();
      throw new Error(
        `replay worker ${started ? "stopped responding" : "did not start"} while ${what}`,
      );
    }
  }
}

/**
 * Built-in policy runs replayed by worker threads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReplayWorkers } from "./replay_workers.ts";
 * const n = ReplayWorkers.defaultCount();
 * assert(n >= 1 && n <= 2);
 * ```
 */
export class ReplayWorkers {
  readonly #workers: PooledWorker[];
  #closed = false;

  /**
   * Workers to use by default: one per core, at most 2 (the calling thread only prepares batches).
   *
   * @returns the count
   */
  static defaultCount(): number {
    const n = globalThis.navigator?.hardwareConcurrency ?? 1;
    return Math.min(2, n);
  }

  /**
   * Starts a replay on workers (reusing idle ones).
   *
   * @param setup what every worker needs
   * @param assignment the runs of each worker (one entry per worker)
   */
  constructor(setup: WorkerSetup, assignment: readonly RemoteRunSpec[][]) {
    this.#workers = assignment.map((runs) => {
      const w = idle.pop() ?? spawn();
      w.posted = 0;
      w.doneBase = Atomics.load(w.ctl, 0);
      w.worker.postMessage({ type: "init", runs, ...setup } satisfies WorkerMessage);
      return w;
    });
  }

  /**
   * Posts a batch to every worker, with the views and sources first used in it. The batch's
   * buffer goes to the last worker: the batch must not be used after.
   *
   * @param batch the batch
   * @param views views new since the last batch
   * @param sources sources new since the last batch
   * @throws {Error} when a worker stalls
   */
  post(batch: RequestBatch, views: ViewDef[], sources: string[]): void {
    this.#workers.forEach((w, k) => {
      const last = k === this.#workers.length - 1;
      const wire = batch.toWire(last);
      const done = () => Atomics.load(w.ctl, 0) - w.doneBase;
      if (w.posted - done() >= MAX_IN_FLIGHT) {
        waitUntil(w, 0, () => w.posted - done() < MAX_IN_FLIGHT, "replaying a batch");
      }
      const msg: WorkerMessage = { type: "batch", batch: wire, views, sources };
      w.worker.postMessage(msg, [wire.buffer]);
      w.posted++;
    });
  }

  /**
   * Finishes the replay on every worker and collects the runs' outcomes.
   *
   * @param requests requests replayed in all
   * @returns the runs, worker by worker
   * @throws {Error} when a worker failed or stalled
   */
  finish(requests: number): RemoteRun[] {
    if (this.#closed) throw new Error("replay workers already finished");
    this.#closed = true;
    const out: RemoteRun[] = [];
    let error: string | null = null;
    for (const w of this.#workers) w.worker.postMessage({ type: "finish", requests });
    for (const w of this.#workers) {
      const want = w.answers + 1;
      waitUntil(w, 1, () => Atomics.load(w.ctl, 1) >= want, "finishing the replay");
      let m = receiveMessageOnPort(w.results);
      // the answer is posted before the counter moves; allow for its delivery
      for (let k = 0; m === undefined && k < 100; k++) {
        Atomics.wait(w.ctl, 2, 1, 10);
        m = receiveMessageOnPort(w.results);
      }
      w.answers = want;
      const r = m?.message as RemoteResult | undefined;
      if (r === undefined) error ??= "replay worker posted no answer";
      else if (!r.ok) error ??= r.error;
      else out.push(...r.runs);
      if (r?.ok) idle.push(w);
      else w.worker.terminate();
    }
    if (error !== null) throw new Error(`replay worker failed: ${error}`);
    return out;
  }
}

/** Stops the idle replay workers (they never hold the process open; tests call this to tidy up). */
export function closeReplayWorkers(): void {
  for (const w of idle.splice(0)) {
    w.worker.terminate();
    w.results.close();
  }
}
