#!/usr/bin/env bash
# Records a large real trace.dat for the ingest benchmark (default: at least 5M events).
#   bash bench/record_large.sh [OUT] [MIN_EVENTS] [SECS]
# SECS is the first attempt's workload time (default 20); a short recording is retried with the
# time scaled to reach MIN_EVENTS (bench/record_scale.sh uses this for its two sizes).
# Needs root, tracefs and trace-cmd (`-d --no-filter`: see ../shared/research/formats.md §5).
set -euo pipefail
out=${1:-bench/out/large.dat}
min=${2:-5000000}
secs=${3:-20}
mkdir -p "$(dirname "$out")"
tracefs=/sys/kernel/tracing
[ -d "$tracefs/events" ] || mount -t tracefs nodev "$tracefs"
work=$(mktemp -d)
cat > "$work/churn.py" <<'PY'
import mmap, os, sys, time
# mmap/munmap churn: each munmap gives syscall, tlb and kmem events; a few forks add sched events.
end = time.time() + float(sys.argv[1])
while time.time() < end:
    for _ in range(2000):
        m = mmap.mmap(-1, 1 << 16)
        m[0:1] = b"x"
        m.close()
    if os.fork() == 0:
        os._exit(0)
    os.wait()
PY
for attempt in 1 2 3 4; do
  trace-cmd record --no-filter -d -b 20000 \
    -e syscalls:sys_enter_munmap -e syscalls:sys_exit_munmap -e syscalls:sys_enter_mmap \
    -e tlb:tlb_flush -e kmem:kmalloc -e kmem:kfree -e kmem:mm_page_alloc -e kmem:mm_page_free \
    -e sched:sched_process_fork -e sched:sched_process_exit -e sched:sched_switch \
    -o "$out" -- python3 "$work/churn.py" "$secs" >/dev/null 2>&1 || true
  echo 1 > "$tracefs/tracing_on" 2>/dev/null || true
  n=$(trace-cmd report --stat "$out" 2>/dev/null | head -0; trace-cmd report "$out" 2>/dev/null | wc -l)
  echo "recorded $n events in $out ($secs s of workload)"
  [ "$n" -ge "$min" ] && break
  # scale the time to the rate just seen (+10%), at least doubling when almost nothing came
  if [ "$n" -gt $((min / 20)) ]; then secs=$(( (secs * min * 11) / (n * 10) + 1 )); else secs=$((secs * 2)); fi
done
rm -rf "$work"
