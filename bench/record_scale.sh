#!/usr/bin/env bash
# Records the two traces of the scale benchmark (bench/scale.ts), with the mmap/munmap churn
# workload of bench/record_large.sh:
#   bench/out/scale_200m.dat  ~5.5M events (~200 MB of uncompressed event data)
#   bench/out/scale_2g.dat    ~55M events  (~2 GB of uncompressed event data)
#   bash bench/record_scale.sh [OUT_DIR] [small|large|both]
# Needs root, tracefs and trace-cmd (see bench/record_large.sh). The first attempt's workload time
# assumes ~460k events/s (bench/out/large.dat: 9.3M events in 20 s); record_large.sh retries with
# a scaled time when the machine is slower.
set -euo pipefail
dir=${1:-bench/out}
which=${2:-both}
here=$(cd "$(dirname "$0")" && pwd)
if [ "$which" != large ]; then
  bash "$here/record_large.sh" "$dir/scale_200m.dat" 5300000 12
fi
if [ "$which" != small ]; then
  bash "$here/record_large.sh" "$dir/scale_2g.dat" 53000000 120
fi
ls -l "$dir"/scale_*.dat
