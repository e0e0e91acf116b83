#!/usr/bin/env python3
"""docs/planning.md's tables as JSON rows (docs/planning.json) for `plot`: one row per plan and table, times in
seconds. The tables are what docs/planning.sh writes; this reads them back so the figures are drawn as written.

usage: planning_json.py docs/planning.md docs/planning.json
"""
import json
import os
import re
import sys

UNITS = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}


def seconds(cell):
    m = re.match(r"^([0-9.]+(?:[eE][-+]?[0-9]+)?) ?(s|ms|µs|us|ns)\b", cell.strip())
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def main(md_path, json_path):
    rows, heading, header = [], None, None
    for line in open(md_path, encoding="utf-8"):
        line = line.rstrip("\n")
        m = re.match(r"^#### (\S+), (\d+) cards, optimised for (\w+)", line)
        if m:
            heading, header = {"model": m.group(1), "cards": int(m.group(2)), "objective": m.group(3)}, None
            continue
        if not heading or not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] == "plan":
            header = cells
            continue
        if header is None:
            continue
        by = dict(zip(header, cells))
        prefill = next((k for k in header if k.startswith("prefill of") and k.endswith("(predicted)")), None)
        prefill_measured = next((k for k in header if k.startswith("prefill of") and k.endswith("(measured)")), None)
        row = {**heading, "plan": by["plan"],
               "decodePredicted": seconds(by.get("decode s/token (predicted)", "")),
               "prefillPredicted": seconds(by.get(prefill, "")) if prefill else None,
               "decodeMeasured": seconds(by.get("decode s/token (measured)", "")),
               "fits": by.get("fits")}
        if prefill_measured:
            row["prefillMeasured"] = seconds(by.get(prefill_measured, ""))
        rows.append(row)
    with open(json_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump({"source": "the tables of docs/planning.md (docs/planning.sh)", "rows": rows}, f, indent=1,
                  ensure_ascii=False)
        f.write("\n")
    os.replace(json_path + ".tmp", json_path)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
