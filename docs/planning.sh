#!/usr/bin/env bash
# Regenerates docs/planning.md: the searching planner's chosen plan against the fixed recipes, predicted by one
# cost model, for TinyLlama-1.1B and a Llama-2-7B-shaped model on 2, 4 and 8 rev-A cards (ring), for decode and
# for a 128-token prefill.
#
#   docs/planning.sh            (from anywhere; ./spanker builds the project on its first run)
#
# The models are shapes only (model-synth --shapes-only: zero weights, a sparse file), which is all planning reads
# and all a timing needs. Measured columns: for each card count a paced fleet of emulated cards (fleet start, rev-A
# rates) runs every plan that fits (plan --compare --measure N --device sails); MEASURE="" skips them,
# MEASURE_MODELS limits them to some models, MEASURE_CARDS to some card counts (default "2 4 8"),
# MEASURE_OBJECTIVES to some objectives (default "decode": the measured column is decode time, and the prefill
# tables' plans are mostly the decode tables' again), TOKENS sets N (default 4).
# The fleets are time-dilated (fleet start --dilation K; docs/protocol.md): K = DILATION if set, else
# ceil(cards x 2 GB/s / 0.8 GB/s x max(2, 1 + load average)): what keeps every card at rev-A's pace on this
# 2-core machine, with a margin. 0.8 GB/s (SPANKER_COMPUTE_GBPS elsewhere) is what 4-8 emulator processes
# together computed here (sails-timing.sh at the end of session 5: 1.2 GB/s on 4 cards, 0.9 on 8 — the
# emulators' threads share 2 cores), not the 3.8 GB/s one process's kernels reach alone.
# Measured times are divided by K by plan --measure. Loads dominate the time: each plan's weights cross the paced
# host link at 100 MB/s / K per card.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
spanker=$root/spanker
out=$root/docs/planning.md
work=$(mktemp -d)
fleet_started=
# a fleet of its own, so a fleet someone else runs is left alone
export SPANKER_JAVA_OPTS="${SPANKER_JAVA_OPTS:-} -Dspanker.fleet.dir=$work/fleet"
trap 'if [[ -n $fleet_started ]]; then "$spanker" fleet stop >/dev/null 2>&1 || true; fi; rm -rf "$work"' EXIT
started_at=$(date +%s)
context=2048
prompt=128
measure=${MEASURE-yes}
measure_models=${MEASURE_MODELS-tinyllama-1.1b llama-7b}
measure_cards=${MEASURE_CARDS-2 4 8}
measure_objectives=${MEASURE_OBJECTIVES-decode}
fleet_dilation=1
tokens=${TOKENS-4}
dilation_for() {
    if [[ -n ${DILATION:-} ]]; then echo "${DILATION:-}"; return; fi
    # what the cards stream (2 GB/s each) over what this machine's cores compute (0.8 GB/s for 4-8 emulators on 2 cores, or
    # SPANKER_COMPUTE_GBPS), times 1 + the load average (others' work takes the cores too), at least 2x, rounded up
    awk -v cards="$1" -v gbps="${SPANKER_COMPUTE_GBPS:-0.8}" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        margin = 1 + load; if (margin < 2) margin = 2
        k = cards * 2 / gbps * margin; printf "%d\n", (k == int(k)) ? k : int(k) + 1 }'
}
load() { awk '{ print $1 }' /proc/loadavg; }

"$spanker" model-synth --preset tinyllama-1.1b --type q4_0 --shapes-only --out "$work/tinyllama-1.1b.gguf" >/dev/null
"$spanker" model-synth --preset llama-7b --type q4_0 --shapes-only --out "$work/llama-7b.gguf" >/dev/null

# One comparison as a Markdown table, measured on the running fleet when $4 is "yes".
comparison() {
    local model=$1 cards=$2 objective=$3 measured=$4 text status=0 before took=$SECONDS
    before=$(load)
    if [[ $measured == yes ]]; then
        text=$("$spanker" plan --model "$work/$model.gguf" --device sails --context "$context" --compare \
            --objective "$objective" --prompt "$prompt" --measure "$tokens" --no-format 2>&1) || status=$?
    else
        text=$("$spanker" plan --model "$work/$model.gguf" --cards "$cards" --context "$context" --compare \
            --objective "$objective" --prompt "$prompt" --no-format 2>&1) || status=$?
    fi
    echo "#### $model, $cards cards, optimised for $objective"
    echo
    if [[ $status -ne 0 ]]; then
        echo "No plan: \`${text//$'\n'/ }\`"
        echo
        return
    fi
    echo "| plan | decode s/token (predicted) | prefill of $prompt tokens (predicted) | prefill as | dominant term | compute | links | latency | host | fits | vs chosen | decode s/token (measured) | measured / predicted |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' 'NF == 11 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | not measured | - |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }
        NF == 13 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }' <<<"$text"
    echo
    if [[ $measured == yes ]]; then
        echo "Measured on $cards paced emulated cards dilated x$fleet_dilation ($tokens decode tokens per plan after warm-up; times divided by the dilation), load average $before before and $(load) after; $((SECONDS - took)) s."
        echo
    fi
    grep -E '^(chosen|even-layers|memory-ring|tensor-parallel|per-block): ' <<<"$text" | sed 's/^\([a-z-]*\): /- **\1**: /'
    grep -E '^note: ' <<<"$text" | sed 's/^note: /- /'
    echo
}

{
    cat <<'INTRO'
# Planning: searched plans against the fixed recipes

*Generated by `docs/planning.sh`; do not edit by hand.*

Charts of the tables below (decode time per plan against cards, measured solid and predicted dashed, drawn by
`org.popsolutions.spanker.benchmarks/plots.sh planning` from `docs/planning.json`):
[plans optimised for decode](plots/planning-decode.svg), [plans optimised for prefill](plots/planning-prefill.svg).

The searching planner (bundle `org.popsolutions.spanker.strategy.search`, Karaf feature
`spanker-strategy-search`) looks for the plan its cost model predicts fastest over the whole layout space:

- pipeline stages over contiguous, not necessarily even, layer ranges, each on the next contiguous run of the
  card chain (a path through the cards over links that are UP; on a healthy ring 0, 1, …, p−1);
- a tensor-parallel group of 1, 2, 4, … neighbouring cards per stage (Megatron split of heads and feed-forward rows,
  norms replicated, two allreduces of the hidden vector per block), so TP groups inside pipeline stages are hybrids;
- the allreduce algorithm per group (ring, recursive doubling, halving-doubling, direct);
- the embedding on any one card or replicated on the first group; the head's rows over any contiguous run of cards;
- each card's memory: its weights plus the KV cache (float32 K and V) of its heads for the context.

Costs: DDR-bound compute (a card streams its share of the weights once per token at the local DDR rate; a step
lasts as long as its slowest card), the link model's α (hop latency), β (1 / sustained payload rate) and γ
(1 / reduce rate) step by step on the actual routes over UP links with shared links counted, hand-offs of the hidden
vector between stages, and the GbE host link for the token ids in and the logits out (a card cut off from the others
is reached through the host). Decode is one token through every block. Prefill of P tokens is costed two ways, the
cheaper counted: *batched* (each stage takes the whole prompt: P × the weight streaming, one allreduce of P hidden
vectors per collective, so tensor parallelism pays the latency once) or *pipelined* (one token per step, consecutive
stages overlapping: Σ stages + (P − 1) × the slowest stage). Rev-A cards are assumed to stream weights per token
(no reuse of a weight tile across tokens in a batch); a card that can batch would make prefill cheaper for every plan.

The search is exact: dynamic programming over the layer chain (state: layers placed, cards used), one programme per
embedding placement, and a branch and bound over head placements (their memory reservation relaxed for the bound,
re-solved when the relaxed optimum does not fit). A unit test enumerates every layout of small cases and checks the
search's choice costs exactly the brute-force optimum; for 80 blocks on 8 cards it takes well under a second of CPU.

Baselines, costed by the same model:

- **even-layers**: llama.cpp's default layer split, contiguous ranges of about L/p blocks, one card each;
- **memory-ring**: exo's split, contiguous ranges weighted by each card's memory around the ring (equal cards: the
  same ranges as even-layers);
- **tensor-parallel**: every block and the head split over every card;
- **per-block**: the plan the per-block rule builds (the active partition strategy's `pick` on each block's tiles).

Columns compute, links (β and γ), latency (α) and host split the objective's predicted time; the dominant term is
the largest. Models: shapes of TinyLlama-1.1B and Llama-2-7B (`model-synth --shapes-only`), Q4_0, context 2048
tokens, rev-A cards (4 GB DDR3L, 2 GB/s DDR, 500 MB/s links, 100 MB/s host link), cabled as a ring.

**Measured**: each plan that fits decodes a few tokens on a paced fleet of emulated cards (one process per card,
rev-A rates: 2 GB/s weight streaming, 500 MB/s links, 100 MB/s host link), after warm-up tokens; plans with the same
layout run once. The fleets are **time-dilated** (`fleet start --dilation K`, docs/protocol.md): every modelled
time on the cards runs K times slower than rev-A and the measured time is divided by K, so a 2-core machine can
keep 4 or 8 card processes at their pace (a card streams 2 GB/s of weights, a Java core computes about 1.9 GB/s:
undilated, 4 and 8 cards measured the CPU, not the pace). K is ceil(cards × 2 GB/s ÷ 3.8 GB/s × max(2, 1 + the
load average when the fleet starts)) — the arithmetic, with room for what else runs — and given beside each table. The host's own per-token work
(sampling, submitting programs, reading the logits) is divided by K too, though it ran at full speed: beside real
cards it would count K times more. Only decode-optimised tables are measured (the measured column is decode time);
a "No plan" row is the error the run stopped at.

INTRO
    for model in tinyllama-1.1b llama-7b; do
        echo "## $model"
        echo
        for cards in 2 4 8; do
            measured=no
            if [[ -n $measure && " $measure_models " == *" $model "* && " $measure_cards " == *" $cards "* ]]; then
                # K once per fleet: the load it depends on moves while the fleet runs
                fleet_dilation=$(dilation_for "$cards")
                "$spanker" fleet start --cards "$cards" --dilation "$fleet_dilation" >/dev/null \
                    && measured=yes && fleet_started=yes
            fi
            for objective in decode prefill; do
                if [[ " $measure_objectives " == *" $objective "* ]]; then
                    comparison "$model" "$cards" "$objective" "$measured"
                else
                    comparison "$model" "$cards" "$objective" no
                fi
            done
            if [[ $measured == yes ]]; then
                "$spanker" fleet stop >/dev/null
                fleet_started=
            fi
        done
    done
    echo "*This run took $(( $(date +%s) - started_at )) s (MEASURE_MODELS=\"$measure_models\", MEASURE_CARDS=\"$measure_cards\", MEASURE_OBJECTIVES=\"$measure_objectives\", TOKENS=$tokens${DILATION:+, DILATION=$DILATION}).*"
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
# its rows as docs/planning.json and their charts (docs/plots)
"$root/org.popsolutions.spanker.benchmarks/plots.sh" planning
