#!/usr/bin/env bash
# Records a large perf.data of tracepoints for bench/perf_bench.ts (default: at least 1.2M samples).
#   bash bench/perf_record.sh [OUT] [MIN_SAMPLES]
# Needs perf and permission to record tracepoints (root, or perf_event_paranoid <= 1).
set -euo pipefail
out=${1:-bench/out/large_perf.data}
min=${2:-1200000}
mkdir -p "$(dirname "$out")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/churn.py" <<'PY'
import mmap, os, sys, time
# mmap/munmap churn: each munmap gives syscall, tlb and page events; a few forks add sched events.
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
secs=5
for attempt in 1 2 3 4 5; do
  perf record -q -m 1024 \
    -e syscalls:sys_enter_munmap -e syscalls:sys_enter_mmap -e tlb:tlb_flush \
    -e kmem:mm_page_alloc -e kmem:mm_page_free -e sched:sched_process_fork \
    -e sched:sched_process_exit -o "$out" -- python3 "$work/churn.py" "$secs" >/dev/null 2>&1
  n=$(perf script -F event -i "$out" 2>/dev/null | wc -l)
  echo "recorded $n samples in $out ($secs s of workload)"
  rm -f "$out.old"
  [ "$n" -ge "$min" ] && exit 0
  secs=$((secs * 2))
done
echo "could not record $min samples" >&2
exit 1
