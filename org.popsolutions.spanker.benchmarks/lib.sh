# Shell functions the benchmark scripts share (sourced by sails-timing.sh, docs/planning.sh, kernels-vs-ggml.sh and
# prefill.sh; not run on its own).

# dilation_for CARDS [K] [TOKENS]: the time dilation for a fleet of CARDS emulated cards (fleet start --dilation K) —
# K when given, else what the cards stream (2 GB/s each) over what this machine's cores compute (0.8 GB/s for 4-8
# emulators on 2 cores, or SPANKER_COMPUTE_GBPS), times 1 + the load average (others' work takes the cores too), at
# least 2x, times TOKENS (default 1: a prompt pass of TOKENS tokens streams the weights once, paced as one token,
# but computes TOKENS tokens' arithmetic), rounded up.
dilation_for() {
    if [[ -n ${2:-} ]]; then echo "$2"; return; fi
    awk -v cards="$1" -v gbps="${SPANKER_COMPUTE_GBPS:-0.8}" -v load="$(load_average)" -v tokens="${3:-1}" 'BEGIN {
        margin = 1 + load; if (margin < 2) margin = 2
        k = cards * 2 / gbps * margin * tokens; printf "%d\n", (k == int(k)) ? k : int(k) + 1 }'
}

# decode_dilation_for CARDS MODEL [K] [UNSHAPED_RUN]: the time dilation for decoding MODEL on a ring of CARDS emulated
# cards — K when given, else the larger of dilation_for's (the cards' arithmetic) and what the benchmarks' helper
# DecodeDilation (org.popsolutions.spanker.benchmarks, unit-tested in DecodeDilationTest) derives: a token's real work
# on the emulators over the plan's predicted seconds per token. UNSHAPED_RUN (the run --json of the same model on an
# unshaped fleet of CARDS cards in this sitting) measures that work: 3 x its seconds per token (a fixed margin, the
# measurement holds the load). Without it, an estimate from the plan (plan --json), times max(2, 1 + load): each
# card's arithmetic with the cards sharing the cores, plus the chain of link hops (each two cross-process wake-ups).
# The two add up: taking the larger of them alone (session 10) left the tiny preset on 4 cards CPU-bound at K = 26
# (1.62x its prediction). A core's decode rate is SPANKER_COMPUTE_GBPS (0.8 GB/s, two cores) per core; a hop's cost
# SPANKER_HOP_MICROS (300 us) with a card per core (the tiny preset on 8 cards at K = 40, session 8, load about 2:
# 224 hops of about 1.2 ms, 4 cards a core). Needs the benchmarks jar (the reactor builds it); JAVA17 or java on PATH
# runs it.
decode_dilation_for() {
    if [[ -n ${3:-} ]]; then echo "$3"; return; fi
    local compute cores root_dir unshaped=()
    compute=$(dilation_for "$1")
    cores=$(nproc)
    root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
    [[ -n ${4:-} ]] && unshaped=(--unshaped-run "$4")
    "$spanker" plan --model "$2" --cards "$1" --json | "${JAVA17:-java}" -cp \
        "$root_dir/org.popsolutions.spanker.benchmarks/target/benchmarks.jar" \
        org.popsolutions.spanker.benchmarks.DecodeDilation --cards "$1" --cores "$cores" --load "$(load_average)" \
        --arithmetic "$compute" --core-gbps "$(awk -v g="${SPANKER_COMPUTE_GBPS:-0.8}" -v c="$cores" \
        'BEGIN { print g / c }')" --hop-micros "${SPANKER_HOP_MICROS:-300}" --explain ${unshaped[@]+"${unshaped[@]}"}
}

# load_average: the 1-minute load average.
load_average() { cut -d' ' -f1 /proc/loadavg; }

# own_fleet DIR: fleet start/stop in this script use a fleet directory of their own, so a fleet someone else runs is
# left alone.
own_fleet() { export SPANKER_JAVA_OPTS="${SPANKER_JAVA_OPTS:-} -Dspanker.fleet.dir=$1"; }

# dram_ceiling "THREADS" PREFIX: this machine's DRAM read ceiling in this sitting, the denominator of every "fraction of
# DRAM": src/main/c/dram_read.c (a native streaming read of a 1 GiB buffer on transparent huge pages, AVX-512 and AVX2
# loads, 20 passes per width after a warm-up pass; bytesPerSecond = the fastest pass of the faster width, the median
# beside it), built here with gcc into target/ when missing or older than its source, run for each thread count into
# PREFIX-THREADS.json (one JSON object). The scripts run it at the start and at the end of a sitting and take the
# faster: on a shared machine either minute can be someone else's.
dram_ceiling() {
    local threads=$1 prefix=$2 t here bin
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
    bin=$here/target/dram_read
    if [[ ! -x $bin || $here/src/main/c/dram_read.c -nt $bin ]]; then
        mkdir -p "$here/target"
        gcc -O2 -std=gnu11 -Wall -Werror -pthread -o "$bin" "$here/src/main/c/dram_read.c"
    fi
    for t in $threads; do
        echo "$t thread(s): DRAM read ceiling (native streaming read)" >&2
        "$bin" --threads "$t" --passes 20 >"$prefix-$t.json"
    done
}

# dram_reads JAR JAVA17 JAVA25 "JDKS" "THREADS" PREFIX: the Java streaming sum (JMH DramBandwidthBenchmark of JAR, its
# harness on JAVA17) for each JDK (17 or 25) and thread count, into PREFIX-JDK-THREADS.json (and .log): what a Java
# Vector API loop streams, shown beside the ceiling (it reads below what the native kernels stream, so it is not one).
dram_reads() {
    local jar=$1 java17=$2 java25=$3 jdks=$4 threads=$5 prefix=$6 jdk t jvm
    for jdk in $jdks; do
        if [[ $jdk == 25 ]]; then jvm=$java25; else jvm=$java17; fi
        for t in $threads; do
            echo "JDK $jdk, $t thread(s): DRAM read bandwidth" >&2
            "$java17" -jar "$jar" DramBandwidthBenchmark -jvm "$jvm" -p threads="$t" -wi 1 -i 3 -w 1 -r 1 -f 1 \
                -rf json -rff "$prefix-$jdk-$t.json" >"$prefix-$jdk-$t.log" 2>&1
        done
    done
}

# ggml_rounds GGML_BIN: prints the path of a copy of ggml's test-backend-ops (GGML_BIN, built by
# ../shared/bench/ggml/build.sh) that times one perf case in windows on request, for kernels-vs-ggml.sh's alternated
# rounds: with GGML_TEST_PERF_ROUNDS=MICROS in its environment, a perf case does its set-up (random weights,
# quantized: several CPU seconds) and ggml's warm-up run once, prints "ready", then for every line "go" on stdin
# computes the case's graph (ggml's own n_runs products a graph) until at least MICROS microseconds have passed and
# prints "round US_PER_RUN RUNS"; at the end of stdin the process exits. Without that variable it is ggml's perf
# mode unchanged. Only test-backend-ops.cpp is recompiled, against the static libraries of GGML_BIN's build, so the
# products are the same ggml code as build.sh's; cached under ${GGML_ROUNDS_DIR:-/tmp/ggml-rounds-bench}, rebuilt
# when this file is newer. Nothing of ggml goes into the project.
ggml_rounds() {
    local base build dir bin cpp
    build=$(dirname "$1")
    base=$(dirname "$build")
    dir=${GGML_ROUNDS_DIR:-/tmp/ggml-rounds-bench}
    bin=$dir/test-backend-ops-rounds
    if [[ -x $bin && ! ${BASH_SOURCE[0]} -nt $bin ]]; then echo "$bin"; return; fi
    echo "ggml_rounds: compiling test-backend-ops with timed windows into $dir (about a minute)" >&2
    mkdir -p "$dir"
    cpp=$dir/test-backend-ops-rounds.cpp
    python3 - "$base/src/tests/test-backend-ops.cpp" "$cpp" <<'PY'
import sys
text = open(sys.argv[1]).read()
anchor = "        // run\n        int64_t total_time_us = 0;\n"
assert text.count(anchor) == 1, "test-backend-ops.cpp: the perf loop is not where ggml_rounds expects it"
patch = r'''        if (const char * window = getenv("GGML_TEST_PERF_ROUNDS")) {
            const int64_t window_us = atoll(window);
            printf("ready %s\n", vars().c_str());
            fflush(stdout);
            char line[64];
            while (fgets(line, sizeof line, stdin) && strncmp(line, "go", 2) == 0) {
                int64_t time_us = 0;
                int runs = 0;
                do {
                    int64_t start_time = ggml_time_us();
                    if (ggml_backend_graph_compute(backend, gf) != GGML_STATUS_SUCCESS) {
                        fprintf(stderr, "%s: ggml_backend_graph_compute failed\n", __func__);
                        exit(1);
                    }
                    time_us += ggml_time_us() - start_time;
                    runs += n_runs;
                } while (time_us < window_us);
                printf("round %.3f %d\n", (double) time_us / runs, runs);
                fflush(stdout);
            }
            exit(0);
        }
'''
open(sys.argv[2], "w").write(text.replace(anchor, patch + anchor))
PY
    (cd "$build" && g++ -O2 -std=c++17 -I"$base/src/include" -I"$base/src/src" "$cpp" -o "$bin.tmp" \
        -Wl,--start-group $(find . -name 'libggml*.a') -Wl,--end-group -fopenmp -lpthread -ldl) >"$dir/link.log" 2>&1 \
        || { echo "ggml_rounds: compiling failed, see $dir/link.log" >&2; return 1; }
    mv "$bin.tmp" "$bin"
    echo "$bin"
}
