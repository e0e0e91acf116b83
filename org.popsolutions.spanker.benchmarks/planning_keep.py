#!/usr/bin/env python3
"""Carries measured columns of docs/planning.md over to a table docs/planning.sh did not measure this time.

A measurement of a plan does not depend on the cost model's prediction, so after a change to the model the earlier
measurement still stands — as long as the plan is the same layout. A row keeps its earlier measured seconds per token
only when its plan's description line (the "- **plan**: blocks ..." line under the table) is the same as then; its
measured / predicted is recomputed against the new prediction, and the table says the measurement is kept and when
it was taken (the earlier "Measured on ..." line).

usage: planning_keep.py OLD_PLANNING_MD MODEL CARDS OBJECTIVE < new section > section
"""
import re
import sys

from planning_json import seconds


def sections(path):
    """Each '#### model, N cards, optimised for X' heading's lines, up to the next heading."""
    found, current = {}, None
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except FileNotFoundError:
        return found
    for line in lines:
        if line.startswith("#### "):
            current = found.setdefault(line, [])
            continue
        if line.startswith("## ") or line.startswith("*This run took"):
            current = None
            continue
        if current is not None:
            current.append(line)
    return found


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def described(lines):
    """plan name -> its description line."""
    return {m.group(1): line for line in lines for m in [re.match(r"^- \*\*([a-z-]+)\*\*: ", line)] if m}


def main(old_path, model, cards, objective):
    new = sys.stdin.read().split("\n")
    heading = f"#### {model}, {cards} cards, optimised for {objective}"
    old = sections(old_path).get(heading)
    if not old:
        sys.stdout.write("\n".join(new))
        return
    old_rows = {c[0]: c for c in map(cells, old) if len(c) == 13 and c[0] not in ("plan", "---")}
    old_plans, new_plans = described(old), described(new)
    measured_line = next((line for line in old if line.startswith("Measured on ")), None)
    note = None
    if measured_line:
        note = ("Measured in an earlier run and kept (the same plans; a measurement does not depend on the predictions"
                " beside it, so measured / predicted is against today's prediction): " + measured_line[0].lower()
                + measured_line[1:])
    else:  # kept once already
        note = next((line for line in old if line.startswith("Measured in an earlier run and kept")), None)
    kept, out = 0, []
    for line in new:
        c = cells(line) if line.startswith("|") else []
        if len(c) == 13 and c[11] == "not measured" and c[0] in old_rows:
            then = old_rows[c[0]][11]
            was, now = seconds(then), seconds(c[1])
            if was is not None and now and old_plans.get(c[0]) == new_plans.get(c[0]) is not None:
                c[11], c[12] = then, f"{was / now:.2f}"
                line = "| " + " | ".join(c) + " |"
                kept += 1
        out.append(line)
    if kept and note:
        # the note goes after the table (its first blank line after a table row)
        at = next(i for i in range(1, len(out)) if out[i] == "" and out[i - 1].startswith("|"))
        out[at + 1:at + 1] = [note, ""]
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main(*sys.argv[1:5])
