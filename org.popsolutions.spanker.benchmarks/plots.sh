#!/usr/bin/env bash
# Draws the charts of the measured tables in docs/ from the JSON beside them (`./spanker plot`, the plot bundle's
# chart writer), into docs/plots/. The benchmark scripts call it after regenerating their tables; run it by hand
# to redraw from the committed JSON.
#
# usage: org.popsolutions.spanker.benchmarks/plots.sh [kernels|memory|prefill|sails-timing|planning|all]...
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
spanker=$root/spanker
docs=$root/docs
plots=$docs/plots
mkdir -p "$plots"

plot() { "$spanker" plot "$@" >/dev/null; }

kernels() {
  plot --data "$docs/kernels-vs-ggml.json" --rows cells --x threads --x-label "threads" \
      --y "Java=providers.java.micros,native=providers.native.micros,ggml=ggmlMicros" --y-label "microseconds per matvec" \
      --series jdk --split type --title "matvec 4096x14336: Java and native kernels against ggml, JDK 17 and 25" \
      --out "$plots/kernels-vs-ggml.svg"
}

memory() {
  plot --data "$docs/memory.json" --rows runs --x cards --x-label "cards" --y "peak RSS=peakRssBytes" \
      --y-label "bytes" --series jdk,device --split type \
      --title "peak resident set size of run, per JDK and device" --out "$plots/memory.svg"
}

prefill() {
  plot --data "$docs/prefill.json" --rows runs --x threads --x-label "threads" \
      --y "prompt=promptTokensPerSecond,generation=generationTokensPerSecond" --y-label "tokens/s" --series jdk \
      --split type --title "prompt processing against generation, TinyLlama on one mock card" --out "$plots/prefill.svg"
}

sails_timing() {
  plot --data "$docs/sails-timing.json" --rows rows --where kind=decode --x cards --x-label "cards" --y "measured=measured" \
      --predicted "predicted=predicted" --y-label "s per token" --series model \
      --title "decode on shaped emulated cards: measured against the rev-A model" \
      --out "$plots/sails-timing-decode.svg"
  plot --data "$docs/sails-timing.json" --rows rows --where kind=collective --x size --x-label "bytes" \
      --y "measured=measured" --predicted "predicted=predicted" --y-label "s" --series algorithm \
      --title "allreduce on 4 shaped emulated cards: measured against the model" \
      --out "$plots/sails-timing-allreduce.svg"
}

planning() {
  # docs/planning.sh writes tables only: their rows are read back into docs/planning.json first
  python3 "$root/org.popsolutions.spanker.benchmarks/planning_json.py" "$docs/planning.md" "$docs/planning.json"
  for objective in decode prefill; do
    plot --data "$docs/planning.json" --rows rows --where "objective=$objective" --x cards --x-label "cards" \
        --y "measured=decodeMeasured" --predicted "predicted=decodePredicted" --y-label "decode s per token" \
        --series plan --split model \
        --title "plans optimised for $objective: decode time, emulated cards (measured) against the model" \
        --out "$plots/planning-$objective.svg"
  done
}

[ $# -gt 0 ] || set -- all
for which in "$@"; do
  case "$which" in
    kernels) kernels ;;
    memory) memory ;;
    prefill) prefill ;;
    sails-timing) sails_timing ;;
    planning) planning ;;
    all) kernels; memory; prefill; sails_timing; planning ;;
    *) echo "usage: $0 [kernels|memory|prefill|sails-timing|planning|all]..." >&2; exit 2 ;;
  esac
done
