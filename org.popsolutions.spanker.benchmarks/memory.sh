#!/usr/bin/env bash
# Regenerates the "Memory" section of docs/performance.md (and docs/memory.json): the peak resident set size
# (/usr/bin/time -v, the whole process) of `./spanker run` on a TinyLlama-1.1B-shaped model, per JDK and card count,
# on in-process mock cards; and of one emulated card process (fleet start, run --device sails), read from its
# /proc/<pid>/status VmHWM. Each figure beside the model file, the KV cache and the goal of issue 16:
# peak <= 1.15 x (weights + KV cache) + 150 MB.
#
# usage: org.popsolutions.spanker.benchmarks/memory.sh [--jdks "17 25"] [--cards "1 4"] [--types "q4_0 q8_0 f16"] [--no-emulated]
# env:   JAVA17 (default: java), JAVA25 (default: /usr/lib/jvm/temurin-25-jdk-amd64/bin/java),
#        N (tokens generated, default 8); the models are synthesized once into target/memory/, one per type
# Resident memory does not depend on the machine's load; the tokens/s printed beside it does (say so if loaded).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jdks="17 25"
cards="1 4"
types="q4_0 q8_0 f16"
emulated=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --jdks) jdks=$2; shift 2 ;;
    --cards) cards=$2; shift 2 ;;
    --types|--type) types=$2; shift 2 ;;
    --no-emulated) emulated=no; shift ;;
    *) echo "usage: $0 [--jdks \"17 25\"] [--cards \"1 4\"] [--types \"q4_0 q8_0 f16\"] [--no-emulated]" >&2; exit 2 ;;
  esac
done
java17=${JAVA17:-$(command -v java)}
java25=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
jvm_of() { if [ "$1" = 25 ]; then echo "$java25"; else echo "$java17"; fi; }
[ -x /usr/bin/time ] || { echo "$0: /usr/bin/time is missing (apt-get install time)" >&2; exit 3; }
out=$root/org.popsolutions.spanker.benchmarks/target/memory
mkdir -p "$out"
runs=$out/runs.jsonl
: >"$runs"
n=${N:-8}
base_opts=${SPANKER_JAVA_OPTS:-}
# the emulated card's fleet lives in its own folder, not the user's ~/.cache/spanker/fleet
spanker_fleet() { SPANKER_JAVA=$(jvm_of "$1") SPANKER_JAVA_OPTS="-Dspanker.fleet.dir=$2 $base_opts" "$root/spanker" "${@:3}"; }
load() { cut -d' ' -f1 /proc/loadavg; }

# one JSON line per measurement, from the run's own JSON (bytes per card) and time's peak
record() { # jdk cards device peakKiB runJson load type model
  python3 - "$@" <<'EOF' >>"$runs"
import json, os, sys
jdk, cards, device, peak, run_json, load, weight_type, model = sys.argv[1:9]
run = json.load(open(run_json))
per_card = run["plan"]["perCard"]
print(json.dumps({"jdk": jdk, "cards": int(cards), "device": device, "peakRssBytes": int(peak) * 1024,
                  "type": weight_type, "model": os.path.basename(model), "modelBytes": os.path.getsize(model),
                  "weightBytes": sum(c["heldWeightBytes"] for c in per_card),
                  "kvCacheBytes": sum(c["kvCacheBytes"] for c in per_card),
                  "tokensPerSecond": run["timing"]["tokensPerSecond"], "load": float(load)}))
EOF
}

for type in $types; do
  model=$out/tinyllama-1.1b-$type.gguf
  if [ ! -f "$model" ]; then
    "$root/spanker" model-synth --preset tinyllama-1.1b --type "$type" --out "$model" >&2
  fi
  for jdk in $jdks; do
    for c in $cards; do
      echo "$type, JDK $jdk, $c mock card(s)" >&2
      l=$(load)
      SPANKER_JAVA=$(jvm_of "$jdk") /usr/bin/time -v -o "$out/time-$type-$jdk-$c.txt" "$root/spanker" run --model "$model" \
          --cards "$c" --threads 2 --n "$n" --json >"$out/run-$type-$jdk-$c.json" 2>"$out/run-$type-$jdk-$c.err" \
          || { echo "$0: the run failed, see $out/run-$type-$jdk-$c.err" >&2; exit 3; }
      peak=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/time-$type-$jdk-$c.txt")
      record "$jdk" "$c" mock "$peak" "$out/run-$type-$jdk-$c.json" "$l" "$type" "$model"
    done
    if [ "$emulated" = yes ]; then
      echo "$type, JDK $jdk, one emulated card process" >&2
      fleet=$out/fleet-$type-$jdk
      trap 'spanker_fleet "$jdk" "$fleet" fleet stop >/dev/null 2>&1 || true' EXIT
      spanker_fleet "$jdk" "$fleet" fleet start --cards 1 --unshaped >/dev/null
      pid=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['cards'][0]['pid'])" "$fleet/fleet.json")
      l=$(load)
      status=0
      spanker_fleet "$jdk" "$fleet" run --device sails --model "$model" --cards 1 --threads 2 --n "$n" --json \
          >"$out/run-$type-$jdk-emulated.json" 2>"$out/run-$type-$jdk-emulated.err" || status=$?
      peak=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")
      [ -n "$peak" ] || { echo "$0: cannot read the emulated card's VmHWM (/proc/$pid/status)" >&2; exit 3; }
      spanker_fleet "$jdk" "$fleet" fleet stop >/dev/null
      trap - EXIT
      [ "$status" = 0 ] || { echo "$0: run --device sails failed, see $out/run-$type-$jdk-emulated.err" >&2; exit 3; }
      record "$jdk" 1 emulated "$peak" "$out/run-$type-$jdk-emulated.json" "$l" "$type" "$model"
    fi
  done
done
python3 "$root/org.popsolutions.spanker.benchmarks/memory_table.py" "$runs" "$root/docs/performance.md" \
    "$root/docs/memory.json" "$("$java17" -version 2>&1 | head -1)" "$("$java25" -version 2>&1 | head -1)"
# the charts of the new figures (docs/plots)
"$root/org.popsolutions.spanker.benchmarks/plots.sh" memory
