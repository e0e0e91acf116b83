#!/usr/bin/env python3
"""Turns JMH JSON results (java -jar target/benchmarks.jar -rf json -rff results.json) into GB/s tables.

Every benchmark here counts the bytes it moves in the `bytes` secondary result (bytes per second):
weights streamed for MatVecBenchmark, bytes read for DramBandwidthBenchmark, bus bytes (nccl-tests busbw) for
CollectiveBenchmark, bytes copied for MemcpyBenchmark. Output files of src/main/c/dram_read.c (lib.sh dram_ceiling,
the machine's DRAM read ceiling) may be given too.
usage: report.py results.json [more.json ...]
"""
import json
import os
import re
import sys

# SPEC section 9, llama.cpp on this machine class (1 / 2 threads): matrix-vector GB/s of weights streamed, and decode
# tokens/s at TinyLlama-1.1B shapes (given for Q4_0 only)
LLAMA_CPP = {"Q4_0": (9.9, 18.9), "Q8_0": (16.8, 28.7), "Q4_K": (14.0, 25.3), "F16": (19.4, 32.3)}
LLAMA_CPP_DECODE = {"Q4_0": (22, 40)}


def dram_ceilings(run_dir, prefix):
    """threads -> this sitting's DRAM read ceiling from lib.sh dram_ceiling's files PREFIX-start-T.json and
    PREFIX-end-T.json in run_dir (dram_read.c's output): the faster of the two sittings' bytesPerSecond (each the
    fastest pass of the faster load width), with its medianBytesPerSecond, loads, passes and bufferBytes, and both
    sittings' figures under "sittings"."""
    ceilings = {}
    for name in sorted(os.listdir(run_dir)):
        m = re.fullmatch(re.escape(prefix) + r"-(start|end)-(\d+)\.json", name)
        if not m or os.path.getsize(os.path.join(run_dir, name)) == 0:
            continue
        with open(os.path.join(run_dir, name)) as f:
            r = json.load(f)
        threads = int(m.group(2))
        best = ceilings.get(threads)
        sitting = {"when": m.group(1), "bytesPerSecond": r["bytesPerSecond"],
                   "medianBytesPerSecond": r["medianBytesPerSecond"], "loads": r["loads"]}
        sittings = (best["sittings"] if best else []) + [sitting]
        if best is None or r["bytesPerSecond"] > best["bytesPerSecond"]:
            best = {"bytesPerSecond": r["bytesPerSecond"], "medianBytesPerSecond": r["medianBytesPerSecond"],
                    "loads": r["loads"], "passes": r["passes"], "bufferBytes": r["bufferBytes"],
                    "hugePageBytes": r["hugePageBytes"]}
        best["sittings"] = sorted(sittings, key=lambda s: s["when"] != "start")
        ceilings[threads] = best
    return ceilings


def rows(paths):
    for path in paths:
        with open(path) as f:
            results = json.load(f)
        if isinstance(results, dict):  # dram_read.c's one object, printed by main
            continue
        for r in results:
                gbps = r["secondaryMetrics"]["bytes"]["score"] / 1e9
                err = r["secondaryMetrics"]["bytes"].get("scoreError")
                err = err / 1e9 if isinstance(err, (int, float)) else float("nan")
                yield r["benchmark"].rsplit(".", 2)[-2], r.get("params", {}), gbps, err, r.get("jdkVersion", "?")


def ceilings(paths):
    for path in paths:
        with open(path) as f:
            r = json.load(f)
        if isinstance(r, dict) and r.get("benchmark") == "dram_read":
            yield r


def main(paths):
    for r in ceilings(paths):
        print(f"DRAM read ceiling (dram_read.c, {r['bufferBytes'] >> 20} MiB, {r['loads']} loads, fastest of "
              f"{r['passes']} passes), {r['threads']} thread(s): {r['bytesPerSecond'] / 1e9:.1f} GB/s "
              f"(median {r['medianBytesPerSecond'] / 1e9:.1f})")
    results = list(rows(paths))
    for jdk in sorted({r[4] for r in results}):
        print(f"## JDK {jdk}\n")
        mine = [r for r in results if r[4] == jdk]
        mv = {(p["type"], p["threads"], p.get("storage", "heap")): (g, e) for b, p, g, e, _ in mine if b == "MatVecBenchmark"}
        if mv:
            print("| type | storage | Java 1 thr GB/s | Java 2 thr GB/s | llama.cpp 1/2 thr | Java/llama.cpp 1 thr | 2 thr |")
            print("|---|---|---|---|---|---|---|")
            for (t, th, st) in sorted({(k[0], "", k[2]) for k in mv}):
                one = mv.get((t, "1", st))
                two = mv.get((t, "2", st))
                ref = LLAMA_CPP.get(t)
                fmt = lambda v: f"{v[0]:.1f} ± {v[1]:.1f}" if v else "–"
                ratio = lambda v, i: f"{v[0] / ref[i]:.2f}" if v and ref else "–"
                print(f"| {t} | {st} | {fmt(one)} | {fmt(two)} | {f'{ref[0]} / {ref[1]}' if ref else '–'} "
                      f"| {ratio(one, 0)} | {ratio(two, 1)} |")
            print()
        for b, p, g, e, _ in mine:
            if b == "DramBandwidthBenchmark":
                print(f"Java streaming sum (1 GiB heap array; not the DRAM ceiling, see dram_read.c), "
                      f"{p['threads']} thread(s): {g:.1f} ± {e:.1f} GB/s")
        for b, p, g, e, _ in mine:
            if b == "MemcpyBenchmark":
                print(f"memcpy (System.arraycopy, 64 MiB, one thread): {g:.1f} ± {e:.1f} GB/s copied")
        for b, p, g, e, _ in mine:
            if b == "CollectiveBenchmark":
                print(f"AllReduce {int(p['bytes']) >> 20} MiB on {p['cards']} cards, {p['algorithm']}: busbw {g:.2f} ± {e:.2f} GB/s")
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
