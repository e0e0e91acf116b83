#!/usr/bin/env python3
"""A stand-in for both sides of kernels_vs_ggml_rounds.py's rounds, for test_rounds_driver.py: called with "perf" it is
ggml's round-timing test-backend-ops (ready, then a "round" line per "go" on stdin), otherwise a JMH harness of
MatVecBenchmark (a "ready" on DIR/ready and a "go" read from DIR/go per measurement iteration, then a JMH JSON).
Every window it runs is appended to $FAKE_LOG, so the test sees the order the driver let the sides run in.
FAKE_FAIL=provider makes that provider's harness end before its first round."""
import json
import os
import re
import sys


def log(what):
    with open(os.environ["FAKE_LOG"], "a") as f:
        f.write(what + "\n")


def ggml():
    print("Testing 1 devices", flush=True)
    print(f"ready type_a={re.search(r'type_a=([^,]+)', sys.argv[-1]).group(1)},fake", flush=True)
    windows = 0
    for line in sys.stdin:
        if line.strip() != "go":
            break
        windows += 1
        log("ggml")
        print(f"round {1000.0 + windows} 69", flush=True)


def harness():
    args = sys.argv[1:]
    option = lambda name: args[args.index(name) + 1]
    params = dict(a.split("=", 1) for i, a in enumerate(args) if i > 0 and args[i - 1] == "-p")
    rounds_dir = option("-jvmArgsPrepend").split("=", 1)[1]
    provider = params["provider"]
    if os.environ.get("FAKE_FAIL") == provider:
        sys.exit(1)
    ops = []
    with open(os.path.join(rounds_dir, "ready"), "w") as ready, open(os.path.join(rounds_dir, "go")) as go:
        for i in range(int(option("-i"))):
            ready.write("ready\n")
            ready.flush()
            if go.readline().strip() != "go":
                sys.exit(2)
            log(provider)
            ops.append(1e6 / (500.0 if provider == "native" else 1000.0 + i))
    with open(option("-rff"), "w") as f:
        json.dump([{"params": params, "primaryMetric": {"score": 0, "rawData": [ops]},
                    "secondaryMetrics": {"bytes": {"score": 0, "rawData": [[o * 1000 for o in ops]]}}}], f)


if __name__ == "__main__":
    ggml() if "perf" in sys.argv[1:2] else harness()
