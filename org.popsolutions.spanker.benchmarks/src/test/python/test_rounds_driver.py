"""kernels_vs_ggml_rounds.py with stand-ins for ggml and the JMH harness (fake_side.py): the order the sides run in,
what it writes for kernels_vs_ggml.py, and a side that fails."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

here = os.path.dirname(os.path.abspath(__file__))
module = os.path.abspath(os.path.join(here, "..", "..", ".."))
sys.path.insert(0, module)
import kernels_vs_ggml as kvg  # noqa: E402

FAKE = os.path.join(here, "fake_side.py")


class RoundsDriverTest(unittest.TestCase):
    def setUp(self):
        self.out = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.out)
        self.log = os.path.join(self.out, "order.log")

    def run_cell(self, rounds, **env):
        subprocess.run([sys.executable, os.path.join(module, "kernels_vs_ggml_rounds.py"), "--ggml", FAKE,
                        "--harness", FAKE, "--jvm", "java", "--jar", "none.jar", "--jdk", "25", "--type", "Q4_K",
                        "--threads", "2", "--rounds", str(rounds), "--window-ms", "10", "--warmup", "1",
                        "--out", self.out], env=dict(os.environ, FAKE_LOG=self.log, **env), check=True, timeout=120)
        with open(self.log) as f:
            order = f.read().split()
        with open(os.path.join(self.out, "runs.jsonl")) as f:
            [run] = [json.loads(line) for line in f]
        return order, run

    def test_the_sides_take_turns_and_ggml_closes_the_cell(self):
        order, run = self.run_cell(3)
        self.assertEqual(order, ["ggml", "java", "native"] * 3 + ["ggml"])
        self.assertEqual(run["ggmlRoundMicros"], [1001.0, 1002.0, 1003.0, 1004.0])
        self.assertEqual(run["ggmlCase"], "type_a=q4_K,fake")
        self.assertEqual((run["rounds"], run["windowSeconds"], run["order"]), (3, 0.01, ["ggml", "java", "native"]))
        self.assertEqual(len(run["load"]), 4)
        [cell] = kvg.collect(self.out)
        self.assertEqual(cell["providers"]["native"]["ggmlOverJavaRounds"], [2.003, 2.005, 2.007])
        self.assertEqual(cell["providers"]["java"]["rounds"], 3)

    def test_a_fork_that_fails_leaves_the_other_sides_their_rounds(self):
        order, run = self.run_cell(2, FAKE_FAIL="java")
        self.assertEqual(order, ["ggml", "native", "ggml", "native", "ggml"])
        [cell] = kvg.collect(self.out)
        self.assertEqual(set(cell["providers"]), {"native"})


if __name__ == "__main__":
    unittest.main()
