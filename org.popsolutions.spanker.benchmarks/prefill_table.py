#!/usr/bin/env python3
"""Writes the prompt-processing and decode tables of docs/performance.md (between the prefill markers) and
docs/prefill.json, from prefill.sh's runs.

usage: prefill_table.py OUT_DIR PERFORMANCE.md PREFILL.json STARTED MODEL_PATTERN
OUT_DIR holds prefill-runs.jsonl (one line per `./spanker run`), prefill-weights.jsonl (weight bytes a generated
token reads, per type), prefill-dram-ceiling-{start,end}-THREADS.json (lib.sh dram_ceiling: the native streaming read,
this machine's DRAM read ceiling, at the start and the end of the sitting), prefill-dram-JDK-THREADS.json (the JMH
DramBandwidthBenchmark's Java streaming sum of the same sitting, shown beside the ceiling) and, when
present, prefill-ggml.jsonl with prefill-ggml-shapes.json (ggml_matmul.sh's product times at the model's shapes).
MODEL_PATTERN is the models' path with TYPE for the weight type.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import LLAMA_CPP, LLAMA_CPP_DECODE, dram_ceilings  # noqa: E402  (SPEC section 9's figures, one place)

BEGIN = "<!-- prefill:begin -->"
END = "<!-- prefill:end -->"
# issue 12: prompt tokens/s at least 5 x generation tokens/s
PROMPT_GOAL = 5


def fmt(value, spec):
    return "—" if value is None else format(value, spec)


def java_sum_of(out):
    """(jdk, threads) -> the JMH DramBandwidthBenchmark's bytes per second (the Java streaming sum)."""
    dram = {}
    for name in os.listdir(out):
        m = re.fullmatch(r"prefill-dram-(\d+)-(\d+)\.json", name)
        if m:
            results = json.load(open(os.path.join(out, name)))
            if results:
                dram[(m.group(1), int(m.group(2)))] = results[0]["secondaryMetrics"]["bytes"]["score"]
    return dram


def ggml_ceiling_of(out):
    """(type, threads) -> the prompt tokens/s ggml's matrix products alone allow: n tokens over the layers' products
    (n vectors each) and the head's (the last token only)."""
    times, shapes_path = os.path.join(out, "prefill-ggml.jsonl"), os.path.join(out, "prefill-ggml-shapes.json")
    if not os.path.exists(times) or not os.path.exists(shapes_path):
        return {}
    shapes = json.load(open(shapes_path))
    us = {}
    for line in open(times):
        if line.strip():
            g = json.loads(line)
            us[(g["type"].lower(), g["threads"], g["m"], g["n"], g["k"])] = g["us"]
    ceiling = {}
    for (type, threads) in {(t, th) for (t, th, _, _, _) in us}:
        def at(shape, n):
            m, k = (int(x) for x in shape.split(":"))
            return us.get((type, threads, m, n, k))
        layer = [at(s, shapes["n"]) for s in shapes["layer"]]
        head = at(shapes["head"], 1)
        if None not in layer and head is not None:
            total = shapes["layers"] * sum(layer) + head
            ceiling[(type, threads)] = shapes["n"] / (total / 1e6)
    return ceiling


def macs_per_prompt_token(out):
    """The multiply-adds of the model's products per prompt token (prefill-ggml-shapes.json: every layer's products,
    and the head's once per prompt, for its last token), or None."""
    path = os.path.join(out, "prefill-ggml-shapes.json")
    if not os.path.exists(path):
        return None
    shapes = json.load(open(path))

    def macs(shape):
        m, k = (int(x) for x in shape.split(":"))
        return m * k
    return shapes["layers"] * sum(macs(s) for s in shapes["layer"]) + macs(shapes["head"]) / shapes["n"]


def vnni_ceiling_of(out):
    """threads -> (multiply-adds per CPU second of one thread, the prompt tokens/s they allow with each thread on its
    own core) from vnni_peak.c's runs (prefill-vnni.jsonl), or {}."""
    path, macs = os.path.join(out, "prefill-vnni.jsonl"), macs_per_prompt_token(out)
    if not os.path.exists(path) or not macs:
        return {}
    ceiling = {}
    for line in open(path):
        if line.strip():
            v = json.loads(line)
            ceiling[v["threads"]] = (v["macsPerCpuSecond"], v["threads"] * v["macsPerCpuSecond"] / macs)
    return ceiling


def with_facts(runs, weights, ceiling, java_sum=None, ggml=None, vnni=None, macs=None):
    """Each run with its derived figures, the same names in the JSON as in the table's columns. ceiling: threads -> the
    DRAM read ceiling (report.dram_ceilings); java_sum: (jdk, threads) -> the Java streaming sum's bytes per second;
    vnni: threads -> vnni_ceiling_of's pair; macs: the multiply-adds per prompt token."""
    ggml = ggml or {}
    java_sum = java_sum or {}
    vnni = vnni or {}
    for r in runs:
        r["macsPerPromptToken"] = macs
        peak = vnni.get(r["threads"])
        r["vnniMacsPerCpuSecond"] = peak[0] if peak else None
        r["vnniCeilingTokensPerSecond"] = peak[1] if peak else None
        # what the goal asks (5 x generation) as a fraction of what the arithmetic allows: above 1, out of reach
        r["promptGoalToVnniCeiling"] = (PROMPT_GOAL * r["generationTokensPerSecond"] / peak[1]) if peak else None
        r["promptToVnniCeiling"] = r["promptTokensPerSecond"] / peak[1] if peak else None
        r["ggmlProductsTokensPerSecond"] = ggml.get((r["type"], r["threads"]))
        r["promptToGgmlProducts"] = (r["promptTokensPerSecond"] / r["ggmlProductsTokensPerSecond"]
                                     if r["ggmlProductsTokensPerSecond"] else None)
        r["promptToGeneration"] = r["promptTokensPerSecond"] / r["generationTokensPerSecond"]
        r["promptGoalMet"] = r["promptToGeneration"] >= PROMPT_GOAL
        r["weightBytesPerToken"] = weights[r["type"]]
        r["generationWeightBytesPerSecond"] = r["weightBytesPerToken"] * r["generationTokensPerSecond"]
        r["dramCeilingBytesPerSecond"] = ceiling.get(r["threads"], {}).get("bytesPerSecond")
        r["fractionOfDram"] = (r["generationWeightBytesPerSecond"] / r["dramCeilingBytesPerSecond"]
                               if r["dramCeilingBytesPerSecond"] else None)
        r["javaStreamingSumBytesPerSecond"] = java_sum.get((r["jdk"], r["threads"]))
        index = 0 if r["threads"] == 1 else 1 if r["threads"] == 2 else None
        decode = LLAMA_CPP_DECODE.get(r["type"].upper())
        matvec = LLAMA_CPP.get(r["type"].upper())
        r["llamaCppDecodeTokensPerSecond"] = decode[index] if decode and index is not None else None
        # where SPEC gives no decode tokens/s (Q8_0, Q4_K): llama.cpp's matrix-vector GB/s over the weight bytes a token
        # reads, the tokens/s its products alone would stream the model's weights at (for Q4_0 this gives 17.0 / 32.5
        # against the measured 22 / 40: the derived anchor is the lower bound of the two)
        r["llamaCppDecodeDerived"] = r["llamaCppDecodeTokensPerSecond"] is None and bool(matvec) and index is not None
        if r["llamaCppDecodeDerived"]:
            r["llamaCppDecodeTokensPerSecond"] = matvec[index] * 1e9 / r["weightBytesPerToken"]
        r["generationToLlamaCppDecode"] = (r["generationTokensPerSecond"] / r["llamaCppDecodeTokensPerSecond"]
                                           if r["llamaCppDecodeTokensPerSecond"] else None)
        r["decodeGoalMet"] = (r["generationToLlamaCppDecode"] >= 1
                              if r["generationToLlamaCppDecode"] is not None else None)
        r["llamaCppMatVecBytesPerSecond"] = matvec[index] * 1e9 if matvec and index is not None else None
        r["generationToLlamaCppMatVec"] = (r["generationWeightBytesPerSecond"] / r["llamaCppMatVecBytesPerSecond"]
                                           if r["llamaCppMatVecBytesPerSecond"] else None)
    return runs


def bold(text):
    return text if text == "—" else "**%s**" % text


def yes_no(value):
    return "—" if value is None else "yes" if value else "no"


def markdown(runs, started, model, ceiling=None, java_sum=None):
    ceiling = ceiling or {}
    java_sum = java_sum or {}
    loads = [x for r in runs for x in (r["loadBefore"], r["loadAfter"])]
    # the benchmark's own threads account for up to 2 on these 2 vCPUs; above that something else ran
    loaded = max(loads) > 2.5
    generated = runs[0]["generatedTokens"] if runs else 0
    prompt = runs[0]["promptTokens"] if runs else 0
    out = [BEGIN, "",
           "Generated by `org.popsolutions.spanker.benchmarks/prefill.sh` (do not edit by hand; `docs/prefill.json` "
           "holds the same facts). `./spanker run --model %s --cards 1 --threads T --n %d --tokens <%d ids>`: one mock "
           "card, the default kernel provider (the native AVX2 kernels where the CPU has them), the prompt in batched "
           "passes of up to 64 tokens (`PlanExecutor.prefill`), then greedy generation. Runs: %s."
           % (os.path.basename(model).replace("TYPE", "<type>"), generated, prompt, started), ""]
    if loaded:
        out += ["**Loaded**: the 1-minute load average reached %.1f on 2 vCPUs during these runs (other processes "
                "were busy), so the tokens/s and bandwidths are not performance results; the ratios compare figures "
                "of the same minutes." % max(loads), ""]
    else:
        out += ["The machine ran nothing else (1-minute load average %.1f-%.1f: the benchmark's own threads)."
                % (min(loads), max(loads)), ""]
    out += ["#### Prompt processing", "",
            "Goal (issue 12): prompt tokens/s at least %dx generation tokens/s. ggml's products: the prompt tokens/s "
            "ggml's own matrix products at the model's shapes would allow if nothing else took time "
            "(`ggml_matmul.sh`: `test-backend-ops perf` MUL_MAT, f32 activations quantized in the op, n = the "
            "prompt's tokens for every layer's seven products, n = 1 for the head; ggml built as llama.cpp builds it, "
            "LLAMAFILE on; llama.cpp's load-time repacking of Q4_0/Q4_K weights is not covered), per thread count, "
            "measured in this sitting. Arithmetic ceiling: the prompt tokens/s the model's multiply-adds per prompt "
            "token (%s: every layer's seven products, the head's once per prompt) allow at one thread's AVX-512 VNNI "
            "rate (`vnni_peak.c`: `vpdpbusd`, 64 multiply-adds each, register operands only, per second of the "
            "thread's CPU time; %s) times the threads, each thread on its own core; "
            "goal ÷ ceiling = 5 x generation tokens/s over it (above 1: out of reach by arithmetic)."
            % (PROMPT_GOAL, fmt(runs[0].get("macsPerPromptToken") / 1e9 if runs and runs[0].get("macsPerPromptToken")
                                else None, ".3f") + " G",
               ", ".join("%d thread(s) %.0f G/s" % (t, rate / 1e9)
                         for t, rate in sorted({(r["threads"], r["vnniMacsPerCpuSecond"]) for r in runs
                                                if r.get("vnniMacsPerCpuSecond")})) or "not measured"), "",
            "| type | JDK | threads | prompt tokens | prompt tokens/s | generation tokens/s | prompt / generation "
            "| goal >= %d | ggml's products tokens/s | prompt ÷ ggml's products | arithmetic ceiling tokens/s "
            "| prompt ÷ ceiling | goal ÷ ceiling | load before / after |" % PROMPT_GOAL,
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        out.append("| %s | %s | %d | %d | %.1f | %.1f | **%.2f** | %s | %s | %s | %s | %s | %s | %.1f / %.1f |" % (
            r["type"], r["jdk"], r["threads"], r["promptTokens"], r["promptTokensPerSecond"],
            r["generationTokensPerSecond"], r["promptToGeneration"], yes_no(r["promptGoalMet"]),
            fmt(r["ggmlProductsTokensPerSecond"], ".1f"), bold(fmt(r["promptToGgmlProducts"], ".2f")),
            fmt(r.get("vnniCeilingTokensPerSecond"), ".0f"), fmt(r.get("promptToVnniCeiling"), ".2f"),
            fmt(r.get("promptGoalToVnniCeiling"), ".2f"), r["loadBefore"], r["loadAfter"]))
    out += ["", "#### Decode", "",
            "Goal (issue 12): at least llama.cpp's decode tokens/s. Weight bytes per token: every tensor but the "
            "embedding table (a token reads one row of it), the head included. Weights GB/s = weight bytes per token "
            "x generation tokens/s; fraction of DRAM = that ÷ the DRAM read ceiling of the same thread count in this "
            "sitting (DRAM ceiling GB/s; how it is measured: below the table). llama.cpp "
            "(SPEC §9, measured on the AVX-512 machine class): decode tokens/s at TinyLlama shapes are given for Q4_0 "
            "only; its matrix-vector GB/s (4096×14336) for Q4_0, Q8_0, Q4_K and F16 — a token's weights GB/s "
            "against those compares the whole step (attention, norms and hand-offs included) with the product alone. "
            "For the other types the llama.cpp decode column (marked *) is derived: its matrix-vector GB/s ÷ the "
            "model's weight bytes per token (Q4_0 by the same rule: 17.0 / 32.5 against the measured 22 / 40).",
            "",
            "| type | JDK | threads | generation tokens/s | weights MB per token | weights GB/s | DRAM ceiling GB/s "
            "| fraction of DRAM | llama.cpp decode tokens/s | ÷ llama.cpp decode | goal met | llama.cpp matvec GB/s "
            "| weights GB/s ÷ llama.cpp matvec |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        dram = r["dramCeilingBytesPerSecond"] / 1e9 if r["dramCeilingBytesPerSecond"] else None
        matvec = r["llamaCppMatVecBytesPerSecond"] / 1e9 if r["llamaCppMatVecBytesPerSecond"] else None
        out.append("| %s | %s | %d | %.1f | %.1f | %.2f | %s | %s | %s | %s | %s | %s | %s |" % (
            r["type"], r["jdk"], r["threads"], r["generationTokensPerSecond"], r["weightBytesPerToken"] / 1e6,
            r["generationWeightBytesPerSecond"] / 1e9, fmt(dram, ".1f"), bold(fmt(r["fractionOfDram"], ".2f")),
            fmt(r["llamaCppDecodeTokensPerSecond"], ".1f") + (" *" if r.get("llamaCppDecodeDerived") else ""),
            bold(fmt(r["generationToLlamaCppDecode"], ".2f")),
            yes_no(r["decodeGoalMet"]), fmt(matvec, ".1f"), fmt(r["generationToLlamaCppMatVec"], ".2f")))
    out += dram_lines(ceiling, java_sum)
    out += ["", END]
    return loaded, out


def dram_lines(ceiling, java_sum):
    """The DRAM figures of the sitting: the ceiling per thread count, the Java streaming sum per JDK and thread count
    (the JSON's "dram" holds the same)."""
    out = ["", "DRAM read bandwidth in this sitting. DRAM ceiling: a native streaming read "
           "(`org.popsolutions.spanker.benchmarks/src/main/c/dram_read.c`, run at the start and at the end of the "
           "sitting, the faster counts): a 1 GiB buffer (32× the L3) on transparent huge pages (the best case for "
           "a read; the launcher's weights get them with glibc.malloc.hugetlb=1), one contiguous part per thread, summed with 512-bit (AVX-512F) and 256-bit (AVX2) "
           "loads, 20 timed passes per width after a warm-up pass; the fastest pass of the faster width, the median "
           "pass beside it. Java streaming sum: the JMH `DramBandwidthBenchmark` (a Java Vector API sum of a 1 GiB "
           "heap array, 256-bit loads), per JDK, for comparison only: it reads below what the native kernels "
           "stream, so it is not the ceiling.", "",
           "| threads | DRAM ceiling GB/s | ceiling median pass GB/s | ceiling loads | Java 17 streaming sum GB/s "
           "| Java 25 streaming sum GB/s |", "|---|---|---|---|---|---|"]
    gb = lambda v: fmt(v / 1e9 if v else None, ".1f")
    for th in sorted(set(ceiling) | {t for (_, t) in java_sum}):
        c = ceiling.get(th, {})
        out.append("| %d | %s | %s | %s | %s | %s |" % (
            th, gb(c.get("bytesPerSecond")), gb(c.get("medianBytesPerSecond")), c.get("loads", "—"),
            gb(java_sum.get(("17", th))), gb(java_sum.get(("25", th)))))
    return out


def main(out_dir, doc_path, json_path, started, model):
    runs = [json.loads(line) for line in open(os.path.join(out_dir, "prefill-runs.jsonl")) if line.strip()]
    weights = {w["type"]: w["weightBytesPerToken"]
               for w in (json.loads(line) for line in open(os.path.join(out_dir, "prefill-weights.jsonl"))
                         if line.strip())}
    ceiling = dram_ceilings(out_dir, "prefill-dram-ceiling")
    java_sum = java_sum_of(out_dir)
    ggml = ggml_ceiling_of(out_dir)
    runs = with_facts(runs, weights, ceiling, java_sum, ggml, vnni_ceiling_of(out_dir), macs_per_prompt_token(out_dir))
    loaded, lines = markdown(runs, started, model, ceiling, java_sum)
    doc = {"started": started,
           "models": sorted({os.path.basename(model).replace("TYPE", r["type"]) for r in runs}),
           "loaded": loaded,
           "dram": {"ceiling": [dict(threads=threads, **c) for threads, c in sorted(ceiling.items())],
                    "javaStreamingSum": [{"jdk": jdk, "threads": threads, "bytesPerSecond": bps}
                                         for (jdk, threads), bps in sorted(java_sum.items())]},
           "runs": runs}
    with open(json_path + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(json_path + ".tmp", json_path)
    text = open(doc_path).read()
    begin, end = text.find(BEGIN), text.find(END)
    if begin < 0 or end < 0:
        sys.exit("docs/performance.md has no prefill markers")
    text = text[:begin] + "\n".join(lines) + text[end + len(END):]
    with open(doc_path + ".tmp", "w") as f:
        f.write(text)
    os.replace(doc_path + ".tmp", doc_path)
    print("\n".join(lines))


if __name__ == "__main__":
    main(*sys.argv[1:6])
