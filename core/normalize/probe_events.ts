/**
 * Probe events mapped by a probe mapping (see `core/probes/mapping.ts`) onto canonical facts.
 *
 * - `sva_bind`, `set_dev_pasid`: a binding of (device, PASID) opens; a fetched mm pointer names
 *   the binding task's mm when that mm has no pointer yet (binds come from the process itself);
 *   a fetched domain pointer remembers that mm, for events that fetch only the domain.
 * - `sva_unbind`, `remove_dev_pasid`: the binding closes.
 * - `mm_invalidate`: one request (source `mmu_notifier`) per call, with the mm's current PASID.
 * - `qi_submit_sync`: exact VT-d submission boundaries (handed to the qi_submit decoder).
 * - `smmu_cmdq`: SMMUv3 commands, one submission per issue call; at most `cmds.length / 2`
 *   commands are decoded, the rest are counted.
 * - `amd_cmd`: AMD-Vi commands; a submission runs until a `completion_wait` on that unit.
 *
 * Value conversions: strings stay; a number or pointer for `device` becomes `dev@0x...`, for `mm`
 * `0x...`, for `iommu` the prefix plus the decimal number (or `0x...` without a prefix).
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import type { FieldValue, TraceEvent } from "../event.ts";
import type { ProbeMapping, ProbeSpec } from "../probes/mapping.ts";
import { amdDecode } from "./_amd_words.ts";
import { type CanonicalBuilder, END_ALL } from "./builder.ts";
import type { DecodedCommand } from "./decoded_command.ts";
import { fieldsText } from "./decoded_command.ts";
import { asU64, badField, type EventSite, hex, int, u64, U64_MAX, u64Array } from "./fields.ts";
import type { MmRef, MmTracker } from "./mm_tracker.ts";
import type { QiSubmitDecoder } from "./qi_submit.ts";
import { decodeSmmuCommand } from "./smmu_command.ts";

/**
 * Indexes the probes of several mappings by `system:event`.
 *
 * @param mappings validated mappings
 * @returns the index
 * @throws {UsageError} when two mappings define the same event
 */
export function indexProbes(mappings: readonly ProbeMapping[]): Map<string, ProbeSpec> {
  const idx = new Map<string, ProbeSpec>();
  const from = new Map<string, string>();
  for (const m of mappings) {
    for (const p of m.probes) {
      const k = `${p.system}:${p.event}`;
      const prev = from.get(k);
      if (prev !== undefined) {
        throw new UsageError(`${m.file}: probe event ${k} is also defined by ${prev}`);
      }
      from.set(k, m.file);
      idx.set(k, p);
    }
  }
  return idx;
}

/** The decoder; one instance per normalization. */
export class ProbeEventDecoder {
  #b: CanonicalBuilder;
  #mm: MmTracker;
  #qi: QiSubmitDecoder;
  #probes: Map<string, ProbeSpec>;
  #amdSub = new Map<string, number>();
  #domainMm = new Map<string, MmRef>();
  /** Events per kind. */
  readonly seen = new Map<string, number>();
  /** SMMUv3 commands issued but not captured (beyond the probe's array). */
  uncapturedSmmu = 0;
  /** Events skipped by a `where` filter. */
  filtered = 0;

  /**
   * Creates the decoder.
   *
   * @param b the collector
   * @param mm the mm tracker
   * @param qi the qi_submit decoder
   * @param probes probe index from {@linkcode indexProbes}
   */
  constructor(
    b: CanonicalBuilder,
    mm: MmTracker,
    qi: QiSubmitDecoder,
    probes: Map<string, ProbeSpec>,
  ) {
    this.#b = b;
    this.#mm = mm;
    this.#qi = qi;
    this.#probes = probes;
  }

  /**
   * The probe mapped to an event key, if any.
   *
   * @param key `system:event`
   * @returns the probe spec
   */
  probeFor(key: string): ProbeSpec | undefined {
    return this.#probes.get(key);
  }

  /**
   * Handles one probe event.
   *
   * @param site stream location
   * @param ev the event
   * @param p its probe spec
   * @param cpuKey per-CPU key
   */
  onEvent(site: EventSite, ev: TraceEvent, p: ProbeSpec, cpuKey: string): void {
    if (p.where) {
      for (const [f, want] of Object.entries(p.where)) {
        const v = ev.fields[f];
        const ok = typeof want === "string"
          ? v === want
          : asU64(v) === BigInt.asUintN(64, BigInt(want));
        if (!ok) {
          this.filtered++;
          return;
        }
      }
    }
    this.seen.set(p.kind, (this.seen.get(p.kind) ?? 0) + 1);
    const has = (role: string) =>
      p.fields[role] !== undefined && ev.fields[p.fields[role]!] !== undefined;
    const f = (role: string) => [p.fields[role]!];
    const text = (role: string, kind: "device" | "mm" | "iommu"): string => {
      const name = p.fields[role]!;
      const v: FieldValue | undefined = ev.fields[name];
      const prefix = p.prefix?.[role];
      if (typeof v === "string") return (prefix ?? "") + v;
      const n = asU64(v);
      if (n === null) {
        return badField(site, ev, name, v === undefined ? "missing" : "not a string or integer");
      }
      if (prefix !== undefined) return prefix + n.toString(10);
      return kind === "device" ? `dev@${hex(n)}` : hex(n);
    };
    switch (p.kind) {
      case "sva_bind":
      case "set_dev_pasid": {
        const iommu = has("iommu") ? text("iommu", "iommu") : null;
        const device = this.#b.deviceByName(text("device", "device"), iommu, "probe");
        device.pasid = true;
        const pasid = int(site, ev, f("pasid"));
        const domain = has("domain") ? text("domain", "mm") : null;
        let mm = has("mm") ? this.#mm.byPointer(text("mm", "mm"), ev.pid, true) : null;
        if (domain !== null) {
          if (mm !== null) this.#domainMm.set(domain, mm);
          else mm = this.#domainMm.get(domain) ?? null;
        }
        const b = this.#b.openBinding({
          mm,
          pid: ev.pid,
          comm: ev.comm,
          pasid,
          device,
          iommu: iommu ?? device.iommu,
          domain_id: has("domain_id") ? int(site, ev, f("domain_id")) : null,
          from_ts: ev.ts,
          to_ts: null,
          source: p.kind,
        });
        if (mm !== null) this.#b.pasidOwner.set(pasid, b.mm);
        return;
      }
      case "sva_unbind":
      case "remove_dev_pasid": {
        const device = this.#b.deviceByName(text("device", "device"), null, "probe");
        const mm = has("mm") ? this.#mm.byPointer(text("mm", "mm"), null, false) : null;
        const pasid = has("pasid") ? int(site, ev, f("pasid")) : this.#b.pasidOfMm(mm);
        this.#b.closeBinding(device, pasid, ev.ts, {
          mm,
          pid: ev.pid,
          comm: ev.comm,
          iommu: device.iommu,
          domain_id: null,
          source: p.kind,
        });
        return;
      }
      case "mm_invalidate": {
        const mm = this.#mm.byPointer(text("mm", "mm"), ev.pid, false);
        const start = u64(site, ev, f("start"));
        const end = u64(site, ev, f("end"));
        const full = end === U64_MAX && start === 0n;
        this.#b.request({
          ts: ev.ts,
          cpu: ev.cpu,
          mm,
          pid: ev.pid,
          pasid: this.#b.pasidOfMm(mm),
          start,
          end: full ? END_ALL : end,
          source: "mmu_notifier",
          full,
        });
        return;
      }
      case "qi_submit_sync": {
        const iommu = has("iommu") ? text("iommu", "iommu") : null;
        this.#qi.onSubmitSync(cpuKey, int(site, ev, f("count")), iommu);
        return;
      }
      case "smmu_cmdq": {
        const iommu = has("iommu") ? text("iommu", "iommu") : null;
        if (iommu !== null) this.#b.iommu(iommu, "arm-smmuv3", "probe");
        const words = u64Array(site, ev, f("cmds"));
        const n = int(site, ev, f("n"));
        const captured = Math.min(n, Math.floor(words.length / 2));
        if (n > captured) this.uncapturedSmmu += n - captured;
        const sub = this.#b.newSubmission();
        for (let i = 0; i < captured; i++) {
          this.#emit(ev, iommu, sub, decodeSmmuCommand(words[2 * i]!, words[2 * i + 1]!));
        }
        return;
      }
      case "amd_cmd": {
        const iommu = has("iommu") ? text("iommu", "iommu") : null;
        if (iommu !== null) this.#b.iommu(iommu, "amd", "probe");
        const c = amdDecode(u64Array(site, ev, f("cmd")));
        if (c === null) {
          return badField(site, ev, p.fields["cmd"]!, "needs four u32 or two u64 words");
        }
        const key = iommu ?? "";
        let sub = this.#amdSub.get(key);
        if (sub === undefined) {
          sub = this.#b.newSubmission();
          this.#amdSub.set(key, sub);
        }
        this.#emit(ev, iommu, sub, c);
        if (c.isSync) this.#amdSub.delete(key);
        return;
      }
    }
  }

  #emit(ev: TraceEvent, iommu: string | null, sub: number, c: DecodedCommand): void {
    let device = null;
    if (c.sid !== null && iommu !== null) {
      device = this.#b.deviceBySid(iommu, c.sid, "probe");
      if (c.kind === "atc_inv" || c.kind === "inv_iotlb_pages") device.ats = true;
      if (c.pasid !== null && (c.kind === "atc_inv" || c.kind === "inv_iotlb_pages")) {
        device.pasid = true;
      }
    }
    this.#b.observed({
      ts: ev.ts,
      cpu: ev.cpu,
      iommu,
      submission: sub,
      kind: c.kind,
      domain_id: c.domainId,
      pasid: c.pasid,
      sid: c.sid,
      device,
      addr: c.addr,
      size: c.size,
      granularity: c.granularity,
      raw: c.raw,
      fields: fieldsText(c.extra),
    });
  }
}
