#!/usr/bin/env bash
# Issue 9's timing goals on shaped emulated Sails cards (rev-A rates), measured against the plan's prediction:
#   decode seconds per token on 1, 2, 4 and 8 cards (TinyLlama-1.1B shapes, Q4_0, and the tiny preset),
#   bench-collective --device sails --shaped on 4 cards (64 KiB .. 16 MiB),
#   host-link WRITE and round trip, unshaped, against raw TCP (bench-hostlink).
# Writes docs/sails-timing.md (temp file + rename). A benchmark, not a test: run it on a quiet machine
# (it prints the load average it started and ended with) — several minutes.
#
#   org.popsolutions.spanker.benchmarks/sails-timing.sh [--cards "1 2 4 8"] [--n 8] [--out docs/sails-timing.md]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
spanker=$root/spanker
cards_list="1 2 4 8"
n=8
out=$root/docs/sails-timing.md
while [[ $# -gt 0 ]]; do
    case $1 in
        --cards) cards_list=$2; shift 2 ;;
        --n) n=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "sails-timing.sh: unknown option $1 (--cards \"1 2 4 8\", --n N, --out FILE)" >&2; exit 2 ;;
    esac
done

work=$(mktemp -d)
fleet=$work/fleet
export SPANKER_JAVA_OPTS="${SPANKER_JAVA_OPTS:-} -Dspanker.fleet.dir=$fleet"
# each card logs, per program, its modelled (rev-A) time and what the emulator spent: the tables say which bound
export SPANKER_EMULATOR_TIMING=1
cleanup() {
    "$spanker" fleet stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

model=$work/tinyllama-q4_0.gguf
"$spanker" model-synth --preset tinyllama-1.1b --type q4_0 --out "$model" >/dev/null
tiny=$work/tiny-q8_0.gguf
"$spanker" model-synth --preset tiny --type q8_0 --out "$tiny" >/dev/null
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

rows=$work/rows.jsonl
: >"$rows"
for cards in $cards_list; do
    "$spanker" fleet start --cards "$cards" >/dev/null
    for m in "$model" "$tiny"; do
        name=$(basename "$m" .gguf)
        marks=$work/marks
        : >"$marks"
        for log in "$fleet"/card-*.log; do echo "$log $(wc -l <"$log")" >>"$marks"; done
        started=$(date +%s.%N)
        "$spanker" run --device sails --model "$m" --n "$n" --json >"$work/run.json"
        ended=$(date +%s.%N)
        python3 - "$cards" "$name" "$started" "$ended" "$work/run.json" "$marks" >>"$rows" <<'EOF'
import json, re, sys
cards, name, started, ended = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
run = json.load(open(sys.argv[5]))
t = run["timing"]
# the cards' own account of the decode programs of this run (their logs past the marks): per card the mean
# modelled time and the mean time the emulator computed; the slowest card's pair says whether it was CPU-bound
timing = re.compile(r"timing 'decode on card \d+': \d+ ops, emulator ([0-9.]+) ms, completed after [0-9.]+ ms;"
                    r" modelled ([0-9.]+) ms")
load = re.compile(r"timing host link: \d+ WRITEs, \d+ bytes, first to last paced ([0-9.]+) s \(bytes at the rate:"
                  r" ([0-9.]+) s\), idle between them \(no frame waiting\) ([0-9.]+) s")
worst, link = None, None
for mark in open(sys.argv[6]):
    log, seen = mark.rsplit(" ", 1)
    lines = open(log).read().splitlines()[int(seen):]
    progs = [tuple(map(float, m.groups())) for m in map(timing.search, lines) if m]
    if progs:
        # the first is the prompt's first token (cold code); the mean is over the rest
        body = progs[1:] or progs
        emu = sum(p[0] for p in body) / len(body)
        mod = sum(p[1] for p in body) / len(body)
        if worst is None or emu / max(mod, 1e-9) > worst[0] / max(worst[1], 1e-9):
            worst = (emu, mod)
    for m in map(load.search, lines):
        if m:
            paced, rate, idle = map(float, m.groups())
            link = max(link or (0, 0, 0), (paced, rate, idle))
print(json.dumps({"kind": "decode", "cards": int(cards), "model": name,
                  "predicted": t["predictedSecondsPerToken"], "measured": t["measuredSecondsPerToken"],
                  "loadMeasured": t.get("loadSeconds"), "loadPredicted": t.get("predictedLoadSeconds"),
                  "cardEmulatorMs": worst[0] if worst else None, "cardModelledMs": worst[1] if worst else None,
                  "linkPacedSeconds": link[0] if link else None, "linkIdleSeconds": link[2] if link else None,
                  "wall": ended - started, "tokens": run["tokens"]}))
EOF
    done
    if [[ $cards == 4 ]]; then
        "$spanker" bench-collective --device sails --shaped --min 64K --max 16M --factor 4 --iters 3 --warmup 1 \
            --json | python3 -c '
import json, sys
for r in json.load(sys.stdin)["rows"]:
    print(json.dumps({"kind": "collective", "size": r["size"], "algorithm": r["algorithm"],
                      "predicted": r["predictedMicros"] / 1e6, "measured": r["timeMicros"] / 1e6}))' >>"$rows"
    fi
    "$spanker" fleet stop >/dev/null
done

"$spanker" fleet start --cards 2 --unshaped --bench >/dev/null
"$spanker" bench-hostlink --device sails --mib 64 --json | python3 -c '
import json, sys
for r in json.load(sys.stdin)["rows"]:
    print(json.dumps({"kind": "hostlink", **r}))' >>"$rows"
"$spanker" fleet stop >/dev/null
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

tmp=$(mktemp "$out.XXXXXX")
python3 - "$rows" "$load_before" "$load_after" "$n" >"$tmp" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
before, after, n = sys.argv[2], sys.argv[3], sys.argv[4]
def ratio(m, p):
    return f"{m / p:.2f}" if p else "-"
print("# Shaped emulated cards against the model (generated)\n")
print(f"Written by `org.popsolutions.spanker.benchmarks/sails-timing.sh`; load average {before} before, {after} after")
print("(2 cores: every emulated card is an OS process, so more than two cards share the cores).\n")
print(f"## Decode, `run --device sails --n {n}` on a shaped fleet\n")
print("Busiest card: per decode program, the time the emulator computed against the card's modelled (rev-A) time")
print("(its own log); a card whose compute exceeds its modelled time is CPU-bound and its measured time says nothing")
print("about the model. Host link: the busiest card's weights transfer from its first to its last WRITE as paced,")
print("and how long the link sat idle in between waiting for the host.\n")
print("| model | cards | predicted s/token | measured s/token | measured/predicted | busiest card: emulator / modelled ms | load measured s | load predicted s | host link paced s (idle s) |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    if r["kind"] == "decode":
        lm = f"{r['loadMeasured']:.3f}" if r.get("loadMeasured") is not None else "-"
        lp = f"{r['loadPredicted']:.3f}" if r.get("loadPredicted") is not None else "-"
        card = "-"
        if r.get("cardEmulatorMs") is not None:
            bound = "CPU-bound" if r["cardEmulatorMs"] > r["cardModelledMs"] else "paced"
            card = f"{r['cardEmulatorMs']:.1f} / {r['cardModelledMs']:.1f} ({bound})"
        link = "-"
        if r.get("linkPacedSeconds") is not None:
            link = f"{r['linkPacedSeconds']:.3f} ({r['linkIdleSeconds']:.3f})"
        print(f"| {r['model']} | {r['cards']} | {r['predicted']:.4f} | {r['measured']:.4f} | "
              f"{ratio(r['measured'], r['predicted'])} | {card} | {lm} | {lp} | {link} |")
print("\n## `bench-collective --device sails --shaped`, allreduce, 4 cards\n")
print("| bytes | algorithm | predicted s | measured s | measured/predicted |")
print("|---|---|---|---|---|")
for r in rows:
    if r["kind"] == "collective":
        print(f"| {r['size']} | {r['algorithm']} | {r['predicted']:.6f} | {r['measured']:.6f} | "
              f"{ratio(r['measured'], r['predicted'])} |")
print("\n## Host link, unshaped, against raw TCP between the same processes (`bench-hostlink`)\n")
print("| measure | bytes | protocol / measured | raw TCP / model | ratio |")
print("|---|---|---|---|---|")
for r in rows:
    if r["kind"] == "hostlink":
        cells = [str(v) for k, v in r.items() if k != "kind"]
        print("| " + " | ".join(cells) + " |")
EOF
mv "$tmp" "$out"
# the same rows as JSON beside the table, and their charts (docs/plots) when the table is the docs' one
python3 - "$rows" "${out%.md}.json" <<'EOF'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
with open(sys.argv[2] + ".tmp", "w") as f:
    json.dump({"source": "sails-timing.sh, the rows of its tables", "rows": rows}, f, indent=1)
    f.write("\n")
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
EOF
if [[ $out == "$root/docs/sails-timing.md" ]]; then
    "$root/org.popsolutions.spanker.benchmarks/plots.sh" sails-timing
fi
echo "wrote $out (load average $load_before before, $load_after after)"
