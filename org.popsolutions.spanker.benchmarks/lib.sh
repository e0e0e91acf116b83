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

# load_average: the 1-minute load average.
load_average() { cut -d' ' -f1 /proc/loadavg; }

# own_fleet DIR: fleet start/stop in this script use a fleet directory of their own, so a fleet someone else runs is
# left alone.
own_fleet() { export SPANKER_JAVA_OPTS="${SPANKER_JAVA_OPTS:-} -Dspanker.fleet.dir=$1"; }

# dram_reads JAR JAVA17 JAVA25 "JDKS" "THREADS" PREFIX: this sitting's DRAM read bandwidth (JMH DramBandwidthBenchmark
# of JAR, its harness on JAVA17) for each JDK (17 or 25) and thread count, into PREFIX-JDK-THREADS.json (and .log).
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
