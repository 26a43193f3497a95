import assert from "node:assert/strict";
import type { ObservedRec, RequestRec } from "../core/normalize/builder.ts";
import {
  ObservedSpillWriter,
  readObservedSpill,
  readRequestSpill,
  RequestSpillWriter,
} from "./spill.ts";

const MAX = (1n << 64n) - 1n;

Deno.test("spill: requests round-trip across chunks, with nulls and the full u64 range", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/r.spill`;
    const w = new RequestSpillWriter(path, 2);
    const rows: RequestRec[] = [
      {
        ts: 1n,
        seq: 0,
        cpu: 3,
        mm: null,
        pid: 10,
        pasid: 2,
        start: 0x1000n,
        end: 0x3000n,
        source: "munmap",
        full: false,
      },
      {
        ts: -5n,
        seq: 7,
        cpu: null,
        mm: null,
        pid: null,
        pasid: null,
        start: 0n,
        end: MAX,
        source: "tlb_flush",
        full: true,
      },
      {
        ts: 1n << 62n,
        seq: 2 ** 40,
        cpu: 0,
        mm: null,
        pid: 0,
        pasid: 0,
        start: MAX - 1n,
        end: MAX,
        source: "munmap",
        full: false,
      },
    ];
    rows.forEach((r, i) => w.add(r, i === 1 ? -1 : i * 5));
    assert.equal(w.rows, 3);
    w.close();
    const chunks = [...readRequestSpill(path)];
    assert.deepEqual(chunks.map((c) => c.length), [2, 1]);
    assert.deepEqual(
      chunks.flat(),
      rows.map((r, i) => ({ ...r, mm: i === 1 ? -1 : i * 5 })),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spill: observed commands round-trip, null strings and addresses included", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/o.spill`;
    const w = new ObservedSpillWriter(path, 8);
    const a: ObservedRec = {
      ts: 100n,
      cpu: 1,
      iommu: "dmar0",
      submission: 4,
      kind: "p_iotlb_inv",
      domain_id: 1,
      pasid: 2,
      sid: null,
      device: null,
      addr: 0x7f0000000000n,
      size: 0x2000n,
      granularity: "page",
      raw: "0x1 0x2",
      fields: "ih=0 ☃",
      seq: 3,
    };
    const b: ObservedRec = {
      ...a,
      ts: 200n,
      iommu: null,
      kind: "inv_wait",
      addr: null,
      size: null,
      granularity: null,
      raw: null,
      fields: null,
      cpu: null,
      seq: 9,
    };
    w.add(a, 3);
    w.add(b, -1);
    w.close();
    const got = [...readObservedSpill(path)].flat();
    assert.deepEqual(got, [{ ...a, device: 3 }, { ...b, device: -1 }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spill: an empty file reads as no chunk; a cut one is an error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/r.spill`;
    new RequestSpillWriter(path).close();
    assert.deepEqual([...readRequestSpill(path)], []);
    const w = new RequestSpillWriter(path);
    w.add({
      ts: 1n,
      seq: 0,
      cpu: 0,
      mm: null,
      pid: 1,
      pasid: null,
      start: 0n,
      end: 4096n,
      source: "munmap",
      full: false,
    }, -1);
    w.close();
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 3));
    assert.throws(() => [...readRequestSpill(path)], /cut short/);
    await Deno.writeFile(path, new Uint8Array(16));
    assert.throws(() => [...readRequestSpill(path)], /not a spill file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
