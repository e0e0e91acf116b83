#!/usr/bin/env python3
"""Writes the kernels-against-ggml tables from a kernels-vs-ggml.sh run into docs/performance.md (between the
markers) and the same facts as JSON.

A cell is a set of alternated rounds (kernels_vs_ggml_rounds.py: ggml, java, native, ggml, ..., ggml): each of our
iterations is paired with the mean of the ggml windows just before and just after it (paired_ratios), and a provider
reports the median of those ratios, their lowest and highest and how many there were (spread), beside the median µs.

The cells of this run (type × threads × JDK) replace the same cells of the JSON already there; every other cell is
kept as it was, so a run of a few types (--types) updates only their rows. Each row of the tables says when it was
measured and at what load.

usage: kernels_vs_ggml.py RUN_DIR PERFORMANCE_MD OUT_JSON "java 17 -version line" "java 25 -version line"
"""
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import dram_ceilings  # noqa: E402  (lib.sh dram_ceiling's files, read the same way by prefill_table.py)

BEGIN = "<!-- kernels-vs-ggml:begin -->"
TYPES = ["F16", "BF16", "Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q6_K"]
END = "<!-- kernels-vs-ggml:end -->"


def load_json(path):
    with open(path) as f:
        return json.load(f)


def paired_ratios(ggml, ours):
    """Per round r: ggml's µs around our iteration r (the mean of ggml's windows r and r + 1, the one just before it and
    the one just after it; the one there is when the other is missing) ÷ our µs of round r; None where a side has
    nothing. kernels_vs_ggml_rounds.py runs ggml, java, native, ggml, ..., ggml: one more ggml window than rounds."""
    ratios = []
    for r, us in enumerate(ours):
        around = [g for g in ggml[r:r + 2] if g is not None]
        ratios.append(statistics.mean(around) / us if around and us else None)
    return ratios


def spread(values):
    """(median, [lowest, highest], how many) of the values that are not None; (None, None, 0) when none is."""
    present = [v for v in values if v is not None]
    if not present:
        return None, None, 0
    return statistics.median(present), [min(present), max(present)], len(present)


def raw(metric):
    """A JMH metric's per-iteration scores (all forks' iterations, in order)."""
    return [v for fork in metric.get("rawData", []) for v in fork]


def provider_rounds(results, threads, ggml_rounds):
    """One provider's figures from its JMH JSON (one fork, one measurement iteration a round): µs per product of each
    round and their median, the median weight bytes per second and CPU µs per product (one thread only: the
    benchmark thread's CPU is the product's), and ggml ÷ ours per round with their median, range and count."""
    r = results[0]
    ops = raw(r["primaryMetric"])
    bytes_per_s = raw(r["secondaryMetrics"]["bytes"])
    cpu = raw(r["secondaryMetrics"].get("cpuNanos", {}))
    micros = [1e6 / o if o else None for o in ops]
    ratios = paired_ratios(ggml_rounds, micros)
    ratio, ratio_range, n = spread(ratios)
    return {"micros": spread(micros)[0], "roundMicros": micros,
            "weightBytesPerSecond": spread(bytes_per_s)[0],
            "cpuMicros": spread([c / o / 1e3 for c, o in zip(cpu, ops) if o])[0] if threads == 1 and cpu else None,
            "ggmlOverJava": ratio, "ggmlOverJavaRange": ratio_range, "rounds": n, "ggmlOverJavaRounds": ratios}


def collect(run_dir):
    cells = []
    with open(os.path.join(run_dir, "runs.jsonl")) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    java_sum = {}
    for name in os.listdir(run_dir):
        m = re.fullmatch(r"dram-(\d+)-(\d+)\.json", name)
        if m and os.path.getsize(os.path.join(run_dir, name)) > 0:
            for r in load_json(os.path.join(run_dir, name)):
                java_sum[(m.group(1), int(m.group(2)))] = r["secondaryMetrics"]["bytes"]["score"]
    ceiling = dram_ceilings(run_dir, "dram-ceiling")
    for run in runs:
        cell = {"jdk": run["jdk"], "threads": run["threads"], "type": run["type"], "utc": run["utc"],
                "loadAverage": run["load"], "rounds": run["rounds"], "windowSeconds": run["windowSeconds"],
                "ggmlCase": run.get("ggmlCase"),
                "ggmlMicros": spread(run["ggmlRoundMicros"])[0], "ggmlRoundMicros": run["ggmlRoundMicros"],
                "dramCeilingBytesPerSecond": ceiling.get(run["threads"], {}).get("bytesPerSecond"),
                "dramCeiling": ceiling.get(run["threads"]),
                "javaStreamingSumBytesPerSecond": java_sum.get((run["jdk"], run["threads"])),
                "providers": {}}
        for prov in run["order"][1:]:
            path = os.path.join(run_dir, f"matvec-{run['jdk']}-{run['threads']}-{run['type']}-{prov}.json")
            if os.path.exists(path) and os.path.getsize(path) > 0:
                results = load_json(path)
                if results:
                    p = provider_rounds(results, run["threads"], run["ggmlRoundMicros"])
                    cell["providers"][prov] = p
                    if p["micros"] and p["weightBytesPerSecond"]:
                        cell["weightBytes"] = round(p["weightBytesPerSecond"] * p["micros"] / 1e6)
        cells.append(with_fractions(cell))
    return cells


def with_fractions(cell):
    """The cell's fractions of DRAM: weight bytes per second ÷ the DRAM read ceiling (dram_read.c) of the cell's
    sitting and thread count; None where the cell has no ceiling."""
    dram = cell.get("dramCeilingBytesPerSecond")
    for p in cell["providers"].values():
        p["fractionOfDram"] = p["weightBytesPerSecond"] / dram if dram and p["weightBytesPerSecond"] else None
    cell["ggmlFractionOfDram"] = (cell["weightBytes"] / (cell["ggmlMicros"] / 1e6) / dram
                                  if dram and cell["ggmlMicros"] and cell.get("weightBytes") else None)
    return cell


def migrated(cell):
    """A cell of a JSON written by an earlier version of the script, in this version's shape.
    Before the native ceiling (sessions up to 13) its dramBytesPerSecond was the Java streaming sum, and its fractions
    were over that sum: it keeps the sum under its name and gets no fractions. Before the rounds (up to session 14) a
    cell was one JMH fork between two ggml runs (ggmlRuns, their mean ggmlMicros): one round, its ratio its own range."""
    if "dramBytesPerSecond" in cell:
        cell["javaStreamingSumBytesPerSecond"] = cell.pop("dramBytesPerSecond")
        cell["dramCeilingBytesPerSecond"] = None
        cell["dramCeiling"] = None
    if "ggmlRuns" in cell:
        cell["ggmlRoundMicros"] = cell.pop("ggmlRuns")
        cell["rounds"] = 1
        cell["windowSeconds"] = None
        for p in cell["providers"].values():
            ratio = p.get("ggmlOverJava")
            p["roundMicros"] = [p["micros"]]
            p["ggmlOverJavaRounds"] = [ratio]
            p["ggmlOverJavaRange"] = [ratio, ratio] if ratio is not None else None
            p["rounds"] = 1 if ratio is not None else 0
    return with_fractions(cell)


def when_measured(cells):
    """When a row's cells were measured (first to last) and the 1-minute load average seen during them."""
    utcs = sorted(c["utc"] for c in cells)
    loads = [l for c in cells for l in c["loadAverage"] if l is not None]
    when = utcs[0][:16].replace("T", " ")
    if utcs[-1][:10] != utcs[0][:10]:
        when += " to " + utcs[-1][:16].replace("T", " ")
    elif utcs[-1][:16] != utcs[0][:16]:
        when += "–" + utcs[-1][11:16]
    return when + (f", {min(loads)}–{max(loads)}" if loads else "")


def merge(cells, json_path):
    """This run's cells, and every cell of the JSON already at json_path that this run did not measure again."""
    if not os.path.exists(json_path):
        return cells
    key = lambda c: (c["jdk"], c["threads"], c["type"])
    fresh = {key(c) for c in cells}
    kept = [migrated(c) for c in load_json(json_path).get("cells", []) if key(c) not in fresh]
    return sorted(kept + cells, key=lambda c: c["utc"])


def fmt(v, spec):
    return "–" if v is None else format(v, spec)


# a 1-minute load average up to this on 2 vCPUs is the benchmark's own one or two threads: nothing else ran
QUIET_LOAD = 2.5


def markdown(cells, java17, java25):
    jdks = sorted({c["jdk"] for c in cells})
    loads = [l for c in cells for l in c["loadAverage"] if l is not None]
    load_range = f"{min(loads)}–{max(loads)} over the cells' rounds"
    starts = [c["loadAverage"][0] for c in cells if c["loadAverage"] and c["loadAverage"][0] is not None]
    out = [BEGIN, "",
           "Generated by `org.popsolutions.spanker.benchmarks/kernels-vs-ggml.sh` (do not edit by hand). Shape: 4096 "
           "rows × 14336 columns, one activation vector, ggml mode. ggml: its own `test-backend-ops perf -o MUL_MAT` "
           "(`../shared/bench/ggml`, recompiled to time one case in windows on request: `lib.sh` `ggml_rounds`) and "
           "the JMH `MatVecBenchmark` (one fork per provider, weights ≥ 4× the LLC cycled so they stream from DRAM) "
           "in **alternated rounds**: each side is set up and warmed up once per cell, then every round runs a short "
           "window of ggml, of `java` and of `native` in turn, each alone on the machine, and a last ggml window "
           "closes the cell (`kernels_vs_ggml_rounds.py`). A round's ratio is ggml's µs in the two windows either "
           "side of our iteration (their mean) ÷ our µs; the table gives the **median of the rounds' ratios**, their "
           "lowest–highest and the number of rounds, and the median µs of each side. "
           "`java` = the portable Vector API kernels (Q4_0, Q4_1, Q4_K and Q6_K weights repacked for them once at set-up, "
           "`PackedWeights`; the DRAM fraction counts ggml's bytes), `native` = the JNI kernels (AVX2, and AVX-512 VNNI where the CPU has it, as here). "
           "Ratios are **ggml µs ÷ Java "
           "µs** (above 1.0 the Java side is faster). DRAM fraction = weight bytes per second ÷ the DRAM read "
           "ceiling of the same thread count in the same run (`src/main/c/dram_read.c`, see below).",
           "",
           f"JDKs: {java17}; {java25}.",
           "",
           (f"**The machine was loaded by other agents during these runs** (1-minute load average on 2 vCPUs, per "
            f"cell: {load_range}; "
            f"every cell's figure is in `docs/kernels-vs-ggml.json`). Absolute microseconds are therefore several "
            f"times those of a quiet machine; the ratios, measured alternately within the same minute, are the "
            f"figures to read. Runs: {cells[0]['utc']} to {cells[-1]['utc']}."
            if max(starts, default=0) > QUIET_LOAD else
            f"The machine ran nothing else (1-minute load average on 2 vCPUs, per cell: {load_range}: the "
            f"benchmarks' own threads; every cell's figure is in `docs/kernels-vs-ggml.json`). "
            f"Runs: {cells[0]['utc']} to {cells[-1]['utc']}."),
           ""]
    header = "| type | threads | measured (UTC), 1-min load |"
    rule = "|---|---|---|"
    for jdk in jdks:
        header += f" ggml µs (Java {jdk} sitting) | Java {jdk} `java` | Java {jdk} `native` |"
        rule += "---|---|---|"
    out += ["### Microseconds per product and ggml ÷ Java", "",
            "A provider's cell reads `µs · ratio (lowest–highest) ×rounds`, the same facts under the same names as the "
            "JSON: µs = `micros` (median of its rounds' µs, `roundMicros`), ratio = `ggmlOverJava` (median of the "
            "rounds' ggml ÷ ours, `ggmlOverJavaRounds`), lowest–highest = `ggmlOverJavaRange`, rounds = `rounds`. "
            "ggml µs = `ggmlMicros`, the median of ggml's windows (`ggmlRoundMicros`) in that JDK's cell. "
            "Cells measured before session 15 were one JMH fork between two ggml runs: one round.", "",
            header, rule]
    keys = []
    for c in cells:
        if (c["type"], c["threads"]) not in keys:
            keys.append((c["type"], c["threads"]))
    keys.sort(key=lambda k: (k[1], k[0]))
    by = {(c["jdk"], c["type"], c["threads"]): c for c in cells}
    for t, th in keys:
        row = f"| {t} | {th} | {when_measured([by[(j, t, th)] for j in jdks if (j, t, th) in by])} |"
        for j in jdks:
            c = by.get((j, t, th))
            row += f" {fmt(c['ggmlMicros'] if c else None, '.0f')} |"
            for prov in ("java", "native"):
                p = c["providers"].get(prov) if c else None
                row += f" {provider_cell(p)} |"
        out.append(row)
    out += ["", "### Fraction of DRAM read bandwidth (weight bytes per second ÷ the DRAM read ceiling)", "",
            "The DRAM read ceiling is a native streaming read (`org.popsolutions.spanker.benchmarks/src/main/c/"
            "dram_read.c`, built and run by the script at the start and at the end of the run; the faster of the "
            "two counts): a 1 GiB buffer (32× the L3) on transparent huge pages (the best case for a "
            "read; the launcher's weights get them with glibc.malloc.hugetlb=1), split into one contiguous part per thread, summed with 512-bit (AVX-512F) and with 256-bit "
            "(AVX2) loads, eight accumulators, 20 timed passes per width after a warm-up pass; the ceiling is the "
            "fastest pass of the faster width. It does not depend on the JDK, so every JDK's column divides by the "
            "same figure. On a loaded machine the share of the memory bus and of the cores a process gets changes "
            "from minute to minute: a fraction above 1 means the ceiling's passes all ran in worse minutes than the "
            "product. ggml's `test-backend-ops` also reuses one weight buffer (33 MB for Q4_0, about this machine's "
            "L3), where the JMH benchmark streams at least four copies, so ggml's fraction can exceed 1.", ""]
    header = "| type | threads |"
    rule = "|---|---|"
    for jdk in jdks:
        header += f" ggml (Java {jdk} sitting) | Java {jdk} `java` | Java {jdk} `native` |"
        rule += "---|---|---|"
    out += [header, rule]
    for t, th in keys:
        row = f"| {t} | {th} |"
        for j in jdks:
            c = by.get((j, t, th))
            row += f" {fmt(c.get('ggmlFractionOfDram') if c else None, '.2f')} |"
            for prov in ("java", "native"):
                p = c["providers"].get(prov) if c else None
                row += f" {fmt(p['fractionOfDram'] if p else None, '.2f')} |"
        out.append(row)
    out += ["", "### One thread: CPU time per product (the benchmark thread's, which load inflates far less than wall time)",
            "",
            "Under heavy load the portable kernels' wall time is dominated by waiting (C2 compiles the Vector API code "
            "late, and the thread gets a small share of a core), so their ratio to ggml is also estimated from CPU "
            "time: ggml ÷ native (wall, alternated) × native CPU ÷ java CPU.", ""]
    header = "| type |"
    rule = "|---|"
    for jdk in jdks:
        header += f" Java {jdk} `java` CPU µs | Java {jdk} `native` CPU µs | Java {jdk} ggml ÷ `java`, estimated |"
        rule += "---|---|---|"
    out += [header, rule]
    for t, th in keys:
        if th != 1:
            continue
        row = f"| {t} |"
        for j in jdks:
            c = by.get((j, t, th))
            jv = c["providers"].get("java") if c else None
            nv = c["providers"].get("native") if c else None
            est = None
            if jv and nv and jv.get("cpuMicros") and nv.get("cpuMicros") and nv.get("ggmlOverJava"):
                est = nv["ggmlOverJava"] * nv["cpuMicros"] / jv["cpuMicros"]
            row += (f" {fmt(jv.get('cpuMicros') if jv else None, '.0f')} | {fmt(nv.get('cpuMicros') if nv else None, '.0f')}"
                    f" | {fmt(est, '.2f')} |")
        out.append(row)
    measured = {(c["type"], c["threads"], c["jdk"]) for c in cells if c["providers"]}
    wanted = [(t, th, j) for t in TYPES for th in sorted({c["threads"] for c in cells}) for j in jdks]
    missing = [f"{t} {th} thr Java {j}" for t, th, j in wanted if (t, th, j) not in measured]
    if missing:
        out += ["", "Not measured in this run (interrupted or skipped): " + ", ".join(missing) + "."]
    out += dram_table(cells, jdks) + ["", END]
    return "\n".join(out)


def provider_cell(p):
    """A provider's figures in the first table: µs · ratio (lowest–highest) ×rounds."""
    if not p:
        return "–"
    text = f"{fmt(p['micros'], '.0f')} · **{fmt(p['ggmlOverJava'], '.2f')}**"
    if p.get("ggmlOverJavaRange"):
        low, high = p["ggmlOverJavaRange"]
        text += f" ({low:.2f}–{high:.2f})"
    return text + f" ×{p.get('rounds', 0)}"


def dram_table(cells, jdks):
    """Per JDK and thread count, the DRAM read ceilings the fractions divide by and the Java streaming sums beside them,
    one row per sitting whose cells are in the tables (cells kept from an earlier run keep that run's figures)."""
    out = ["", "### DRAM read bandwidth in these runs", "",
           "DRAM ceiling: the native streaming read above, its fastest pass (`dramCeilingBytesPerSecond` in the JSON; "
           "the median pass and the load width beside it, `dramCeiling`). Java streaming sum: the JMH "
           "`DramBandwidthBenchmark`, a Java Vector API sum of a 1 GiB heap array (256-bit loads) on transparent huge "
           "pages, per JDK (`javaStreamingSumBytesPerSecond`); shown for comparison with the `java` kernels, never "
           "divided by (it reads below what the native kernels stream). One row per sitting; the first cell of the "
           "sitting gives its time.", "",
           "| JDK | threads | first cell (UTC) | DRAM ceiling GB/s | ceiling median pass GB/s | ceiling loads "
           "| Java streaming sum GB/s |",
           "|---|---|---|---|---|---|---|"]
    gb = lambda v: fmt(v / 1e9 if v else None, ".1f")
    for j in jdks:
        for th in sorted({c["threads"] for c in cells}):
            seen = set()
            for c in sorted((c for c in cells if c["jdk"] == j and c["threads"] == th), key=lambda c: c["utc"]):
                ceiling = c.get("dramCeiling") or {}
                sitting = (c.get("dramCeilingBytesPerSecond"), c.get("javaStreamingSumBytesPerSecond"))
                if sitting in seen:
                    continue
                seen.add(sitting)
                out.append(f"| {j} | {th} | {c['utc'][:16].replace('T', ' ')} | {gb(sitting[0])} "
                           f"| {gb(ceiling.get('medianBytesPerSecond'))} | {ceiling.get('loads', '–')} "
                           f"| {gb(sitting[1])} |")
    return out


def main(run_dir, md_path, json_path, java17, java25):
    cells = collect(run_dir)
    if not cells:
        sys.exit("no runs in " + run_dir)
    cells = merge(cells, json_path)
    section = markdown(cells, java17, java25)
    with open(md_path) as f:
        doc = f.read()
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + section + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n## Kernels against ggml (4096×14336)\n\n" + section + "\n"
    for path, text in ((md_path, doc), (json_path, json.dumps({"cells": cells}, indent=1, allow_nan=False) + "\n")):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    print(section)


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    main(*sys.argv[1:])
