#!/usr/bin/env bash
# Regenerates every generated table of docs/performance.md in one sitting: the kernels against ggml's own benchmark
# (kernels-vs-ggml.sh, speed) and the peak resident memory per weight type, JDK and card count (memory.sh, with the
# tokens/s of each run beside it) and prompt processing against generation (prefill.sh). Run it on a quiet machine (check `uptime`); it takes a while.
#
# usage: org.popsolutions.spanker.benchmarks/performance.sh [--jdks "17 25"]
#   (other options: run the two scripts by hand; each says its own)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jdks="17 25"
if [ $# -gt 0 ]; then
  case "$1" in
    --jdks) jdks=$2 ;;
    *) echo "usage: $0 [--jdks \"17 25\"]" >&2; exit 2 ;;
  esac
fi
"$here/kernels-vs-ggml.sh" --jdks "$jdks"
"$here/memory.sh" --jdks "$jdks"
"$here/prefill.sh" --jdks "$jdks"
