/**
 * Decoder of ARM SMMUv3 command-queue entries (two 64-bit words each), as captured by a probe on
 * `arm_smmu_cmdq_issue_cmdlist` (see `core/probes/smmuv3.json`).
 *
 * Layout (from the kernel's `CMDQ_*` macros in `arm-smmu-v3.h`; bit numbers within each word):
 * - every command: opcode = cmd0[7:0]; SSV (substream valid) = cmd0 bit 11.
 * - TLBI (`0x10`-`0x30`): NUM[16:12], SCALE[24:20], VMID[47:32], ASID[63:48]; cmd1 LEAF bit 0,
 *   TTL[9:8], TG[11:10], ADDR[63:12] (IPA[51:12] for `tlbi_s2_ipa`). With TG != 0 (range
 *   invalidation) the command covers `(NUM + 1) << SCALE` pages of `2^(10 + 2*TG)` bytes at ADDR.
 *   With TG = 0 it is a single-granule invalidation; this decoder assumes a 4 KiB granule and
 *   says so in `fields` (`granule=assumed_4k`).
 * - ATC_INV (`0x40`): SSID[31:12], SID[63:32], GLOBAL bit 9; cmd1 SIZE[5:0] (log2 pages),
 *   ADDR[63:12]. SIZE 52 (`ATC_INV_SIZE_ALL`) or more is the whole space.
 * - CFGI_STE (`0x03`), CFGI_CD (`0x05`): SSID[31:12], SID[63:32]; cmd1 LEAF bit 0, RANGE[4:0].
 * - CMD_SYNC (`0x46`): CS[13:12], MSH[23:22], MSIATTR[27:24], MSIDATA[63:32].
 * - PRI_RESP (`0x41`): SSID[31:12], SID[63:32]; cmd1 GRPID[8:0], RESP[13:12].
 * - RESUME (`0x44`): SID[63:32], RESP[13:12]; cmd1 STAG[15:0].
 *
 * @module
 */
import type { DecodedCommand } from "./decoded_command.ts";

/** Kernel `CMDQ_OP_*` names (lower case) by opcode. */
export const SMMU_OPCODES: Readonly<Record<number, string>> = Object.freeze({
  0x01: "prefetch_cfg",
  0x03: "cfgi_ste",
  0x04: "cfgi_all",
  0x05: "cfgi_cd",
  0x06: "cfgi_cd_all",
  0x10: "tlbi_nh_all",
  0x11: "tlbi_nh_asid",
  0x12: "tlbi_nh_va",
  0x13: "tlbi_nh_vaa",
  0x20: "tlbi_el2_all",
  0x21: "tlbi_el2_asid",
  0x22: "tlbi_el2_va",
  0x28: "tlbi_s12_vmall",
  0x2a: "tlbi_s2_ipa",
  0x30: "tlbi_nsnh_all",
  0x40: "atc_inv",
  0x41: "pri_resp",
  0x44: "resume",
  0x46: "cmd_sync",
});

const M = (v: bigint, lo: number, bits: number): number =>
  Number((v >> BigInt(lo)) & ((1n << BigInt(bits)) - 1n));
const B = (v: bigint, bit: number): boolean => ((v >> BigInt(bit)) & 1n) === 1n;
const h = (v: bigint | number) => "0x" + v.toString(16);
const VA_MASK = ((1n << 64n) - 1n) ^ 0xfffn;
const IPA_MASK = ((1n << 52n) - 1n) ^ 0xfffn;

/**
 * Decodes one SMMUv3 command.
 *
 * @param cmd0 first word
 * @param cmd1 second word
 * @returns the decoded command
 * @example
 * ```ts
 * import { decodeSmmuCommand } from "./smmu_command.ts";
 * // TLBI_NH_VA, ASID 5, NUM=3 (4 chunks), SCALE=1, TG=1 (4 KiB) -> 4 << 1 = 8 pages = 0x8000 bytes
 * const c = decodeSmmuCommand((5n << 48n) | (1n << 20n) | (3n << 12n) | 0x12n, 0x400000n | (1n << 10n));
 * console.assert(c.kind === "tlbi_nh_va" && c.domainId === 5 && c.size === 0x8000n);
 * ```
 */
export function decodeSmmuCommand(cmd0: bigint, cmd1: bigint): DecodedCommand {
  const op = M(cmd0, 0, 8);
  const c: DecodedCommand = {
    kind: SMMU_OPCODES[op] ?? `op_${h(op)}`,
    granularity: null,
    domainId: null,
    pasid: null,
    sid: null,
    addr: null,
    size: null,
    whole: false,
    isSync: op === 0x46,
    extra: [],
    raw: `${h(cmd0)} ${h(cmd1)}`,
  };
  const ssv = B(cmd0, 11);
  switch (op) {
    case 0x03:
    case 0x05: {
      c.sid = M(cmd0, 32, 32);
      c.granularity = op === 0x03 ? "ste" : "cd";
      if (op === 0x05 || ssv) c.pasid = M(cmd0, 12, 20);
      c.extra.push(["leaf", B(cmd1, 0) ? "1" : "0"]);
      if (op === 0x03) c.extra.push(["range", String(M(cmd1, 0, 5))]);
      break;
    }
    case 0x04:
    case 0x06:
      c.granularity = "all";
      break;
    case 0x10:
    case 0x20:
    case 0x30:
      c.granularity = "global";
      if (op === 0x10) c.extra.push(["vmid", String(M(cmd0, 32, 16))]);
      break;
    case 0x11:
    case 0x21:
      c.granularity = "asid";
      c.domainId = M(cmd0, 48, 16);
      c.extra.push(["vmid", String(M(cmd0, 32, 16))]);
      break;
    case 0x28:
      c.granularity = "vmid";
      c.domainId = M(cmd0, 32, 16);
      break;
    case 0x12:
    case 0x13:
    case 0x22:
    case 0x2a: {
      const num = M(cmd0, 12, 5);
      const scale = M(cmd0, 20, 5);
      const leaf = B(cmd1, 0);
      const ttl = M(cmd1, 8, 2);
      const tg = M(cmd1, 10, 2);
      const vmid = M(cmd0, 32, 16);
      c.domainId = op === 0x2a ? vmid : M(cmd0, 48, 16);
      const addr = cmd1 & (op === 0x2a ? IPA_MASK : VA_MASK);
      if (op !== 0x2a) c.extra.push(["vmid", String(vmid)]);
      c.extra.push(
        ["num", String(num)],
        ["scale", String(scale)],
        ["tg", String(tg)],
        ["ttl", String(ttl)],
        ["leaf", leaf ? "1" : "0"],
      );
      if (tg === 0) {
        c.granularity = "va";
        c.addr = addr;
        c.size = 4096n;
        c.extra.push(["granule", "assumed_4k"]);
      } else {
        const pageShift = 10n + 2n * BigInt(tg);
        const bytes = (BigInt(num + 1) << BigInt(scale)) << pageShift;
        c.granularity = "range";
        c.addr = addr;
        if (addr + bytes > (1n << 64n) - 1n) {
          c.whole = true;
          c.addr = null;
        } else c.size = bytes;
      }
      break;
    }
    case 0x40: {
      c.sid = M(cmd0, 32, 32);
      if (ssv) c.pasid = M(cmd0, 12, 20);
      const size = M(cmd1, 0, 6);
      const g = B(cmd0, 9);
      c.extra.push(["ssv", ssv ? "1" : "0"], ["global", g ? "1" : "0"], [
        "size_log2",
        String(size),
      ]);
      if (size >= 52) {
        c.whole = true;
        c.granularity = "all";
      } else {
        const bytes = 4096n << BigInt(size);
        c.addr = (cmd1 & VA_MASK) & ~(bytes - 1n);
        c.size = bytes;
        c.granularity = "range";
      }
      break;
    }
    case 0x41:
      c.sid = M(cmd0, 32, 32);
      if (ssv) c.pasid = M(cmd0, 12, 20);
      c.extra.push(["grpid", String(M(cmd1, 0, 9))], ["resp", String(M(cmd1, 12, 2))]);
      break;
    case 0x44:
      c.sid = M(cmd0, 32, 32);
      c.extra.push(["resp", String(M(cmd0, 12, 2))], ["stag", String(M(cmd1, 0, 16))]);
      break;
    case 0x46:
      c.extra.push(
        ["cs", String(M(cmd0, 12, 2))],
        ["msh", String(M(cmd0, 22, 2))],
        ["msiattr", String(M(cmd0, 24, 4))],
        ["msidata", h(M(cmd0, 32, 32))],
      );
      break;
    default:
      break;
  }
  return c;
}
