/**
 * Deterministic fuzz inputs: input `i` of a target under a master seed is a function of
 * `(seed, target, i)` and the seed corpus only, so a finding is reproduced from its index.
 *
 * @module
 */
import { mutate } from "./mutators.ts";
import { hash32, Rng } from "./rng.ts";
import { type Seed, TARGET_KIND, type TargetName } from "./seeds.ts";

/** Seeds above this size are picked rarely (they take longer to read). */
export const LARGE_SEED = 256 << 10;

/** Leading bytes of a binary seed (its magic) that most mutations leave alone. */
export const MAGIC_BYTES = 10;

/** One generated input. */
export interface FuzzInput {
  /** The seed it was mutated from. */
  seed: string;
  /** Mutations applied (empty for an unmutated seed). */
  ops: string[];
  /** The bytes. */
  bytes: Uint8Array;
}

function pickSeed(seeds: readonly Seed[], rng: Rng): Seed {
  const small = seeds.filter((s) => s.bytes.length <= LARGE_SEED);
  if (small.length > 0 && (small.length === seeds.length || rng.chance(0.92))) {
    return rng.pick(small);
  }
  return rng.pick(seeds);
}

/**
 * The `i`-th input of a target: the seeds themselves first, unmutated, then mutations of them.
 *
 * @param target the target
 * @param seeds its seed corpus (non-empty)
 * @param master master seed of the campaign
 * @param i input index
 * @returns the input
 * @example
 * ```ts
 * import { inputFor } from "./inputs.ts";
 * const seeds = [{ name: "s", bytes: new TextEncoder().encode('{"a":1}') }];
 * const a = inputFor("topology", seeds, 1, 5);
 * const b = inputFor("topology", seeds, 1, 5);
 * console.assert(a.bytes.join() === b.bytes.join() && a.ops.length > 0);
 * ```
 */
export function inputFor(
  target: TargetName,
  seeds: readonly Seed[],
  master: number,
  i: number,
): FuzzInput {
  if (seeds.length === 0) throw new RangeError(`no seeds for target ${target}`);
  if (i < seeds.length) return { seed: seeds[i]!.name, ops: [], bytes: seeds[i]!.bytes };
  const rng = new Rng(hash32(master, target, i));
  const s = pickSeed(seeds, rng);
  const other = pickSeed(seeds, rng);
  const kind = TARGET_KIND[target];
  const m = mutate(kind, s.bytes, rng, other.bytes);
  if (kind === "binary" && m.bytes.length >= MAGIC_BYTES && rng.chance(0.85)) {
    // Most inputs keep the magic, so they reach past the sniffer into the reader.
    m.bytes.set(s.bytes.subarray(0, MAGIC_BYTES));
  }
  return { seed: s.name, ops: m.ops, bytes: m.bytes };
}
