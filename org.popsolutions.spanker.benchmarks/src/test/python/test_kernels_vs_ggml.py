"""kernels_vs_ggml.py: the pairing of alternated rounds, their median and range, and the JSON and table it writes.
Run by KernelsVsGgmlScriptTest (the module's tests) or by hand: python3 -m unittest discover -s src/test/python"""
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
import kernels_vs_ggml as kvg  # noqa: E402

PROVIDER_KEYS = {"micros", "roundMicros", "weightBytesPerSecond", "cpuMicros", "ggmlOverJava", "ggmlOverJavaRange",
                 "rounds", "ggmlOverJavaRounds", "fractionOfDram"}
WEIGHT_BYTES = 33030144


def jmh(provider, micros, cpu_micros=None):
    """A JMH result of MatVecBenchmark with one measurement iteration per round taking the given µs per product."""
    ops = [1e6 / us for us in micros]
    secondary = {"bytes": {"score": 0, "rawData": [[o * WEIGHT_BYTES for o in ops]]}}
    if cpu_micros:
        secondary["cpuNanos"] = {"score": 0, "rawData": [[o * c * 1e3 for o, c in zip(ops, cpu_micros)]]}
    return [{"benchmark": "org.popsolutions.spanker.benchmarks.MatVecBenchmark.matvec",
             "params": {"provider": provider, "type": "Q4_0", "threads": "1"},
             "primaryMetric": {"score": sum(ops) / len(ops), "rawData": [ops]}, "secondaryMetrics": secondary}]


class PairingTest(unittest.TestCase):
    def test_each_round_divides_the_ggml_windows_either_side_by_ours(self):
        self.assertEqual(kvg.paired_ratios([100, 120, 110], [50, 100]), [2.2, 1.15])

    def test_a_missing_ggml_window_leaves_the_other_side(self):
        self.assertEqual(kvg.paired_ratios([100, None], [50]), [2.0])
        self.assertEqual(kvg.paired_ratios([100], [50, 25]), [2.0, None])
        self.assertEqual(kvg.paired_ratios([], [50]), [None])

    def test_a_round_of_ours_without_a_figure_has_no_ratio(self):
        self.assertEqual(kvg.paired_ratios([100, 100, 100], [None, 50]), [None, 2.0])

    def test_median_range_and_count_skip_the_missing_rounds(self):
        self.assertEqual(kvg.spread([1.0, None, 3.0, 2.0]), (2.0, [1.0, 3.0], 3))
        self.assertEqual(kvg.spread([4.0, 1.0, 3.0, 2.0]), (2.5, [1.0, 4.0], 4))
        self.assertEqual(kvg.spread([None]), (None, None, 0))

    def test_one_slow_round_moves_the_median_less_than_the_mean(self):
        ratios = kvg.paired_ratios([1000] * 6, [1000, 1000, 1000, 1000, 3000])
        median, low_high, n = kvg.spread(ratios)
        self.assertEqual((median, n), (1.0, 5))
        self.assertAlmostEqual(low_high[0], 1 / 3)


class RunDirTest(unittest.TestCase):
    """A run directory as kernels-vs-ggml.sh leaves it, with made-up figures: three rounds of ggml, java and native."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        self.write("runs.jsonl", json.dumps({
            "jdk": "25", "threads": 1, "type": "Q4_0", "utc": "2026-12-01T16:00:00Z", "rounds": 3,
            "windowSeconds": 0.5, "order": ["ggml", "java", "native"],
            "ggmlRoundMicros": [3000, 3000, 2400, 3600], "load": [1.2, 1.3, 1.4, 1.5]}) + "\n")
        self.write("matvec-25-1-Q4_0-java.json", json.dumps(jmh("java", [2000, 1800, 2000], [1900, 1700, 1900])))
        self.write("matvec-25-1-Q4_0-native.json", json.dumps(jmh("native", [1500, 1500, 1000], [1400, 1400, 950])))
        self.write("dram-ceiling-start-1.json", json.dumps({
            "benchmark": "dram_read", "threads": 1, "bytesPerSecond": 35e9, "medianBytesPerSecond": 33e9,
            "loads": "avx2", "passes": 20, "bufferBytes": 1 << 30, "hugePageBytes": 1 << 30}))

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def test_a_cell_holds_every_round_and_their_median_range_and_count(self):
        [cell] = kvg.collect(self.dir)
        self.assertEqual(cell["rounds"], 3)
        self.assertEqual(cell["ggmlRoundMicros"], [3000, 3000, 2400, 3600])
        self.assertEqual(cell["ggmlMicros"], 3000)
        java = cell["providers"]["java"]
        self.assertEqual(set(java), PROVIDER_KEYS)
        # rounds: (3000+3000)/2 / 2000, (3000+2400)/2 / 1800, (2400+3600)/2 / 2000
        for got, want in zip(java["ggmlOverJavaRounds"], [1.5, 1.5, 1.5]):
            self.assertAlmostEqual(got, want)
        native = cell["providers"]["native"]
        for got, want in zip(native["ggmlOverJavaRounds"], [2.0, 1.8, 3.0]):
            self.assertAlmostEqual(got, want)
        self.assertAlmostEqual(native["ggmlOverJava"], 2.0)
        self.assertAlmostEqual(native["ggmlOverJavaRange"][0], 1.8)
        self.assertAlmostEqual(native["ggmlOverJavaRange"][1], 3.0)
        self.assertEqual(native["rounds"], 3)
        self.assertAlmostEqual(native["micros"], 1500)
        self.assertAlmostEqual(java["cpuMicros"], 1900)
        self.assertEqual(cell["weightBytes"], WEIGHT_BYTES)
        self.assertAlmostEqual(native["fractionOfDram"], WEIGHT_BYTES / 1500e-6 / 35e9)

    def test_a_fork_that_left_no_results_leaves_its_provider_out(self):
        os.remove(os.path.join(self.dir, "matvec-25-1-Q4_0-native.json"))
        [cell] = kvg.collect(self.dir)
        self.assertEqual(set(cell["providers"]), {"java"})
        self.assertIn("| – |", kvg.markdown([cell], "17", "25"))

    def test_no_ggml_windows_no_ratios(self):
        with open(os.path.join(self.dir, "runs.jsonl")) as f:
            runs = f.read()
        self.write("runs.jsonl", runs.replace('"ggmlRoundMicros": [3000, 3000, 2400, 3600]', '"ggmlRoundMicros": []'))
        [cell] = kvg.collect(self.dir)
        java = cell["providers"]["java"]
        self.assertEqual((java["ggmlOverJava"], java["ggmlOverJavaRange"], java["rounds"]), (None, None, 0))
        self.assertIn("· **–** ×0", kvg.markdown([cell], "17", "25"))

    def test_the_table_row_gives_micros_ratio_range_and_rounds(self):
        text = kvg.markdown(kvg.collect(self.dir), "17", "25")
        self.assertIn("| Q4_0 | 1 | 2026-12-01 16:00, 1.2–1.5 | 3000 | 2000 · **1.50** (1.50–1.50) ×3 "
                      "| 1500 · **2.00** (1.80–3.00) ×3 |", text)

    def test_main_writes_valid_json_in_the_same_shape_and_replaces_only_its_section(self):
        docs = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, docs)
        md, out = os.path.join(docs, "performance.md"), os.path.join(docs, "kernels-vs-ggml.json")
        with open(md, "w") as f:
            f.write(f"# before\n\n{kvg.BEGIN}\nold table\n{kvg.END}\n\nafter\n")
        old = {"jdk": "17", "threads": 2, "type": "Q6_K", "utc": "2026-11-30T15:00:00Z", "loadAverage": [1.3, 1.4],
               "ggmlMicros": 1200.0, "ggmlRuns": [1100.0, 1300.0], "dramBytesPerSecond": 60e9, "weightBytes": 48168960,
               "providers": {"java": {"micros": 1500.0, "weightBytesPerSecond": 3.2e10, "cpuMicros": None,
                                      "ggmlOverJava": 0.8, "fractionOfDram": 0.5}}}
        with open(out, "w") as f:
            json.dump({"cells": [old]}, f)
        with contextlib.redirect_stdout(io.StringIO()):  # main prints the section too
            kvg.main(self.dir, md, out, "17", "25")
        with open(out) as f:
            text = f.read()
        cells = json.loads(text, parse_constant=lambda c: self.fail(f"{c} is not JSON"))["cells"]
        self.assertEqual([(c["jdk"], c["type"]) for c in cells], [("17", "Q6_K"), ("25", "Q4_0")])
        for c in cells:
            for p in c["providers"].values():
                self.assertEqual(set(p), PROVIDER_KEYS)
        migrated = cells[0]
        self.assertEqual(migrated["ggmlRoundMicros"], [1100.0, 1300.0])
        self.assertNotIn("ggmlRuns", migrated)
        self.assertEqual(migrated["javaStreamingSumBytesPerSecond"], 60e9)
        self.assertEqual(migrated["providers"]["java"]["rounds"], 1)
        self.assertEqual(migrated["providers"]["java"]["ggmlOverJavaRange"], [0.8, 0.8])
        self.assertIsNone(migrated["providers"]["java"]["fractionOfDram"])
        with open(md) as f:
            doc = f.read()
        self.assertTrue(doc.startswith("# before\n\n" + kvg.BEGIN))
        self.assertTrue(doc.endswith(kvg.END + "\n\nafter\n"))
        self.assertNotIn("old table", doc)
        self.assertIn("| Q6_K | 2 |", doc)
        self.assertIn("1500 · **0.80** (0.80–0.80) ×1", doc)


if __name__ == "__main__":
    unittest.main()
