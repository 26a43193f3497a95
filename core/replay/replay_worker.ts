/**
 * A replay worker: replays batches of requests under the built-in policies it was given, on its
 * own thread, and hands back each run's totals and anomalies when the replay finishes.
 *
 * It rebuilds the binding state from the same rows as the engine and looks each view up by the
 * query and time of the first request that used it, so its views are the engine's, slot for slot.
 * Protocol (messages on `parentPort`, see `replay_workers.ts`): `init`, then `batch` messages, then
 * `finish`, whose answer goes to the result port; `ctl[0]` counts batches done, `ctl[1]` counts
 * answers posted, `ctl[2]` is 1 once the worker listens. A worker serves one replay after another.
 *
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { AnomalyCollector } from "./checks.ts";
import { evaluateBatch, LiveRequest, RequestBatch } from "./request_batch.ts";
import type { BatchRun } from "./request_batch.ts";
import { PolicyRun } from "./policy_run.ts";
import { resolvePolicy } from "./registry.ts";
import { BindingState, type BindingView } from "./state.ts";
import type { RemoteResult, WorkerMessage } from "./replay_workers.ts";

const ctl = new Int32Array(workerData.ctl as SharedArrayBuffer);
const results = workerData.results as MessagePort;

let state: BindingState | null = null;
let runs: BatchRun[] = [];
let stride = 1;
let views: BindingView[] = [];
let sources: string[] = [];
let failure: string | null = null;
const q = new LiveRequest();

function message(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function handle(m: WorkerMessage): void {
  switch (m.type) {
    case "init": {
      failure = null;
      views = [];
      sources = [];
      stride = m.stride;
      try {
        state = new BindingState(m.setup);
        runs = m.runs.map((r) => ({
          run: new PolicyRun(r.label, resolvePolicy(r.spec, m.policyOptions).policy, m.model, {
            anomalies: new AnomalyCollector(m.maxPerKind),
            memo: m.memo,
          }),
          slot: r.slot,
        }));
      } catch (e) {
        failure = message(e);
      }
      return;
    }
    case "batch": {
      try {
        if (failure === null) {
          for (const v of m.views) views.push(state!.viewFor(v, v.ts));
          for (const s of m.sources) sources.push(s);
          evaluateBatch(RequestBatch.fromWire(m.batch), runs, views, sources, stride, q);
        }
      } catch (e) {
        failure = message(e);
      }
      Atomics.add(ctl, 0, 1);
      Atomics.notify(ctl, 0);
      return;
    }
    case "finish": {
      let out: RemoteResult;
      try {
        if (failure !== null) throw new Error(failure);
        out = {
          ok: true,
          runs: runs.map(({ run, slot }) => {
            run.anomalies.seq = m.requests * stride + slot;
            run.policy.finish?.(run);
            const a = run.anomalies;
            return {
              label: run.label,
              totals: run.totals(),
              anomalies: { rows: a.rows, seqs: a.seqs, counts: [...a.counts] },
            };
          }),
        };
      } catch (e) {
        out = { ok: false, error: message(e) };
      }
      state = null;
      runs = [];
      views = [];
      sources = [];
      results.postMessage(out);
      Atomics.add(ctl, 1, 1);
      Atomics.notify(ctl, 1);
      return;
    }
  }
}

parentPort!.on("message", handle);
Atomics.store(ctl, 2, 1);
Atomics.notify(ctl, 2);
