/**
 * Private helper: turns a probe-captured AMD command (four u32, or two u64 words) into a decoded
 * command.
 *
 * @module
 */
import { decodeAmdCommand } from "./amd_command.ts";
import type { DecodedCommand } from "./decoded_command.ts";

/**
 * Decodes four 32-bit words, or two 64-bit words (low half first).
 *
 * @param words captured words
 * @returns the command, or null for any other length
 */
export function amdDecode(words: readonly bigint[]): DecodedCommand | null {
  if (words.length >= 4) return decodeAmdCommand(words.slice(0, 4));
  if (words.length === 2) {
    const [a, b] = words as [bigint, bigint];
    const m = 0xffffffffn;
    return decodeAmdCommand([a & m, a >> 32n, b & m, b >> 32n]);
  }
  return null;
}
