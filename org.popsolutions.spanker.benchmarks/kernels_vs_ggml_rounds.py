#!/usr/bin/env python3
"""One cell of kernels-vs-ggml.sh (a weight type, a thread count, a JDK) as alternated rounds: ggml, ours with the
`java` kernels, ours with the `native` kernels, ggml, ... and a last ggml window, each process alone on the machine
while it runs.

Every side is started once and warmed up once, one at a time: ggml's test-backend-ops built by lib.sh ggml_rounds
(set-up and its warm-up run, then one timed window per "go" on its stdin) and one JMH fork per provider of
MatVecBenchmark (its warm-up iterations, then each measurement iteration waits for a go on its named pipe: Rounds.java).
Then ROUNDS rounds of short windows, in the same order every round, so each of our iterations has a ggml window
just before it and just after it (kernels_vs_ggml.py pairs them). Writes the JMH JSON of each provider
(matvec-JDK-THREADS-TYPE-PROVIDER.json, its log beside it) and appends one line to runs.jsonl: ggml's windows
(µs per product), the 1-minute load before each round, the rounds and the window length.

usage: kernels_vs_ggml_rounds.py --ggml BIN --harness JAVA --jvm JAVA --jar JAR --jdk 17 --type Q4_K --threads 1
           --rounds 8 --window-ms 500 --warmup 5 --out DIR
"""
import argparse
import datetime
import json
import os
import select
import signal
import subprocess
import sys
import time

PROVIDERS = ("java", "native")
START_TIMEOUT = 1800  # seconds for a side's set-up and warm-up: minutes under heavy load
ROUND_TIMEOUT = 600


def load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def ggml_type(t):
    """ggml's spelling of a type in test-backend-ops' case names: q4_0, q4_K, f16, bf16."""
    low = t.lower()
    return low[:-2] + "_K" if low.endswith("_k") else low


class Lines:
    """Lines from a file descriptor, with a deadline and a check that the writer still lives."""

    def __init__(self, fd, what):
        self.fd, self.what, self.buf = fd, what, b""

    def next(self, proc, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.what}: nothing after {timeout} s")
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if ready:
                chunk = os.read(self.fd, 4096)
                if not chunk:
                    return None
                self.buf += chunk
            elif proc.poll() is not None:
                return None
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace")

    def expect(self, prefix, proc, timeout):
        """The next line starting with prefix (other output is skipped), or None when the writer ended first."""
        while True:
            line = self.next(proc, timeout)
            if line is None or line.startswith(prefix):
                return line


def stop(proc):
    """Ends a side this script started (its process group: a JMH harness and its fork) if it still runs."""
    if proc is not None and proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("--ggml", "--harness", "--jvm", "--jar", "--jdk", "--type", "--out"):
        ap.add_argument(name, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--window-ms", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=5, help="JMH warm-up iterations of 1 s per provider")
    a = ap.parse_args()
    cell = f"{a.jdk}-{a.threads}-{a.type}"
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    procs, fds, ggml_case = [], [], None
    ggml_rounds, loads = [], []
    seconds, since = {}, time.monotonic()  # where a cell's time goes (runs.jsonl only): set-ups, warm-ups, rounds

    def phase(name):
        nonlocal since
        now = time.monotonic()
        seconds[name] = round(now - since, 1)
        since = now
    try:
        env = dict(os.environ, GGML_TEST_THREADS=str(a.threads), GGML_TEST_PERF_ROUNDS=str(a.window_ms * 1000))
        ggml = subprocess.Popen(
            [a.ggml, "perf", "-o", "MUL_MAT", "-b", "CPU", "-p",
             f"type_a={ggml_type(a.type)},type_b=f32,m=4096,n=1,k=14336,"],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(os.path.join(a.out, f"ggml-{cell}.log"), "w"), start_new_session=True)
        procs.append(ggml)
        ggml_out = Lines(ggml.stdout.fileno(), f"ggml {cell}")
        ready_line = ggml_out.expect("ready", ggml, START_TIMEOUT)
        ggml_case = ready_line[len("ready "):] if ready_line else None
        if ready_line is None:
            print(f"{cell}: ggml has no such case (or failed): no ggml rounds", file=sys.stderr)
            stop(ggml)
            ggml = None
        phase("ggmlSetUp")
        sides = {}
        for p in PROVIDERS:
            d = os.path.join(a.out, f"rounds-{cell}-{p}")
            os.makedirs(d, exist_ok=True)
            for pipe in ("ready", "go"):
                path = os.path.join(d, pipe)
                if os.path.exists(path):
                    os.remove(path)
                os.mkfifo(path)
            # read-write opens of a pipe never block (Linux), and the fork sees the end of go when this script ends
            ready = os.open(os.path.join(d, "ready"), os.O_RDWR)
            go = os.open(os.path.join(d, "go"), os.O_RDWR)
            fds += [ready, go]
            proc = subprocess.Popen(
                # two harnesses at once: JMH's lock (/tmp/jmh.lock) would refuse the second
                [a.harness, "-Djmh.ignoreLock=true", "-jar", a.jar, "MatVecBenchmark", "-jvm", a.jvm, "-p", f"type={a.type}",
                 "-p", f"threads={a.threads}", "-p", "rows=4096", "-p", "cols=14336", "-p", f"provider={p}",
                 "-p", "layout=packed", "-wi", str(a.warmup), "-w", "1", "-i", str(a.rounds), "-r", f"{a.window_ms}ms",
                 "-f", "1", "-jvmArgsPrepend", f"-Dspanker.bench.rounds={d}", "-rf", "json",
                 "-rff", os.path.join(a.out, f"matvec-{cell}-{p}.json")],
                stdout=open(os.path.join(a.out, f"matvec-{cell}-{p}.log"), "w"), stderr=subprocess.STDOUT,
                start_new_session=True)
            procs.append(proc)
            # warmed up alone: the sides started before wait for their first go
            lines = Lines(ready, f"{p} {cell}")
            if lines.expect("ready", proc, START_TIMEOUT) is None:
                print(f"{cell}: the {p} fork ended before its first round (see its log)", file=sys.stderr)
                continue
            phase(f"{p}SetUpAndWarmUp")
            sides[p] = (proc, lines, go)

        def ggml_window():
            if ggml is None:
                return
            ggml.stdin.write(b"go\n")
            ggml.stdin.flush()
            line = ggml_out.expect("round", ggml, ROUND_TIMEOUT)
            ggml_rounds.append(float(line.split()[1]) if line else None)

        for r in range(a.rounds):
            loads.append(load())
            ggml_window()
            for p, (proc, lines, go) in list(sides.items()):
                os.write(go, b"go\n")
                last = r == a.rounds - 1
                if last:
                    proc.wait(timeout=ROUND_TIMEOUT)  # the last iteration, then JMH writes its JSON and exits
                elif lines.expect("ready", proc, ROUND_TIMEOUT) is None:
                    print(f"{cell}: the {p} fork ended in round {r + 1} (see its log)", file=sys.stderr)
                    del sides[p]
        ggml_window()  # the window after our last iterations
        loads.append(load())
        phase("rounds")
    finally:
        for fd in fds:
            os.close(fd)
        for proc in procs:
            if proc.stdin:
                proc.stdin.close()
            stop(proc)
    with open(os.path.join(a.out, "runs.jsonl"), "a") as f:
        f.write(json.dumps({"jdk": a.jdk, "threads": a.threads, "type": a.type, "utc": started,
                            "rounds": a.rounds, "windowSeconds": a.window_ms / 1000,
                            "order": ["ggml"] + list(PROVIDERS), "ggmlCase": ggml_case, "ggmlRoundMicros": ggml_rounds,
                            "load": loads, "seconds": seconds}) + "\n")


if __name__ == "__main__":
    main()
