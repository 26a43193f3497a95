/**
 * `ingestToDir` in a fresh process (dictionary ids count up per process, so two ingests compared
 * byte for byte must each start from the same state), for worker_sink_test.ts:
 *
 *   deno run -A ingest_dir.ts <input> <outdir> <worker: 0|1> <batchRows|-> <maxBatches|->
 *
 * @module
 */
import { ingestToDir } from "../../ingest.ts";

const [input, out, worker, batchRows, maxBatches] = Deno.args;
await ingestToDir(input!, out!, {
  ...(batchRows && batchRows !== "-" ? { batchRows: Number(batchRows) } : {}),
  writer: {
    worker: worker === "1",
    ...(maxBatches && maxBatches !== "-" ? { maxBatches: Number(maxBatches), maxBytes: 1 } : {}),
  },
});
