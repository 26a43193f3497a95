/**
 * The trace system of an event known only by name. Text output prints `tlb_flush`, not
 * `tlb:tlb_flush`; raw tables are addressed as `<system>.<event>`, so a text reader must name
 * the system. Events with a bundled format take its system; for the others this table of common
 * kernel event families gives it, and anything else lands in `unknown`.
 *
 * @module
 */

/** System of events no rule matches. */
export const UNKNOWN_SYSTEM = "unknown";

const EXACT = new Map<string, string>(Object.entries({
  sys_enter: "raw_syscalls",
  sys_exit: "raw_syscalls",
  function: "ftrace",
  funcgraph_entry: "ftrace",
  funcgraph_exit: "ftrace",
  bprint: "ftrace",
  bputs: "ftrace",
  print: "ftrace",
  kernel_stack: "ftrace",
  user_stack: "ftrace",
  raw_data: "ftrace",
  branch: "ftrace",
  hwlat: "ftrace",
  osnoise: "ftrace",
  timerlat: "ftrace",
  func_repeats: "ftrace",
  context_switch: "ftrace",
  wakeup: "ftrace",
  tlb_flush: "tlb",
  page_fault_user: "exceptions",
  page_fault_kernel: "exceptions",
  kmalloc: "kmem",
  kfree: "kmem",
  kmem_cache_alloc: "kmem",
  kmem_cache_free: "kmem",
  rss_stat: "kmem",
  exit_mmap: "mmap",
  vm_unmapped_area: "mmap",
  task_newtask: "task",
  task_rename: "task",
  cpu_idle: "power",
  cpu_frequency: "power",
  cpu_frequency_limits: "power",
  cdev_update: "thermal",
  tick_stop: "timer",
  console: "printk",
  local_timer_entry: "irq_vectors",
  local_timer_exit: "irq_vectors",
  mce_record: "mce",
  io_page_fault: "iommu",
  qi_submit: "intel_iommu",
  prq_report: "intel_iommu",
}));

const PREFIXES: readonly [string, string][] = [
  ["sys_enter_", "syscalls"],
  ["sys_exit_", "syscalls"],
  ["sched_", "sched"],
  ["irq_handler_", "irq"],
  ["softirq_", "irq"],
  ["tasklet_", "irq"],
  ["mm_page_", "kmem"],
  ["mm_compaction_", "compaction"],
  ["mm_vmscan_", "vmscan"],
  ["mm_filemap_", "filemap"],
  ["mm_lru_", "pagemap"],
  ["mm_khugepaged_", "huge_memory"],
  ["mm_migrate_", "migrate"],
  ["mmap_lock_", "mmap_lock"],
  ["hrtimer_", "timer"],
  ["timer_", "timer"],
  ["itimer_", "timer"],
  ["workqueue_", "workqueue"],
  ["ext4_", "ext4"],
  ["xfs_", "xfs"],
  ["btrfs_", "btrfs"],
  ["f2fs_", "f2fs"],
  ["thermal_", "thermal"],
  ["clock_", "power"],
  ["power_", "power"],
  ["pstate_", "power"],
  ["writeback_", "writeback"],
  ["block_", "block"],
  ["net_dev_", "net"],
  ["netif_", "net"],
  ["napi_", "napi"],
  ["rcu_", "rcu"],
  ["signal_", "signal"],
  ["kvm_", "kvm"],
  ["cache_tag_", "intel_iommu"],
  ["dma_", "dma"],
  ["iommu_", "iommu"],
  ["ipi_", "ipi"],
  ["cgroup_", "cgroup"],
  ["alarmtimer_", "alarmtimer"],
  ["regmap_", "regmap"],
  ["i2c_", "i2c"],
  ["spi_", "spi"],
  ["scsi_", "scsi"],
  ["nvme_", "nvme"],
  ["xhci_", "xhci-hcd"],
  ["drm_", "drm"],
  ["binder_", "binder"],
  ["sock_", "sock"],
  ["tcp_", "tcp"],
  ["udp_", "udp"],
  ["skb_", "skb"],
];

/**
 * The system an event belongs to, judged from its name.
 *
 * @param event event name
 * @returns the system, {@linkcode UNKNOWN_SYSTEM} when no rule matches
 * @example
 * ```ts
 * import { systemOfEvent } from "./event_systems.ts";
 * console.assert(systemOfEvent("sched_switch") === "sched");
 * console.assert(systemOfEvent("sys_enter_ioctl") === "syscalls");
 * console.assert(systemOfEvent("mystery") === "unknown");
 * ```
 */
export function systemOfEvent(event: string): string {
  const e = EXACT.get(event);
  if (e) return e;
  for (const [p, s] of PREFIXES) if (event.startsWith(p)) return s;
  return UNKNOWN_SYSTEM;
}
