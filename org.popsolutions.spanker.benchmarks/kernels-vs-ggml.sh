#!/usr/bin/env bash
# Regenerates the "Kernels against ggml" section of docs/performance.md (and docs/kernels-vs-ggml.json): ggml's own
# test-backend-ops perf (built from ../shared/bench/ggml) against the JMH MatVecBenchmark on the shape 4096x14336,
# for each weight type, thread count and JDK, plus this machine's DRAM read ceiling per thread count (a native
# streaming read, lib.sh dram_ceiling, at the start and at the end of the run) and the Java streaming sum of each JDK
# and thread count (JMH DramBandwidthBenchmark).
#
# Each cell is a set of alternated rounds (kernels_vs_ggml_rounds.py): ggml, Java with the `java` kernels, Java with
# the `native` kernels, ggml, ... each a short window (--window-ms) run alone, with ggml's set-up and each JMH fork's
# warm-up done once per cell before the first round; the tables give, per provider, the median over the rounds of
# ggml µs (the mean of the two ggml windows either side of our iteration) ÷ our µs, the lowest and highest of those
# per-round ratios and the number of rounds (kernels_vs_ggml.py). One sitting's single figure swung 30-40 % with
# the minute on this shared VM; windows a second apart share their minute, and the range says how far they agree.
#
# usage: org.popsolutions.spanker.benchmarks/kernels-vs-ggml.sh [--types "F16 Q4_0 ..."] [--threads "1 2"]
#            [--jdks "17 25"] [--rounds 8] [--window-ms 500] [--warmup 5]
#   --types/--threads/--jdks pick the cells (type names in either case: q6_k is Q6_K), e.g. one cell for an A/B:
#   --types Q6_K --threads 2 --jdks 25. Only the cells measured are replaced in docs/kernels-vs-ggml.json and the
#   tables; every other row keeps its figures and says when it was measured.
#   --rounds: rounds per cell; --window-ms: each round's window (ggml's and each JMH measurement iteration);
#   --warmup: JMH warm-up iterations (1 s each) per fork, once per cell and provider (C2 needs longer on a loaded
#   machine: a first round far below the others says the warm-up was short). On an idle 2-vCPU machine the
#   defaults take about 40 s a cell, 9-10 minutes per JDK for all 14 cells.
# env:   JAVA17 (default: java), JAVA25 (default: /usr/lib/jvm/temurin-25-jdk-amd64/bin/java),
#        GGML_BENCH (default: ../shared/bench/ggml beside the repository), MAVEN_REPO (a -Dmaven.repo.local),
#        BENCH_JAR (default: this module's target/benchmarks.jar, built when missing; another jar, e.g. a copy built
#        before a change, for an A/B: run the same cells with each jar in turn),
#        DOCS (default: the repository's docs/; another directory gets performance.md and kernels-vs-ggml.json written
#        there, from copies of the repository's when it has none, and no charts: a trial run leaves docs/ alone)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
types="Q4_0 Q8_0 Q4_K F16 BF16 Q4_1 Q6_K"
threads="1 2"
jdks="17 25"
rounds=8
window_ms=500
warmup=5
usage="usage: $0 [--types \"F16 Q4_0 ...\"] [--threads \"1 2\"] [--jdks \"17 25\"] [--rounds 8] [--window-ms 500] [--warmup 5]"
while [ $# -gt 0 ]; do
  case "$1" in
    --types) types=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --jdks) jdks=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --window-ms) window_ms=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
types=$(echo "$types" | tr 'a-z' 'A-Z')
for t in $types; do
  case " Q4_0 Q4_1 Q8_0 Q4_K Q6_K F16 BF16 " in *" $t "*) ;; *) echo "$0: no weight type $t (F16 BF16 Q4_0 Q4_1 Q8_0 Q4_K Q6_K)" >&2; exit 2 ;; esac
done
for th in $threads; do [[ $th =~ ^[1-9][0-9]*$ ]] || { echo "$0: --threads takes thread counts, not '$th'" >&2; exit 2; }; done
for jdk in $jdks; do [[ $jdk == 17 || $jdk == 25 ]] || { echo "$0: --jdks takes 17 and 25, not '$jdk'" >&2; exit 2; }; done
for n in "$rounds" "$window_ms" "$warmup"; do [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "$usage" >&2; exit 2; }; done
java17=${JAVA17:-java}
java25=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
ggml=$("${GGML_BENCH:-$root/../shared/bench/ggml}/build.sh")
jar=${BENCH_JAR:-$root/org.popsolutions.spanker.benchmarks/target/benchmarks.jar}
if [ -n "${BENCH_JAR:-}" ] && [ ! -f "$jar" ]; then echo "$0: BENCH_JAR=$jar: no such jar" >&2; exit 2; fi
if [ ! -f "$jar" ]; then
  (cd "$root" && ./mvnw -q -B install -pl org.popsolutions.spanker.benchmarks -am -DskipTests ${MAVEN_REPO:+-Dmaven.repo.local=$MAVEN_REPO})
fi
out=$root/org.popsolutions.spanker.benchmarks/target/kernels-vs-ggml
rm -rf "$out" && mkdir -p "$out"

jvm_of() { if [ "$1" = 25 ]; then echo "$java25"; else echo "$java17"; fi; }
. "$root/org.popsolutions.spanker.benchmarks/lib.sh"
ggml=$(ggml_rounds "$ggml")
dram_ceiling "$threads" "$out/dram-ceiling-start"
dram_reads "$jar" "$java17" "$java25" "$jdks" "$threads" "$out/dram"
# type by type, so that an interrupted run still has whole rows (every JDK and thread count of a type)
for t in $types; do
  for th in $threads; do
    for jdk in $jdks; do
      echo "$t, $th thread(s), JDK $jdk: $rounds rounds of ${window_ms} ms" >&2
      python3 "$root/org.popsolutions.spanker.benchmarks/kernels_vs_ggml_rounds.py" --ggml "$ggml" --harness "$java17" \
          --jvm "$(jvm_of "$jdk")" --jar "$jar" --jdk "$jdk" --type "$t" --threads "$th" --rounds "$rounds" \
          --window-ms "$window_ms" --warmup "$warmup" --out "$out"
    done
  done
done
dram_ceiling "$threads" "$out/dram-ceiling-end"
docs=${DOCS:-$root/docs}
mkdir -p "$docs"
for f in performance.md kernels-vs-ggml.json; do [ -f "$docs/$f" ] || cp "$root/docs/$f" "$docs/$f"; done
python3 "$root/org.popsolutions.spanker.benchmarks/kernels_vs_ggml.py" "$out" "$docs/performance.md" \
    "$docs/kernels-vs-ggml.json" "$("$java17" -version 2>&1 | head -1)" "$("$java25" -version 2>&1 | head -1)"
# the charts of the new figures (docs/plots)
if [ "$docs" -ef "$root/docs" ]; then "$root/org.popsolutions.spanker.benchmarks/plots.sh" kernels; fi
