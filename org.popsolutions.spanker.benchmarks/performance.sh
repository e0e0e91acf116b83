#!/usr/bin/env bash
# Regenerates every generated table of docs/performance.md in one sitting: the kernels against ggml's own benchmark
# (kernels-vs-ggml.sh, speed), the peak resident memory per weight type, JDK and card count (memory.sh, with the
# tokens/s of each run beside it) and prompt processing against generation with decode's share of DRAM bandwidth
# (prefill.sh). Run it on a quiet machine (check `uptime`). On an idle 2-vCPU machine: kernels about 9 minutes per JDK
# (every type the kernels support, 1 and 2 threads, alternated rounds), prompt processing and decode about 6 minutes
# (Q4_0, Q8_0, Q4_K), memory about a minute per row (18 rows); --only picks some of them.
#
# usage: org.popsolutions.spanker.benchmarks/performance.sh [--jdks "17 25"] [--types "Q4_0 Q4_1 Q8_0 Q4_K Q6_K F16 BF16"]
#                                                           [--only "kernels prefill memory"]
#   (other options: run the three scripts by hand; each says its own)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jdks="17 25"
types="Q4_0 Q4_1 Q8_0 Q4_K Q6_K F16 BF16"
only="kernels prefill memory"
while [ $# -gt 0 ]; do
  case "$1" in
    --jdks) jdks=$2; shift 2 ;;
    --types) types=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: $0 [--jdks \"17 25\"] [--types \"Q4_0 Q4_1 Q8_0 Q4_K Q6_K F16 BF16\"] [--only \"kernels prefill memory\"]" >&2; exit 2 ;;
  esac
done
for part in $only; do
  case "$part" in
    kernels) "$here/kernels-vs-ggml.sh" --jdks "$jdks" --types "$types" ;;
    prefill) "$here/prefill.sh" --jdks "$jdks" ;;
    memory) "$here/memory.sh" --jdks "$jdks" ;;
    *) echo "$0: --only takes kernels, prefill and memory, not '$part'" >&2; exit 2 ;;
  esac
done
