#!/usr/bin/env bash
# Regenerates the "Kernels against ggml" section of docs/performance.md (and docs/kernels-vs-ggml.json):
# ggml's own test-backend-ops perf (built from ../shared/bench/ggml) and the JMH MatVecBenchmark, alternated per
# cell (ggml, Java + native, ggml again) on the shape 4096x14336, for each JDK, thread count and weight type,
# plus this machine's DRAM read ceiling per thread count (a native streaming read, lib.sh dram_ceiling, at the start and
# at the end of the run) and the Java streaming sum of each JDK and thread count (JMH DramBandwidthBenchmark).
#
# usage: org.popsolutions.spanker.benchmarks/kernels-vs-ggml.sh [--types "F16 Q4_0 ..."] [--threads "1 2"] [--jdks "17 25"]
# Only the cells measured (type x threads x JDK) are replaced in docs/kernels-vs-ggml.json and the tables; every other
# row keeps its figures and says when it was measured, so a subset can be regenerated on its own.
# Warm-up is long (10 s per fork): on a loaded machine C2 needs that long before the Vector API code is compiled.
# env:   JAVA17 (default: java), JAVA25 (default: /usr/lib/jvm/temurin-25-jdk-amd64/bin/java),
#        GGML_BENCH (default: ../shared/bench/ggml beside the repository), MAVEN_REPO (a -Dmaven.repo.local),
#        DOCS (default: the repository's docs/; another directory gets performance.md and kernels-vs-ggml.json written
#        there, from copies of the repository's when it has none, and no charts: a trial run leaves docs/ alone)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
types="Q4_0 Q8_0 Q4_K F16 BF16 Q4_1 Q6_K"
threads="1 2"
jdks="17 25"
while [ $# -gt 0 ]; do
  case "$1" in
    --types) types=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --jdks) jdks=$2; shift 2 ;;
    *) echo "usage: $0 [--types \"F16 Q4_0 ...\"] [--threads \"1 2\"] [--jdks \"17 25\"]" >&2; exit 2 ;;
  esac
done
java17=${JAVA17:-java}
java25=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
ggml=$("${GGML_BENCH:-$root/../shared/bench/ggml}/build.sh")
jar=$root/org.popsolutions.spanker.benchmarks/target/benchmarks.jar
if [ ! -f "$jar" ]; then
  (cd "$root" && ./mvnw -q -B install -pl org.popsolutions.spanker.benchmarks -am -DskipTests ${MAVEN_REPO:+-Dmaven.repo.local=$MAVEN_REPO})
fi
out=$root/org.popsolutions.spanker.benchmarks/target/kernels-vs-ggml
rm -rf "$out" && mkdir -p "$out"
runs=$out/runs.jsonl

ggml_us() { # microseconds per product, or null when ggml has no such case
  local us
  us=$(GGML_TEST_THREADS=$2 "$ggml" perf -o MUL_MAT -b CPU -p "type_a=$(echo "$1" | tr 'A-Z' 'a-z' | sed 's/_k$/_K/'),type_b=f32,m=4096,n=1,k=14336" 2>/dev/null \
       | grep -o '[0-9.]* us/run' | head -1 | cut -d' ' -f1 || true)
  echo "${us:-null}"
}
load() { cut -d' ' -f1 /proc/loadavg; }

jvm_of() { if [ "$1" = 25 ]; then echo "$java25"; else echo "$java17"; fi; }
. "$root/org.popsolutions.spanker.benchmarks/lib.sh"
dram_ceiling "$threads" "$out/dram-ceiling-start"
dram_reads "$jar" "$java17" "$java25" "$jdks" "$threads" "$out/dram"
# type by type, so that an interrupted run still has whole rows (every JDK and thread count of a type)
for t in $types; do
  for th in $threads; do
    for jdk in $jdks; do
      echo "$t, $th thread(s), JDK $jdk" >&2
      l0=$(load); g0=$(ggml_us "$t" "$th")
      "$java17" -jar "$jar" MatVecBenchmark -jvm "$(jvm_of "$jdk")" -p type="$t" -p threads="$th" -p rows=4096 \
          -p cols=14336 -p provider=java,native -p layout=packed -wi 10 -i 2 -w 1 -r 1 -f 1 -rf json \
          -rff "$out/matvec-$jdk-$th-$t.json" >"$out/matvec-$jdk-$th-$t.log" 2>&1
      g1=$(ggml_us "$t" "$th"); l1=$(load)
      printf '{"jdk":"%s","threads":%s,"type":"%s","ggmlMicros":[%s,%s],"load":[%s,%s],"utc":"%s"}\n' \
          "$jdk" "$th" "$t" "$g0" "$g1" "$l0" "$l1" "$(date -u +%FT%TZ)" >>"$runs"
    done
  done
done
dram_ceiling "$threads" "$out/dram-ceiling-end"
docs=${DOCS:-$root/docs}
for f in performance.md kernels-vs-ggml.json; do [ -f "$docs/$f" ] || cp "$root/docs/$f" "$docs/$f"; done
python3 "$root/org.popsolutions.spanker.benchmarks/kernels_vs_ggml.py" "$out" "$docs/performance.md" \
    "$docs/kernels-vs-ggml.json" "$("$java17" -version 2>&1 | head -1)" "$("$java25" -version 2>&1 | head -1)"
# the charts of the new figures (docs/plots)
if [ "$docs" -ef "$root/docs" ]; then "$root/org.popsolutions.spanker.benchmarks/plots.sh" kernels; fi
