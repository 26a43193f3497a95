/**
 * A stand-in for the Arrow writer worker that dies (an uncaught error) on its first message, for
 * worker_sink_test.ts.
 *
 * @module
 */
/// <reference lib="deno.worker" />
self.onmessage = () => {
  throw new Error("simulated crash of the writer worker");
};
