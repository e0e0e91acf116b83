#!/usr/bin/env bash
# Regenerates the "Prompt processing" and "Decode" tables of docs/performance.md (and docs/prefill.json): `./spanker run`
# as a user runs it on a TinyLlama-1.1B-shaped model on one mock card, a 128-token prompt then 32 generated tokens, per
# weight type, JDK and thread count. Prompt tokens/s (the prompt in batched passes) against generation tokens/s, with
# issue 12's goal (prompt >= 5 x generation); generation as weight bytes per second and as a fraction of the DRAM read
# ceiling measured in the same sitting (lib.sh dram_ceiling, a native streaming read per thread count, at the start and
# the end; the Java streaming sum, JMH DramBandwidthBenchmark per JDK and thread count, beside it); generation against
# llama.cpp's figures of SPEC section 9 (report.py holds them); the prompt against ggml's own matrix products at the
# model's shapes (ggml_matmul.sh, same sitting: the prompt tokens/s its products alone would allow); the load average
# around each run; the arithmetic ceiling (vnni_peak.c: one core's vpdpbusd rate, the prompt tokens/s the model's
# multiply-adds allow at it). About a minute per type on an idle machine, plus the DRAM and ggml runs (ggml is built once, about
# a minute, cached in /tmp).
#
# usage: org.popsolutions.spanker.benchmarks/prefill.sh [--jdks "17 25"] [--threads "1 2"] [--prompt 128] [--n 32]
#                                                      [--types "q4_0 q8_0 q4_k"]  (issue 12's decode types by default;
#                                                      one model per type)
# env:   JAVA17 (default: java), JAVA25 (default: /usr/lib/jvm/temurin-25-jdk-amd64/bin/java), MAVEN_REPO (a
#        -Dmaven.repo.local, when the JMH jar must be built); each model is synthesized once into target/memory/
#        (shared with memory.sh); DOCS (default: the repository's docs/; another directory gets performance.md and
#        prefill.json written there, from copies of the repository's when it has none, and no charts)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jdks="17 25"
threads="1 2"
prompt=128
n=32
types="q4_0 q8_0 q4_k"
while [ $# -gt 0 ]; do
  case "$1" in
    --jdks) jdks=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --prompt) prompt=$2; shift 2 ;;
    --n) n=$2; shift 2 ;;
    --types) types=$2; shift 2 ;;
    *) echo "usage: $0 [--jdks \"17 25\"] [--threads \"1 2\"] [--prompt 128] [--n 32] [--types \"q4_0 q8_0 q4_k\"]" >&2; exit 2 ;;
  esac
done
java17=${JAVA17:-$(command -v java)}
java25=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
jvm_of() { if [ "$1" = 25 ]; then echo "$java25"; else echo "$java17"; fi; }
load() { cut -d' ' -f1 /proc/loadavg; }
out=$root/org.popsolutions.spanker.benchmarks/target/memory
mkdir -p "$out"
for type in $types; do
  case "$type" in
    f32|f16|bf16|q4_0|q4_1|q8_0|q4_k|q6_k) ;;
    *) echo "$0: --types takes f32 f16 bf16 q4_0 q4_1 q8_0 q4_k q6_k, not '$type'" >&2; exit 2 ;;
  esac
  if [ ! -f "$out/tinyllama-1.1b-$type.gguf" ]; then
    "$root/spanker" model-synth --preset tinyllama-1.1b --type "$type" --out "$out/tinyllama-1.1b-$type.gguf" >&2
  fi
done
# the weight bytes a generated token reads: every tensor but the embedding table, of which a token reads one row (the
# table itself when the head is tied to it, i.e. the file has no output.weight)
weights=$out/prefill-weights.jsonl
: >"$weights"
for type in $types; do
  "$root/spanker" gguf "$out/tinyllama-1.1b-$type.gguf" --json | python3 -c '
import json, sys
tensors = json.load(sys.stdin)["tensors"]
tied = not any(t["name"] == "output.weight" for t in tensors)
print(json.dumps({"type": sys.argv[1], "weightBytesPerToken":
                  sum(t["bytes"] for t in tensors if tied or t["name"] != "token_embd.weight")}))' "$type" >>"$weights"
done
jar=$root/org.popsolutions.spanker.benchmarks/target/benchmarks.jar
if [ ! -f "$jar" ]; then
  (cd "$root" && ./mvnw -q -B install -pl org.popsolutions.spanker.benchmarks -am -DskipTests ${MAVEN_REPO:+-Dmaven.repo.local=$MAVEN_REPO})
fi
# a fixed prompt of token ids spread over the vocabulary (no tokenizer involved)
tokens=$(python3 -c "print(','.join(str(1 + (37 * i) % 31999) for i in range($prompt)))")
runs=$out/prefill-runs.jsonl
: >"$runs"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# the DRAM read ceiling per thread count and the Java streaming sum of each JDK and thread count, in this sitting (what
# a generated token's weights stream from)
rm -f "$out"/prefill-dram-*.json
. "$root/org.popsolutions.spanker.benchmarks/lib.sh"
dram_ceiling "$threads" "$out/prefill-dram-ceiling-start"
dram_reads "$jar" "$java17" "$java25" "$jdks" "$threads" "$out/prefill-dram"
# ggml's own products at the model's shapes with n = the prompt's tokens, in this sitting (ggml_matmul.sh): the prompt
# tokens/s its matrix products alone allow, the ceiling of a llama.cpp prompt on this CPU (TinyLlama-1.1B: per layer
# q, k, v, o, gate, up, down as rows:columns; the head for the last token only, n = 1)
layer_shapes="2048:2048 256:2048 256:2048 2048:2048 5632:2048 5632:2048 2048:5632"
head_shape="32000:2048"
layers=22
ggml_shapes=""
for type in $types; do
  g=$(echo "$type" | sed 's/_k$/_K/')
  for s in $(echo $layer_shapes | tr ' ' '\n' | sort -u); do
    ggml_shapes="$ggml_shapes $g:${s%%:*}:$prompt:${s##*:}"
  done
  ggml_shapes="$ggml_shapes $g:${head_shape%%:*}:1:${head_shape##*:}"
done
"$root/org.popsolutions.spanker.benchmarks/ggml_matmul.sh" --threads "$threads" $ggml_shapes >"$out/prefill-ggml.jsonl"
python3 -c 'import json, sys
print(json.dumps({"layers": int(sys.argv[1]), "layer": sys.argv[2].split(), "head": sys.argv[3], "n": int(sys.argv[4])}))' \
    "$layers" "$layer_shapes" "$head_shape" "$prompt" >"$out/prefill-ggml-shapes.json"
echo "prefill: ggml's products timed (load $(load))" >&2
# the arithmetic ceiling: one thread's AVX-512 VNNI multiply-adds per CPU second (vnni_peak.c, built once into $out),
# per thread count; prefill_table.py turns it into the prompt tokens/s the model's multiply-adds allow at that rate
rm -f "$out/prefill-vnni.jsonl"
if gcc -O2 -pthread -o "$out/vnni_peak" "$root/org.popsolutions.spanker.benchmarks/src/main/c/vnni_peak.c" 2>/dev/null; then
  "$out/vnni_peak" $threads >"$out/prefill-vnni.jsonl" || rm -f "$out/prefill-vnni.jsonl"
fi
for type in $types; do
for jdk in $jdks; do
  for t in $threads; do
    model=$out/tinyllama-1.1b-$type.gguf
    before=$(load)
    SPANKER_JAVA=$(jvm_of "$jdk") "$root/spanker" run --model "$model" --cards 1 --threads "$t" --n "$n" \
      --context $((prompt + n + 64)) --tokens "$tokens" --json >"$out/prefill-$type-$jdk-$t.json"
    after=$(load)
    python3 - "$jdk" "$t" "$before" "$after" "$out/prefill-$type-$jdk-$t.json" "$("$(jvm_of "$jdk")" -version 2>&1 | head -1)" \
      "$type" <<'EOF' >>"$runs"
import json, sys
jdk, threads, before, after, path, version, type = sys.argv[1:8]
run = json.load(open(path))
timing = run["timing"]
print(json.dumps({"type": type, "jdk": jdk, "javaVersion": version, "threads": int(threads),
                  "promptTokens": len(run["promptTokens"]), "generatedTokens": len(run["tokens"]),
                  "promptTokensPerSecond": timing["promptTokensPerSecond"],
                  "generationTokensPerSecond": timing["tokensPerSecond"],
                  "loadBefore": float(before), "loadAfter": float(after)}))
EOF
    echo "prefill: $type, Java $jdk, $t thread(s) done (load $before -> $after)" >&2
  done
done
done
dram_ceiling "$threads" "$out/prefill-dram-ceiling-end"
docs=${DOCS:-$root/docs}
mkdir -p "$docs"
for f in performance.md prefill.json; do [ -f "$docs/$f" ] || cp "$root/docs/$f" "$docs/$f"; done
python3 "$root/org.popsolutions.spanker.benchmarks/prefill_table.py" "$out" "$docs/performance.md" \
    "$docs/prefill.json" "$started" "$out/tinyllama-1.1b-TYPE.gguf"
# the charts of the new figures (docs/plots)
if [ "$docs" -ef "$root/docs" ]; then "$root/org.popsolutions.spanker.benchmarks/plots.sh" prefill; fi
