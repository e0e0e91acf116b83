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

# decode_dilation_for CARDS MODEL [K]: the time dilation for decoding MODEL on a ring of CARDS emulated cards — K
# when given, else the larger of dilation_for's (the cards' arithmetic) and the chain of link hops'. Every link hop in
# a token's chain costs the emulators real time that dilation does not shrink: two cross-process wake-ups (the
# receiving card's link reader, then its work thread), with all the cards of a ring step runnable on this machine's
# cores. A token runs on time only while its dilated time covers that chain:
#   K_hops = max(2, 1 + load average) x hops x hop cost / the plan's predicted seconds per token,
#   hops = over the plan's layers (plan --json), 2(p-1) per allreduce and p-1 per reduce-scatter or allgather on p
#          cards (the messages the busiest link of a p-card ring carries one after another, whatever the algorithm),
#   hop cost = SPANKER_HOP_MICROS (default 300 us) x max(1, CARDS / cores).
# 300 us: the tiny preset on 8 cards at K = 40 (session 8, load about 2) ran 296 ms a token in real time against
# 140 ms dilated, 224 hops of about 1.2 ms each, 4 cards a core. The model with the long token (TinyLlama) needs no
# more than its arithmetic: its hops are small against its dilated compute.
decode_dilation_for() {
    if [[ -n ${3:-} ]]; then echo "$3"; return; fi
    local compute
    compute=$(dilation_for "$1")
    "$spanker" plan --model "$2" --cards "$1" --json | python3 -c '
import json, math, re, sys
cards, cores, load, compute = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
hop_seconds = float(sys.argv[5]) * 1e-6 * max(1.0, cards / cores)
plan = json.load(sys.stdin)
hops = 0
for layer in plan["layers"]:
    m = re.match(r"(\d+) x (allreduce|reduce-scatter|reducescatter|allgather) \d+ B \(\w+\) on cards ([\d,]+)",
                 layer.get("collective") or "")
    if m:
        p = len(m.group(3).split(","))
        hops += int(m.group(1)) * (2 if m.group(2) == "allreduce" else 1) * (p - 1)
k_hops = max(2.0, 1 + load) * hops * hop_seconds / plan["secondsPerToken"]
print(max(compute, math.ceil(k_hops)))' "$1" "$(nproc)" "$(load_average)" "$compute" "${SPANKER_HOP_MICROS:-300}"
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
