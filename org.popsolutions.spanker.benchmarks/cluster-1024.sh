#!/usr/bin/env bash
# Issue 13's scale run: 1024 L3 hosts (--l5 16 --l4 4 --l3 16, 1105 nodes in 16 processes) start, pass the topology
# and dag tests, survive a kill -9 during a dag; then tasks per second through ONE orchestrator (one pod of 16
# hosts). Measures: time to start, topology time (three runs), dag time and tasks/s, kill -9 outcome and the status
# after it, resident memory per node process, stop. Writes the table between the cluster-1024 markers of
# docs/cluster.md (temp file + rename). A benchmark, not a test: minutes, ~3 GiB; it prints the load average it
# started and ended with, and marks the figures "loaded" when the load was above the machine's core count.
# It keeps its cluster in a directory of its own (spanker.cluster.home), so it neither sees nor stops anyone's.
#
#   org.popsolutions.spanker.benchmarks/cluster-1024.sh [--l5 16 --l4 4 --l3 16] [--n 16384] [--out docs/cluster.md]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
spanker=$root/spanker
l5=16 l4=4 l3=16 n=16384
out=$root/docs/cluster.md
while [[ $# -gt 0 ]]; do
    case $1 in
        --l5) l5=$2; shift 2 ;;
        --l4) l4=$2; shift 2 ;;
        --l3) l3=$2; shift 2 ;;
        --n) n=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "cluster-1024.sh: unknown option $1 (--l5 A --l4 B --l3 C, --n N, --out FILE)" >&2; exit 2 ;;
    esac
done

work=$(mktemp -d)
export SPANKER_JAVA_OPTS="${SPANKER_JAVA_OPTS:-} -Dspanker.cluster.home=$work/cluster"
cleanup() {
    "$spanker" cluster stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
"$spanker" --version >/dev/null   # builds on first use, outside the timings

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
r=$work/results
mkdir -p "$r"
"$spanker" cluster start --l5 "$l5" --l4 "$l4" --l3 "$l3" --json >"$r/start.json"
for i in 1 2 3; do
    "$spanker" cluster test topology --json >"$r/topology-$i.json"
done
"$spanker" cluster test dag --n "$n" --chunk 4 --json >"$r/dag.json"
# memory: every node process's resident set, while the cluster is warm
for pid in $(python3 -c 'import json,sys; print(" ".join(map(str, json.load(open(sys.argv[1]))["pids"])))' \
        "$r/start.json"); do
    awk '/VmRSS/ {print $2}' "/proc/$pid/status"
done >"$r/rss-kib.txt"
"$spanker" cluster test ring-stress --json >"$r/ring-stress.json"

# kill -9 of one process (not the root's) a few seconds into a dag: the dag completes or names the dead node
victim=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["pids"]; print(p[len(p)//2])' "$r/start.json")
set +e
"$spanker" cluster test dag --n "$n" --chunk 4 --json >"$r/dag-killed.json" 2>"$r/dag-killed.err" &
dag=$!
sleep 3
kill -9 "$victim"
killed_at=$(date +%s.%N)
wait "$dag"
dag_status=$?
set -e
"$spanker" cluster status --json >"$r/status-after-kill.json"
status_at=$(date +%s.%N)
"$spanker" cluster stop --json >"$r/stop.json"

# one orchestrator: one pod of 16 hosts in 4 processes, every task through its L4 ring
"$spanker" cluster start --l5 1 --l4 1 --l3 16 --processes 4 --json >"$r/start-one.json"
"$spanker" cluster test dag --n 4096 --chunk 1 --json >"$r/dag-one-1.json"
"$spanker" cluster test dag --n 4096 --chunk 1 --json >"$r/dag-one-2.json"
"$spanker" cluster stop --json >"$r/stop-one.json"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$r" "$out" "$load_before" "$load_after" "$dag_status" "$victim" "$killed_at" "$status_at" \
        "$l5" "$l4" "$l3" "$n" <<'PY'
import json, os, sys, datetime, tempfile
r, out, before, after, dag_status, victim, killed_at, status_at, l5, l4, l3, n = sys.argv[1:13]
j = lambda name: json.load(open(os.path.join(r, name)))
start, dag, ring, stop = j("start.json"), j("dag.json"), j("ring-stress.json"), j("stop.json")
tops = [j(f"topology-{i}.json") for i in (1, 2, 3)]
rss = [int(x) / 1024 for x in open(os.path.join(r, "rss-kib.txt")).read().split()]
status = j("status-after-kill.json")
one = [j("dag-one-1.json"), j("dag-one-2.json")]
cores = os.cpu_count() or 1
peak = max(float(x) for x in (before + " " + after).split())
loaded = peak > cores
mark = " (loaded)" if loaded else ""
hosts = status["levels"]["L3"]
if dag_status == "0":
    killed = j("dag-killed.json")
    outcome = f"completed, every value checked ({killed['tasks']} tasks, {killed['millis'] / 1000:.1f} s)"
else:
    err = open(os.path.join(r, "dag-killed.err")).read().strip().splitlines()
    outcome = "failed naming the node: " + (err[-1] if err else f"exit {dag_status}")
rows = [
    ("start, " + f"{start['nodes']} nodes in {start['processes']} processes, until every node is in the membership",
     f"{start['startMillis'] / 1000:.1f} s"),
    ("topology test, every L3 host reporting through L4 → L5 → L6, checked",
     ", ".join(f"{t['millis'] / 1000:.2f} s" for t in tops) + f" (count {tops[0]['count']})"),
    (f"dag --n {n} --chunk 4 over every pod, every f checked",
     f"{dag['millis'] / 1000:.1f} s, {dag['tasks']} tasks, {dag['tasksPerSecond']:.0f} tasks/s"),
    ("tasks/s through **one** orchestrator (one pod of 16 hosts, dag --n 4096 --chunk 1)",
     ", ".join(f"{d['tasksPerSecond']:.0f}" for d in one) + " (first, second run)"),
    ("ring-stress", f"{ring['millis'] / 1000:.2f} s, counters {json.dumps(ring['counters'], sort_keys=True)}"),
    ("memory per node process (RSS)", f"{sum(rss) / len(rss):.0f} MiB mean, {max(rss):.0f} MiB max, "
     f"{sum(rss) / 1024:.2f} GiB for all {len(rss)}"),
    (f"kill -9 of process {victim} during a dag", outcome + f"; status {float(status_at) - float(killed_at):.1f} s "
     f"after the kill: L3 {hosts['live']} live, {hosts['dead']} dead, {hosts['suspect']} suspect"),
    ("cluster stop", f"{len(stop['ended'])} processes ended on SIGTERM, {len(stop['killed'])} needed SIGKILL"),
]
day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
lines = [f"<!-- cluster-1024: begin (generated by org.popsolutions.spanker.benchmarks/cluster-1024.sh) -->",
         f"Measured {day} with `cluster-1024.sh --l5 {l5} --l4 {l4} --l3 {l3}` on {cores} cores, load average "
         f"{before} before and {after} after" + (f": **loaded** (above {cores}), so times are upper bounds and rates "
         "lower bounds, not final figures" if loaded else "") + ".", "",
         "| what | measured" + mark + " |", "|---|---|"]
lines += [f"| {a} | {b} |" for a, b in rows]
lines.append("<!-- cluster-1024: end -->")
text = open(out).read()
begin, end = "<!-- cluster-1024: begin", "<!-- cluster-1024: end -->"
if begin in text and end in text:
    text = text[:text.index(begin)] + "\n".join(lines) + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(out)))
with os.fdopen(fd, "w") as f:
    f.write(text)
os.replace(tmp, out)
print("\n".join(lines))
PY
