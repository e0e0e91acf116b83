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
# tables' plans are mostly the decode tables' again; "decode prefill" also measures a prompt per plan, of
# MEASURE_PROMPT tokens if set (default 128), PROMPTS times after one unmeasured (default 1); not by default: a
# prompt pass of P tokens (up to 64) streams each card's weights once, as a decoded token does, but computes P times
# a token's arithmetic, so its fleet needs P x decode's dilation (dilation_for's third argument) to stay pace-bound,
# and its fleets pace the host link at rev-A's own rate (loads at K = 32 x decode's would take hours); PREFILL_DILATION
# sets that K. Prefill tables alone, TinyLlama's, decode's measurements kept:
# `MEASURE_MODELS=tinyllama-1.1b MEASURE_OBJECTIVES=prefill MEASURE_PROMPT=8 docs/planning.sh`, about 15 min on a
# quiet machine (K = 80, 160 and 320 for 2, 4 and 8 cards; per distinct plan two prompts of K x 0.06-0.29 s and a
# load at 100 MB/s). Checked at load 18 on 2 cards, 8 tokens, K = 200 and K = 80: every plan 0.99-1.00 of its prediction (the host
# term, 1 % of it, counts 1/K with the host link undilated),
# TOKENS sets N (default 4; TOKENS_7B for the 7B shape, default 2:
# its tokens are long and steady, and each follows the warm-up, which runs until tokens stop getting faster).
# A table not measured this time keeps the measured column of the same plans from the docs/planning.md it replaces
# (KEEP_MEASURED="" drops it): a measurement does not depend on the predictions, so after a change to the cost model
# `MEASURE_MODELS=llama-7b docs/planning.sh` re-predicts everything and measures only the 7B. A kept row needs the
# same plan (its description line unchanged); its measured / predicted is recomputed against the new prediction.
# The fleets are time-dilated (fleet start --dilation K; docs/protocol.md): K = DILATION if set, else
# ceil(cards x 2 GB/s / 0.8 GB/s x max(2, 1 + load average)): what keeps every card at rev-A's pace on this
# 2-core machine, with a margin. 0.8 GB/s (SPANKER_COMPUTE_GBPS elsewhere) is what 4-8 emulator processes
# together computed here (sails-timing.sh at the end of session 5: 1.2 GB/s on 4 cards, 0.9 on 8 — the
# emulators' threads share 2 cores), not the 3.8 GB/s one process's kernels reach alone.
# Measured times are divided by K by plan --measure. Loads dominate TinyLlama's time: each plan's weights cross the
# paced host link at 100 MB/s / K per card. The models in REV_A_HOST_LINK_MODELS (default "llama-7b") are measured
# on fleets whose host link runs at rev-A's own 100 MB/s (fleet start --host-link-dilation 1): the measured quantity
# is decode time, and a 7B load (3.8 GB) over a host link dilated xK would take K x 38 s per plan; the price is that
# the per-token host-link time (logits and step writes, the tables' host column, under 1 % of a 7B token) counts
# 1/K of rev-A's in those measurements, which the table beside them says.
#
# Time on a quiet 2-core machine (load average under 1, so K = 10, 20 and 40 for 2, 4 and 8 cards): TinyLlama about
# 20 min (session 5's run: 18 min), the 7B about 20 min (`MEASURE_MODELS=llama-7b docs/planning.sh`, TinyLlama's
# measurements kept): per distinct plan ~4 decode tokens of K x 0.24-1.9 s and a 3.8 GB load at 100 MB/s; the
# even-layers pipeline on 8 cards alone (4 x 40 x 1.87 s) is 5 min. Checked end to end at load 20 with
# `MEASURE_MODELS=llama-7b MEASURE_CARDS=2 TOKENS_7B=1 DILATION=10`: 3 distinct plans in 281 s, each 1.00 of its
# prediction.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
spanker=$root/spanker
out=$root/docs/planning.md
work=$(mktemp -d)
fleet_started=
# dilation_for, load_average and own_fleet: a fleet of its own, so a fleet someone else runs is left alone
source "$root/org.popsolutions.spanker.benchmarks/lib.sh"
own_fleet "$work/fleet"
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
load() { load_average; }
# decode tokens measured per plan: a 7B token is 6x TinyLlama's, and the warm-up before them stops when tokens stop
# getting faster (at least 2)
tokens_for() { if [[ $1 == llama-7b ]]; then echo "${TOKENS_7B-2}"; else echo "$tokens"; fi; }
# models whose fleets pace the host link at rev-A's own rate (fleet start --host-link-dilation 1): a 7B load (3.8 GB)
# over a host link dilated xK would take K x 38 s per plan
rev_a_host_link_models=${REV_A_HOST_LINK_MODELS-llama-7b}
keep_measured=${KEEP_MEASURED-yes}
"$spanker" model-synth --preset tinyllama-1.1b --type q4_0 --shapes-only --out "$work/tinyllama-1.1b.gguf" >/dev/null
"$spanker" model-synth --preset llama-7b --type q4_0 --shapes-only --out "$work/llama-7b.gguf" >/dev/null

# One comparison as a Markdown table, measured on the running fleet when $4 is "yes".
comparison() {
    local model=$1 cards=$2 objective=$3 measured=$4 text status=0 before took=$SECONDS n prompt=$prompt what
    before=$(load)
    n=$(tokens_for "$model")
    what="$n decode tokens per plan after warm-up"
    if [[ $measured == yes && $objective == prefill ]]; then
        # a measured prompt runs at the cards' pace, P x the weight streaming per stage: MEASURE_PROMPT shortens it
        prompt=${MEASURE_PROMPT:-$prompt} n=${PROMPTS:-1}
        what="$n prompt(s) of $prompt tokens per plan after one unmeasured, in the runtime's batched passes"
    fi
    if [[ $measured == yes ]]; then
        text=$("$spanker" plan --model "$work/$model.gguf" --device sails --context "$context" --compare \
            --objective "$objective" --prompt "$prompt" --measure "$n" --no-format 2>&1) || status=$?
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
    local measured_header="decode s/token (measured)"
    if [[ $objective == prefill ]]; then measured_header="prefill of $prompt tokens (measured)"; fi
    echo "| plan | decode s/token (predicted) | prefill of $prompt tokens (predicted) | prefill as | dominant term | compute | links | latency | host | fits | vs chosen | $measured_header | measured / predicted |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' 'NF == 11 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | not measured | - |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }
        NF == 13 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }' <<<"$text"
    echo
    if [[ $measured == yes ]]; then
        local link="the host link dilated with them"
        if [[ " $rev_a_host_link_models " == *" $model "* || $objective == prefill ]]; then
            link="the host link at rev-A's own 100 MB/s (fleet start --host-link-dilation 1: loads undilated; the per-token host-link time, in the host column, counts 1/$fleet_dilation of rev-A's in the measurement)"
        fi
        echo "Measured on $cards paced emulated cards dilated x$fleet_dilation, $link ($what; times divided by the dilation), load average $before before and $(load) after; $((SECONDS - took)) s."
        echo
    fi
    grep -E '^(chosen|even-layers|memory-ring|tensor-parallel|per-block): ' <<<"$text" | sed 's/^\([a-z-]*\): /- **\1**: /'
    grep -E '^note: ' <<<"$text" | sed 's/^note: /- /'
    echo
}

# comparison, and for a table not measured this time the earlier run's measurements of the same plans (KEEP_MEASURED)
table() {
    if [[ $4 != yes && -n $keep_measured && -f $out ]]; then
        comparison "$@" | (cd "$root/org.popsolutions.spanker.benchmarks" && python3 planning_keep.py "$out" "$1" "$2" "$3")
    else
        comparison "$@"
    fi
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
vector between stages, and the GbE host link's round trips per token (a card cut off from the others is reached
through the host). *Host*: each round trip costs the host link's latency (50 µs) plus its bytes at 100 MB/s, as the
runtime makes them: the token and position written to every card that runs a program (back to back, one latency),
the programs' SUBMITs behind them, the cards' COMPLETEs, a READ of the head's input (the host checks it for NaN) and
one READ per head card of its rows of the logits, one after another — six latencies and 136 KB for TinyLlama with its
head on one card, two more latencies per further head card; a prompt pays them once per pass of 64 tokens. Not
counted: the SUBMITs' program bytes (the runtime re-sends each card's program every token; the emulated cards do not
pace them) and the host's own software time. Decode is one token through every block. Prefill of P tokens is costed two ways, the
cheaper counted: *batched* (the runtime's passes of up to 64 tokens; in a pass each stage takes all the pass's tokens
as one matrix-matrix product, so each card streams its weights once per pass, not once per token — rev-A's rule, a
product takes at least its weight bytes at 2 GB/s, which the emulated card paces; per pass one allreduce of the
pass's hidden vectors per collective, one hand-off of them between stages and the head once, for the pass's last
token) or *pipelined* (one token per step, consecutive stages overlapping: Σ stages + (P − 1) × the slowest stage).
Not counted, in prefill as in decode: the per-token ops (embedding rows, norms, rope, attention over the KV cache),
which the emulated card does not pace either.

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
undilated, 4 and 8 cards measured the CPU, not the pace). K is ceil(cards × 2 GB/s ÷ 0.8 GB/s × max(2, 1 + the
load average when the fleet starts)) — 0.8 GB/s is what 4–8 emulator processes together compute on this 2-core
machine — and given beside each table. The host's own per-token work (sampling, submitting programs, reading the
logits) is divided by K too, though it ran at full speed: beside real cards it would count K times more. The 7B's
fleets pace the host link at rev-A's own 100 MB/s (`fleet start --host-link-dilation 1`; docs/protocol.md): the
measured quantity is decode time, and 3.8 GB of weights over a host link dilated ×K would take K × 38 s per plan;
the price, said beside those tables, is that the per-token host-link time (the host column, under 1 % of a 7B
token) counts 1/K of rev-A's in their measurements. Plans of the same layout (even-layers and memory-ring on equal
cards, by construction) are run once and their measurement shown on both rows. Decode-optimised tables are measured
(decode time per token); prefill-optimised ones only when MEASURE_OBJECTIVES names prefill (a prompt's time, in the
runtime's batched passes), on fleets of their own: a pass computes P times a token's arithmetic in one token's paced
time, so K is P times decode's (P the pass's tokens, up to 64), and the host link runs at rev-A's own rate, as for
the 7B. A table this run did not measure keeps an earlier run's measurements of the same plans,
and says so. A "No plan" row is the error the run stopped at.

INTRO
    for model in tinyllama-1.1b llama-7b; do
        echo "## $model"
        echo
        for cards in 2 4 8; do
            for objective in decode prefill; do
                measured=no
                if [[ -n $measure && " $measure_models " == *" $model "* && " $measure_cards " == *" $cards "* \
                        && " $measure_objectives " == *" $objective "* ]]; then
                    # K once per fleet: the load it depends on moves while the fleet runs. A prompt pass computes
                    # its tokens' arithmetic in one token's paced time: K x the pass's tokens, and the host link at
                    # rev-A's rate (a load over a host link dilated so far would take hours)
                    host_link=()
                    if [[ $objective == prefill ]]; then
                        pass=$(( ${MEASURE_PROMPT:-$prompt} < 64 ? ${MEASURE_PROMPT:-$prompt} : 64 ))  # PromptPass.MAX_TOKENS
                        fleet_dilation=$(dilation_for "$cards" "${PREFILL_DILATION:-}" "$pass")
                        host_link=(--host-link-dilation 1)
                    else
                        fleet_dilation=$(dilation_for "$cards" "${DILATION:-}")
                        if [[ " $rev_a_host_link_models " == *" $model "* ]]; then host_link=(--host-link-dilation 1); fi
                    fi
                    "$spanker" fleet start --cards "$cards" --dilation "$fleet_dilation" "${host_link[@]}" >/dev/null \
                        && measured=yes && fleet_started=yes
                fi
                table "$model" "$cards" "$objective" "$measured"
                if [[ $measured == yes ]]; then
                    "$spanker" fleet stop >/dev/null
                    fleet_started=
                fi
            done
        done
    done
    if [[ -n $measure ]]; then
        settings="MEASURE_MODELS=\"$measure_models\", MEASURE_CARDS=\"$measure_cards\", MEASURE_OBJECTIVES=\"$measure_objectives\", TOKENS=$tokens, TOKENS_7B=${TOKENS_7B-2}${DILATION:+, DILATION=$DILATION}"
    else
        settings="MEASURE=\"\": nothing measured"
    fi
    echo "*This run took $(( $(date +%s) - started_at )) s ($settings${keep_measured:+; tables not measured keep earlier measurements of the same plans}).*"
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
# its rows as docs/planning.json and their charts (docs/plots)
"$root/org.popsolutions.spanker.benchmarks/plots.sh" planning
