/**
 * The bundled event formats, declared once as data: one entry per (event, range of kernel
 * versions) in which its `format` file is the same on x86_64.
 *
 * Provenance tags (`source`), expanded in `README.md` beside this file:
 * - `tracefs-6.18`: copied from `/sys/kernel/tracing/events` of a running 6.18.44 kernel
 *   (the rendered text is checked byte for byte against those files in the tests);
 * - `src-6.1`: laid out from the Linux 6.1.192 headers (Debian `linux-source-6.1`), print
 *   format macro-expanded by hand;
 * - `hdr-<where>`: taken from a header or patch read in the stored corpus (see README);
 * - `[R]`: the version boundary is inferred from the date the change was posted/merged,
 *   not checked on a built kernel.
 *
 * @module
 */

import type { EventShape, FieldDecl } from "./render_format.ts";

/** One bundled variant of one event's format. */
export interface FormatVariant {
  /** Trace system (`intel_iommu`). */
  system: string;
  /** Event name (`qi_submit`). */
  name: string;
  /** Made-up, stable event id used in the `ID:` line (real ids differ per kernel build and boot). */
  id: number;
  /** First kernel (`major.minor`) with this variant, inclusive. */
  since: string;
  /** First kernel without it, exclusive; absent when still current. */
  until?: string;
  /** Layout and print format. */
  shape: EventShape;
  /** Where the text comes from (see module doc). */
  source: string;
  /** For kprobe examples: the `kprobe_events` line that defines the probe. */
  probe?: string;
}

const f = (type: string, name: string): FieldDecl => ({ kind: "field", type, name });
const str = (name: string): FieldDecl => ({ kind: "dynamic", type: "char", name });
const dyn = (type: string, name: string): FieldDecl => ({ kind: "dynamic", type, name });
const arr = (type: string, name: string, len: number): FieldDecl => ({
  kind: "array",
  type,
  name,
  len,
});
const ev = (fields: FieldDecl[], printFmt: string): EventShape => ({
  shape: "trace_event",
  fields,
  printFmt,
});

// ---------------------------------------------------------------- intel_iommu

const QI_TYPES = '{ 0x1, "cc_inv" }, { 0x2, "iotlb_inv" }, { 0x3, "dev_tlb_inv" }, ' +
  '{ 0x4, "iec_inv" }, { 0x5, "inv_wait" }, { 0x6, "p_iotlb_inv" }, { 0x7, "pc_inv" }, ' +
  '{ 0x8, "p_dev_tlb_inv" }, { 0x9, "page_grp_resp" }';

// enum cache_tag_type has no TRACE_DEFINE_ENUM, so the kernel leaves the names unexpanded.
const CACHE_TAG_TYPES = '{ CACHE_TAG_IOTLB, "iotlb" }, { CACHE_TAG_DEVTLB, "devtlb" }, ' +
  '{ CACHE_TAG_NESTING_IOTLB, "nesting_iotlb" }, { CACHE_TAG_NESTING_DEVTLB, "nesting_devtlb" }';

const CACHE_TAG_LOG = ev(
  [
    str("iommu"),
    str("dev"),
    f("u16", "type"),
    f("u16", "domain_id"),
    f("u32", "pasid"),
    f(
      "u32",
      "users",
    ),
  ],
  `"%s/%s type %s did %d pasid %d ref %d", __get_str(iommu), __get_str(dev), ` +
    `__print_symbolic(REC->type, ${CACHE_TAG_TYPES}), REC->domain_id, REC->pasid, REC->users`,
);

const CACHE_TAG_FLUSH = ev(
  [
    str("iommu"),
    str("dev"),
    f("u16", "type"),
    f("u16", "domain_id"),
    f("u32", "pasid"),
    f("unsigned long", "start"),
    f("unsigned long", "end"),
    f("unsigned long", "addr"),
    f("unsigned long", "pages"),
    f("unsigned long", "mask"),
  ],
  `"%s %s[%d] type %s did %d [0x%lx-0x%lx] addr 0x%lx pages 0x%lx mask 0x%lx", ` +
    `__get_str(iommu), __get_str(dev), REC->pasid, __print_symbolic(REC->type, ${CACHE_TAG_TYPES}), ` +
    `REC->domain_id, REC->start, REC->end, REC->addr, REC->pages, REC->mask`,
);

const CACHE_TAG_FLUSH_NO_PAGES = ev(
  [
    str("iommu"),
    str("dev"),
    f("u16", "type"),
    f("u16", "domain_id"),
    f("u32", "pasid"),
    f("unsigned long", "start"),
    f("unsigned long", "end"),
    f("unsigned long", "addr"),
    f("unsigned long", "mask"),
  ],
  `"%s %s[%d] type %s did %d [0x%lx-0x%lx] addr 0x%lx mask 0x%lx", ` +
    `__get_str(iommu), __get_str(dev), REC->pasid, __print_symbolic(REC->type, ${CACHE_TAG_TYPES}), ` +
    `REC->domain_id, REC->start, REC->end, REC->addr, REC->mask`,
);

const INTEL: FormatVariant[] = [
  {
    system: "intel_iommu",
    name: "qi_submit",
    id: 1101,
    since: "5.12",
    shape: ev(
      [f("u64", "qw0"), f("u64", "qw1"), f("u64", "qw2"), f("u64", "qw3"), str("iommu")],
      `"%s %s: 0x%llx 0x%llx 0x%llx 0x%llx", __print_symbolic(REC->qw0 & 0xf, ${QI_TYPES}), ` +
        `__get_str(iommu), REC->qw0, REC->qw1, REC->qw2, REC->qw3`,
    ),
    source: "src-6.1 (drivers/iommu/intel/trace.h; added in 5.12)",
  },
  {
    system: "intel_iommu",
    name: "prq_report",
    id: 1102,
    since: "5.14",
    shape: ev(
      [
        f("u64", "dw0"),
        f("u64", "dw1"),
        f("u64", "dw2"),
        f("u64", "dw3"),
        f("unsigned long", "seq"),
        str("iommu"),
        str("dev"),
        dyn("char", "buff"),
      ],
      `"%s/%s seq# %ld: %s", __get_str(iommu), __get_str(dev), REC->seq, ` +
        `decode_prq_descriptor(__get_str(buff), 256, REC->dw0, REC->dw1, REC->dw2, REC->dw3)`,
    ),
    source: "src-6.1; [R] since 5.14 (patch 'iommu/vt-d: Add prq_report trace event', May 2021)",
  },
  {
    system: "intel_iommu",
    name: "cache_tag_assign",
    id: 1103,
    since: "6.10",
    shape: CACHE_TAG_LOG,
    source: "hdr-torvalds/linux@254a1420 drivers/iommu/intel/trace.h",
  },
  {
    system: "intel_iommu",
    name: "cache_tag_unassign",
    id: 1104,
    since: "6.10",
    shape: CACHE_TAG_LOG,
    source: "hdr-torvalds/linux@254a1420 drivers/iommu/intel/trace.h",
  },
  {
    system: "intel_iommu",
    name: "cache_tag_flush_all",
    id: 1105,
    since: "6.10",
    until: "6.17",
    shape: CACHE_TAG_LOG,
    source: "hdr-torvalds/linux@254a1420; removed in 6.17 (iommu pull for 6.17)",
  },
  {
    system: "intel_iommu",
    name: "cache_tag_flush_range",
    id: 1106,
    since: "6.10",
    until: "7.1",
    shape: CACHE_TAG_FLUSH,
    source: "hdr-torvalds/linux@254a1420 drivers/iommu/intel/trace.h",
  },
  {
    system: "intel_iommu",
    name: "cache_tag_flush_range_np",
    id: 1107,
    since: "6.10",
    until: "7.1",
    shape: CACHE_TAG_FLUSH,
    source: "hdr-torvalds/linux@254a1420 drivers/iommu/intel/trace.h",
  },
  {
    system: "intel_iommu",
    name: "cache_tag_flush_range",
    id: 1106,
    since: "7.1",
    shape: CACHE_TAG_FLUSH_NO_PAGES,
    source: "hdr-corpus id 63309060967 (vt-d tree queued for 7.1); [R] boundary",
  },
  {
    system: "intel_iommu",
    name: "cache_tag_flush_range_np",
    id: 1107,
    since: "7.1",
    shape: CACHE_TAG_FLUSH_NO_PAGES,
    source: "hdr-corpus id 63309060967 (vt-d tree queued for 7.1); [R] boundary",
  },
];

// ---------------------------------------------------------------------- iommu

const GROUP_EVENT = ev(
  [f("int", "gid"), str("device")],
  `"IOMMU: groupID=%d device=%s", REC->gid, __get_str(device)`,
);
const DEVICE_EVENT = ev([str("device")], `"IOMMU: device=%s", __get_str(device)`);
const MAP_FIELDS = [f("u64", "iova"), f("u64", "paddr"), f("size_t", "size")];
const UNMAP_FIELDS = [f("u64", "iova"), f("size_t", "size"), f("size_t", "unmapped_size")];

const IOMMU: FormatVariant[] = [
  {
    system: "iommu",
    name: "add_device_to_group",
    id: 1201,
    since: "5.15",
    shape: GROUP_EVENT,
    source: "tracefs-6.18 (same text in src-6.1)",
  },
  {
    system: "iommu",
    name: "remove_device_from_group",
    id: 1202,
    since: "5.15",
    shape: GROUP_EVENT,
    source: "tracefs-6.18 (same text in src-6.1)",
  },
  {
    system: "iommu",
    name: "attach_device_to_domain",
    id: 1203,
    since: "5.15",
    shape: DEVICE_EVENT,
    source: "tracefs-6.18 (same text in src-6.1)",
  },
  {
    system: "iommu",
    name: "detach_device_from_domain",
    id: 1204,
    since: "5.15",
    until: "6.3",
    shape: DEVICE_EVENT,
    source: "src-6.1; removed with the detach_dev op in 6.3",
  },
  {
    system: "iommu",
    name: "map",
    id: 1205,
    since: "5.15",
    until: "5.17",
    shape: ev(
      MAP_FIELDS,
      `"IOMMU: iova=0x%016llx paddr=0x%016llx size=%zu", REC->iova, REC->paddr, REC->size`,
    ),
    source: "hdr-corpus id 28410333572 (pre-image of 'iommu: log iova range in map/unmap " +
      "trace events', Nov 2021, merged 5.17)",
  },
  {
    system: "iommu",
    name: "map",
    id: 1205,
    since: "5.17",
    shape: ev(
      MAP_FIELDS,
      `"IOMMU: iova=0x%016llx - 0x%016llx paddr=0x%016llx size=%zu", REC->iova, ` +
        `REC->iova + REC->size, REC->paddr, REC->size`,
    ),
    source: "tracefs-6.18 (same text in src-6.1)",
  },
  {
    system: "iommu",
    name: "unmap",
    id: 1206,
    since: "5.15",
    until: "5.17",
    shape: ev(
      UNMAP_FIELDS,
      `"IOMMU: iova=0x%016llx size=%zu unmapped_size=%zu", REC->iova, REC->size, ` +
        `REC->unmapped_size`,
    ),
    source: "hdr-corpus id 28410333572 (pre-image, see map)",
  },
  {
    system: "iommu",
    name: "unmap",
    id: 1206,
    since: "5.17",
    shape: ev(
      UNMAP_FIELDS,
      `"IOMMU: iova=0x%016llx - 0x%016llx size=%zu unmapped_size=%zu", REC->iova, ` +
        `REC->iova + REC->size, REC->size, REC->unmapped_size`,
    ),
    source: "tracefs-6.18 (same text in src-6.1)",
  },
  {
    system: "iommu",
    name: "io_page_fault",
    id: 1207,
    since: "5.15",
    shape: ev(
      [str("device"), str("driver"), f("u64", "iova"), f("int", "flags")],
      `"IOMMU:%s %s iova=0x%016llx flags=0x%04x", __get_str(driver), __get_str(device), ` +
        `REC->iova, REC->flags`,
    ),
    source: "tracefs-6.18 (same text in src-6.1)",
  },
];

// ------------------------------------------------------------------------ dma

const DMA_DIR =
  '__print_symbolic(REC->dir, { 0, "BIDIRECTIONAL" }, { 1, "TO_DEVICE" }, { 2, "FROM_DEVICE" }, ' +
  '{ 3, "NONE" })';
const DMA_ATTRS_6_12 = '__print_flags(REC->attrs, "|", { (1UL << 1), "WEAK_ORDERING" }, ' +
  '{ (1UL << 2), "WRITE_COMBINE" }, { (1UL << 4), "NO_KERNEL_MAPPING" }, ' +
  '{ (1UL << 5), "SKIP_CPU_SYNC" }, { (1UL << 6), "FORCE_CONTIGUOUS" }, ' +
  '{ (1UL << 7), "ALLOC_SINGLE_PAGES" }, { (1UL << 8), "NO_WARN" }, { (1UL << 9), "PRIVILEGED" })';
const DMA_ATTRS_6_18 = DMA_ATTRS_6_12.slice(0, -1) +
  ', { (1UL << 10), "MMIO" }, { (1UL << 11), "CACHE_CLEAN" })';

const DMA: FormatVariant[] = [
  {
    system: "dma",
    name: "dma_map_page",
    id: 1301,
    since: "6.12",
    until: "6.18",
    shape: ev(
      [
        str("device"),
        f("unsigned long long", "phys_addr"),
        f("unsigned long long", "dma_addr"),
        f("size_t", "size"),
        f("enum dma_data_direction", "dir"),
        f("unsigned long", "attrs"),
      ],
      `"%s dir=%s dma_addr=%llx size=%zu phys_addr=%llx attrs=%s", __get_str(device), ` +
        `${DMA_DIR}, REC->dma_addr, REC->size, REC->phys_addr, ${DMA_ATTRS_6_12}`,
    ),
    source: "hdr-corpus id 24134540962 ('dma: Trace dma_map/unmap_page' v2, Aug 2024); " +
      "[R] the merged 6.12–6.17 text may differ in type names and attrs list",
  },
  {
    system: "dma",
    name: "dma_unmap_page",
    id: 1302,
    since: "6.12",
    until: "6.18",
    shape: ev(
      [
        str("device"),
        f("unsigned long long", "addr"),
        f("size_t", "size"),
        f("enum dma_data_direction", "dir"),
        f("unsigned long", "attrs"),
      ],
      `"%s dir=%s dma_addr=%llx size=%zu attrs=%s", __get_str(device), ${DMA_DIR}, ` +
        `REC->addr, REC->size, ${DMA_ATTRS_6_12}`,
    ),
    source: "hdr-corpus id 24134540962 (see dma_map_page); [R]",
  },
  {
    system: "dma",
    name: "dma_map_phys",
    id: 1303,
    since: "6.18",
    shape: ev(
      [
        str("device"),
        f("u64", "phys_addr"),
        f("u64", "dma_addr"),
        f("size_t", "size"),
        f("enum dma_data_direction", "dir"),
        f("unsigned long", "attrs"),
      ],
      `"%s dir=%s dma_addr=%llx size=%zu phys_addr=%llx attrs=%s", __get_str(device), ` +
        `${DMA_DIR}, REC->dma_addr, REC->size, REC->phys_addr, ${DMA_ATTRS_6_18}`,
    ),
    source: "tracefs-6.18",
  },
  {
    system: "dma",
    name: "dma_unmap_phys",
    id: 1304,
    since: "6.18",
    shape: ev(
      [
        str("device"),
        f("u64", "addr"),
        f("size_t", "size"),
        f("enum dma_data_direction", "dir"),
        f("unsigned long", "attrs"),
      ],
      `"%s dir=%s dma_addr=%llx size=%zu attrs=%s", __get_str(device), ${DMA_DIR}, ` +
        `REC->addr, REC->size, ${DMA_ATTRS_6_18}`,
    ),
    source: "tracefs-6.18",
  },
  {
    system: "dma",
    name: "dma_map_sg",
    id: 1305,
    since: "6.18",
    shape: ev(
      [
        str("device"),
        f("int", "full_nents"),
        f("int", "full_ents"),
        f("bool", "truncated"),
        dyn("u64", "phys_addrs"),
        dyn("u64", "dma_addrs"),
        dyn("unsigned int", "lengths"),
        f("enum dma_data_direction", "dir"),
        f("unsigned long", "attrs"),
      ],
      `"%s dir=%s nents=%d/%d ents=%d/%d%s dma_addrs=%s sizes=%s phys_addrs=%s attrs=%s", ` +
        `__get_str(device), ${DMA_DIR}, ({ int __UNIQUE_ID_x_920 = (REC->full_nents); ` +
        `int __UNIQUE_ID_y_921 = (128); ((__UNIQUE_ID_x_920) < (__UNIQUE_ID_y_921) ? ` +
        `(__UNIQUE_ID_x_920) : (__UNIQUE_ID_y_921)); }), REC->full_nents, ` +
        `({ int __UNIQUE_ID_x_922 = (REC->full_ents); int __UNIQUE_ID_y_923 = (128); ` +
        `((__UNIQUE_ID_x_922) < (__UNIQUE_ID_y_923) ? (__UNIQUE_ID_x_922) : ` +
        `(__UNIQUE_ID_y_923)); }), REC->full_ents, REC->truncated ? " [TRUNCATED]" : "", ` +
        `__print_array(__get_dynamic_array(dma_addrs), __get_dynamic_array_len(dma_addrs) / ` +
        `sizeof(u64), sizeof(u64)), __print_array(__get_dynamic_array(lengths), ` +
        `__get_dynamic_array_len(lengths) / sizeof(unsigned int), sizeof(unsigned int)), ` +
        `__print_array(__get_dynamic_array(phys_addrs), __get_dynamic_array_len(phys_addrs) / ` +
        `sizeof(u64), sizeof(u64)), ${DMA_ATTRS_6_18}`,
    ),
    source: "tracefs-6.18 (the __UNIQUE_ID numbers are build-specific)",
  },
  {
    system: "dma",
    name: "dma_unmap_sg",
    id: 1306,
    since: "6.18",
    shape: ev(
      [
        str("device"),
        dyn("u64", "addrs"),
        f("enum dma_data_direction", "dir"),
        f("unsigned long", "attrs"),
      ],
      `"%s dir=%s phys_addrs=%s attrs=%s", __get_str(device), ${DMA_DIR}, ` +
        `__print_array(__get_dynamic_array(addrs), __get_dynamic_array_len(addrs) / ` +
        `sizeof(u64), sizeof(u64)), ${DMA_ATTRS_6_18}`,
    ),
    source: "tracefs-6.18",
  },
];

// ------------------------------------------------------------------------ tlb

const TLB_FIELDS = [f("int", "reason"), f("unsigned long", "pages")];
const tlbFmt = (reasons: string) =>
  `"pages:%ld reason:%s (%d)", REC->pages, __print_symbolic(REC->reason, ${reasons}), REC->reason`;
const TLB_REASONS_5 = '{ 0, "flush on task switch" }, { 1, "remote shootdown" }, ' +
  '{ 2, "local shootdown" }, { 3, "local mm shootdown" }, { 4, "remote ipi send" }';

const TLB: FormatVariant[] = [
  {
    system: "tlb",
    name: "tlb_flush",
    id: 1401,
    since: "5.15",
    until: "6.14",
    shape: ev(TLB_FIELDS, tlbFmt(TLB_REASONS_5)),
    source: "src-6.1 (TLB_FLUSH_REASON enums expanded by TRACE_DEFINE_ENUM)",
  },
  {
    system: "tlb",
    name: "tlb_flush",
    id: 1401,
    since: "6.14",
    until: "6.18",
    shape: ev(TLB_FIELDS, tlbFmt(TLB_REASONS_5 + ', { 5, "remote wrong CPU" }')),
    source: "src-6.1 + patch adding TLB_REMOTE_WRONG_CPU; [R] boundary",
  },
  {
    system: "tlb",
    name: "tlb_flush",
    id: 1401,
    since: "6.18",
    shape: ev(
      TLB_FIELDS,
      tlbFmt(
        '{ 0, "flush on task switch" }, { 1, "remote shootdown" }, { 2, "local shootdown" }, ' +
          '{ 3, "local MM shootdown" }, { 4, "remote IPI send" }, { 5, "remote wrong CPU" }',
      ),
    ),
    source: "tracefs-6.18; [R] the capitalisation change landed between 6.14 and 6.18",
  },
];

// ------------------------------------------------------------------- syscalls

const SYSCALLS: FormatVariant[] = [];
{
  const defs: [string, { type: string; name: string }[]][] = [
    ["munmap", [{ type: "unsigned long", name: "addr" }, { type: "size_t", name: "len" }]],
    ["mprotect", [
      { type: "unsigned long", name: "start" },
      { type: "size_t", name: "len" },
      { type: "unsigned long", name: "prot" },
    ]],
    ["madvise", [
      { type: "unsigned long", name: "start" },
      { type: "size_t", name: "len_in" },
      { type: "int", name: "behavior" },
    ]],
    ["mremap", [
      { type: "unsigned long", name: "addr" },
      { type: "unsigned long", name: "old_len" },
      { type: "unsigned long", name: "new_len" },
      { type: "unsigned long", name: "flags" },
      { type: "unsigned long", name: "new_addr" },
    ]],
  ];
  let id = 1501;
  for (const [name, args] of defs) {
    SYSCALLS.push({
      system: "syscalls",
      name: `sys_enter_${name}`,
      id: id++,
      since: "5.15",
      shape: { shape: "syscall_enter", args },
      source: "tracefs-6.18 (same layout code in src-6.1 kernel/trace/trace_syscalls.c)",
    });
    SYSCALLS.push({
      system: "syscalls",
      name: `sys_exit_${name}`,
      id: id++,
      since: "5.15",
      shape: { shape: "syscall_exit" },
      source: "tracefs-6.18 (same layout code in src-6.1)",
    });
  }
}

// ---------------------------------------------------------------------- sched

const TEMPLATE_ARRAY = ev(
  [arr("char", "comm", 16), f("pid_t", "pid"), f("int", "prio")],
  `"comm=%s pid=%d prio=%d", REC->comm, REC->pid, REC->prio`,
);
const TASK_REPORT = "(0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | " +
  "0x00000010 | 0x00000020 | 0x00000040)";
const REPORT_MASK = `(((${TASK_REPORT} + 1) << 1) - 1)`;

const SCHED: FormatVariant[] = [
  {
    system: "sched",
    name: "sched_process_fork",
    id: 1601,
    since: "5.15",
    until: "6.16",
    shape: ev(
      [
        arr("char", "parent_comm", 16),
        f("pid_t", "parent_pid"),
        arr("char", "child_comm", 16),
        f(
          "pid_t",
          "child_pid",
        ),
      ],
      `"comm=%s pid=%d child_comm=%s child_pid=%d", REC->parent_comm, REC->parent_pid, ` +
        `REC->child_comm, REC->child_pid`,
    ),
    source: "src-6.1; comm became __string in 6.16 ('tracing/sched: Use __string() instead " +
      "of fixed lengths for task->comm', for-next May 2025)",
  },
  {
    system: "sched",
    name: "sched_process_fork",
    id: 1601,
    since: "6.16",
    shape: ev(
      [str("parent_comm"), f("pid_t", "parent_pid"), str("child_comm"), f("pid_t", "child_pid")],
      `"comm=%s pid=%d child_comm=%s child_pid=%d", __get_str(parent_comm), REC->parent_pid, ` +
        `__get_str(child_comm), REC->child_pid`,
    ),
    source: "tracefs-6.18",
  },
  {
    system: "sched",
    name: "sched_process_exec",
    id: 1602,
    since: "5.15",
    shape: ev(
      [str("filename"), f("pid_t", "pid"), f("pid_t", "old_pid")],
      `"filename=%s pid=%d old_pid=%d", __get_str(filename), REC->pid, REC->old_pid`,
    ),
    source: "tracefs-6.18 (same text in src-6.1)",
  },
  {
    system: "sched",
    name: "sched_process_exit",
    id: 1603,
    since: "5.15",
    until: "6.15",
    shape: TEMPLATE_ARRAY,
    source: "src-6.1 (sched_process_template)",
  },
  {
    system: "sched",
    name: "sched_process_exit",
    id: 1603,
    since: "6.15",
    shape: ev(
      [arr("char", "comm", 16), f("pid_t", "pid"), f("int", "prio"), f("bool", "group_dead")],
      `"comm=%s pid=%d prio=%d group_dead=%s", REC->comm, REC->pid, REC->prio, ` +
        `REC->group_dead ? "true" : "false"`,
    ),
    source: "tracefs-6.18; [R] group_dead added in 6.15 (patch posted early 2025)",
  },
  {
    system: "sched",
    name: "sched_process_free",
    id: 1604,
    since: "5.15",
    until: "6.16",
    shape: TEMPLATE_ARRAY,
    source: "src-6.1 (sched_process_template)",
  },
  {
    system: "sched",
    name: "sched_process_free",
    id: 1604,
    since: "6.16",
    shape: ev(
      [str("comm"), f("pid_t", "pid"), f("int", "prio")],
      `"comm=%s pid=%d prio=%d", __get_str(comm), REC->pid, REC->prio`,
    ),
    source: "tracefs-6.18",
  },
  {
    system: "sched",
    name: "sched_switch",
    id: 1605,
    since: "6.1",
    shape: ev(
      [
        arr("char", "prev_comm", 16),
        f("pid_t", "prev_pid"),
        f("int", "prev_prio"),
        f("long", "prev_state"),
        arr("char", "next_comm", 16),
        f("pid_t", "next_pid"),
        f("int", "next_prio"),
      ],
      `"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d ` +
        `next_prio=%d", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ` +
        `${REPORT_MASK}) ? __print_flags(REC->prev_state & ${REPORT_MASK}, "|", ` +
        `{ 0x00000001, "S" }, { 0x00000002, "D" }, { 0x00000004, "T" }, { 0x00000008, "t" }, ` +
        `{ 0x00000010, "X" }, { 0x00000020, "Z" }, { 0x00000040, "P" }, { 0x00000080, "I" }) : ` +
        `"R", REC->prev_state & ((${TASK_REPORT} + 1) << 1) ? "+" : "", REC->next_comm, ` +
        `REC->next_pid, REC->next_prio`,
    ),
    source: "tracefs-6.18 (same expansion from src-6.1); not bundled before 6.1",
  },
];

// ----------------------------------------------------------------- task, mmap

const NEWTASK_FIELDS = (flagsType: string) => [
  f("pid_t", "pid"),
  arr("char", "comm", 16),
  f(flagsType, "clone_flags"),
  f("short", "oom_score_adj"),
];

const UNMAPPED_FIELDS = [
  "addr",
  "total_vm",
  "flags",
  "length",
  "low_limit",
  "high_limit",
  "align_mask",
  "align_offset",
].map((n) => f("unsigned long", n));
const IS_ERR =
  "__builtin_expect(!!((unsigned long)(void *)(REC->addr) >= (unsigned long)-4095), 0)";
const unmappedFmt = (nl: string) =>
  `"addr=0x%lx err=%ld total_vm=0x%lx flags=0x%lx len=0x%lx lo=0x%lx hi=0x%lx mask=0x%lx ` +
  `ofs=0x%lx${nl}", ${IS_ERR} ? 0 : REC->addr, ${IS_ERR} ? REC->addr : 0, REC->total_vm, ` +
  `REC->flags, REC->length, REC->low_limit, REC->high_limit, REC->align_mask, REC->align_offset`;
const EXIT_MMAP_FIELDS = [f("struct mm_struct *", "mm"), f("struct maple_tree *", "mt")];

const TASK_MMAP: FormatVariant[] = [
  {
    system: "task",
    name: "task_newtask",
    id: 1701,
    since: "5.15",
    until: "6.18",
    shape: ev(
      NEWTASK_FIELDS("unsigned long"),
      `"pid=%d comm=%s clone_flags=%lx oom_score_adj=%hd", REC->pid, REC->comm, ` +
        `REC->clone_flags, REC->oom_score_adj`,
    ),
    source: "src-6.1",
  },
  {
    system: "task",
    name: "task_newtask",
    id: 1701,
    since: "6.18",
    shape: ev(
      NEWTASK_FIELDS("u64"),
      `"pid=%d comm=%s clone_flags=%llx oom_score_adj=%hd", REC->pid, REC->comm, ` +
        `REC->clone_flags, REC->oom_score_adj`,
    ),
    source: "tracefs-6.18; [R] clone_flags became u64 in 6.18",
  },
  {
    // The 6.1 TP_printk ends in "\n"; the C string literal puts a real newline in print fmt.
    system: "mmap",
    name: "exit_mmap",
    id: 1801,
    since: "6.1",
    until: "6.4",
    shape: ev(EXIT_MMAP_FIELDS, `"mt_mod %p, DESTROY\n", REC->mt`),
    source: "src-6.1; newline removed by 'mm: mmap: remove newline at the end of the trace' " +
      "(Mar 2023, merged 6.4)",
  },
  {
    system: "mmap",
    name: "exit_mmap",
    id: 1801,
    since: "6.4",
    shape: ev(EXIT_MMAP_FIELDS, `"mt_mod %p, DESTROY", REC->mt`),
    source: "tracefs-6.18",
  },
  {
    system: "mmap",
    name: "vm_unmapped_area",
    id: 1802,
    since: "5.15",
    until: "6.4",
    shape: ev(UNMAPPED_FIELDS, unmappedFmt("\n")),
    source: "src-6.1 (see exit_mmap for the newline)",
  },
  {
    system: "mmap",
    name: "vm_unmapped_area",
    id: 1802,
    since: "6.4",
    shape: ev(UNMAPPED_FIELDS, unmappedFmt("")),
    source: "tracefs-6.18",
  },
];

// -------------------------------------------------------------------- kprobes

const KPROBES: FormatVariant[] = [
  {
    system: "kprobes",
    name: "qi_submit_sync",
    id: 1901,
    since: "5.15",
    shape: {
      shape: "kprobe",
      args: [
        { name: "iommu", type: "x64" },
        { name: "desc", type: "x64" },
        { name: "count", type: "u32" },
        { name: "options", type: "u32" },
      ],
    },
    probe:
      "p:kprobes/qi_submit_sync qi_submit_sync iommu=%di desc=%si count=%dx:u32 options=%cx:u32",
    source: "layout rules of src-6.1 kernel/trace/trace_kprobe.c + trace_probe.c",
  },
  {
    system: "kprobes",
    name: "mmu_notifier_invalidate",
    id: 1902,
    since: "5.15",
    shape: {
      shape: "kprobe",
      args: [{ name: "mm", type: "x64" }, { name: "start", type: "x64" }, {
        name: "end",
        type: "x64",
      }],
    },
    probe: "p:kprobes/mmu_notifier_invalidate __mmu_notifier_arch_invalidate_secondary_tlbs " +
      "mm=%di start=%si end=%dx  (before 6.6: __mmu_notifier_invalidate_range)",
    source: "layout rules of src-6.1 kernel/trace/trace_probe.c",
  },
  {
    system: "kprobes",
    name: "iommu_sva_bind_device",
    id: 1903,
    since: "5.15",
    shape: { shape: "kprobe", args: [{ name: "dev", type: "x64" }, { name: "mm", type: "x64" }] },
    probe: "p:kprobes/iommu_sva_bind_device iommu_sva_bind_device dev=%di mm=%si",
    source: "layout rules of src-6.1 kernel/trace/trace_probe.c",
  },
  {
    system: "kprobes",
    name: "iommu_sva_bind_device_ret",
    id: 1904,
    since: "5.15",
    shape: { shape: "kretprobe", args: [{ name: "handle", type: "x64" }] },
    probe: "r:kprobes/iommu_sva_bind_device_ret iommu_sva_bind_device handle=$retval",
    source: "layout rules of src-6.1 kernel/trace/trace_probe.c",
  },
  {
    system: "kprobes",
    name: "iommu_attach_device_pasid",
    id: 1905,
    since: "5.15",
    shape: {
      shape: "kprobe",
      args: [{ name: "domain", type: "x64" }, { name: "dev", type: "x64" }, {
        name: "pasid",
        type: "u32",
      }],
    },
    probe: "p:kprobes/iommu_attach_device_pasid iommu_attach_device_pasid domain=%di dev=%si " +
      "pasid=%dx:u32",
    source: "layout rules of src-6.1 kernel/trace/trace_probe.c",
  },
];

/** Every bundled variant, grouped by system. */
export const FORMAT_CATALOG: readonly FormatVariant[] = Object.freeze([
  ...INTEL,
  ...IOMMU,
  ...DMA,
  ...TLB,
  ...SYSCALLS,
  ...SCHED,
  ...TASK_MMAP,
  ...KPROBES,
]);
