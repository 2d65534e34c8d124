"""The pure parts of runner/bench/truth_rows.py and allocator_trace.py, on CPU:
the rows it measures are rows of the shared memory truth, a typo is refused
before anything is built, and the trace reader finds the free cached memory a
new segment was allocated beside."""

import contextlib
import csv
import io
import os
import sys
import unittest

RUNNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.path.join(RUNNER_DIR, "bench")
if BENCH_DIR not in sys.path:
    sys.path.insert(0, BENCH_DIR)

import allocator_trace  # noqa: E402
import truth_rows  # noqa: E402

SHARED_DATA = os.path.join(RUNNER_DIR, "..", "..", "shared", "data")
MIB = 2**20


def csv_rows():
    rows = []
    for name in ("memory-truth.csv", "memory-truth-qlora.csv"):
        with open(os.path.join(SHARED_DATA, name), newline="") as fh:
            rows += [r for r in csv.DictReader(fh) if r["model_id"] in truth_rows.MODEL_IDS.values()]
    return rows


def matches(row, csv_row):
    targets = row.get("targets")
    csv_targets = "all-linear" if targets == "all-linear" else "+".join(targets or [])
    return (csv_row["model_id"] == truth_rows.MODEL_IDS[row.get("shape", "0.5b")]
            and csv_row["method"] == row["method"] and int(csv_row["seq_len"]) == row["seq"]
            and int(csv_row["micro_batch"]) == row["mb"] and (csv_row["grad_ckpt"] == "true") == row["ckpt"]
            and csv_row["optimizer"] == row.get("optim", "adamw_torch_fused")
            and csv_row["weights_dtype"] in ("bf16", "nf4")
            and (row["method"] == "full" or (int(csv_row["lora_r"]) == row["r"]
                                              and csv_row["lora_targets"] == csv_targets))
            and (row["method"] != "qlora" or (csv_row.get("prepare_kbit") == "true") == row["prepare"]))


@unittest.skipUnless(os.path.isdir(SHARED_DATA), "the shared memory truth is not beside this checkout")
class RowsAreSharedTruthRows(unittest.TestCase):
    def test_each_row_is_exactly_one_csv_row(self):
        rows = csv_rows()
        for name, row in truth_rows.ROWS.items():
            with self.subTest(name):
                self.assertEqual(sum(matches(row, r) for r in rows), 1)

    def test_a_different_setting_matches_no_row(self):
        row = dict(truth_rows.ROWS["lora-qv-r8-2048x1"], r=16)
        self.assertFalse(any(matches(row, r) for r in csv_rows()))


class Arguments(unittest.TestCase):
    def test_unknown_row_is_refused_before_anything_runs(self):
        with contextlib.redirect_stderr(io.StringIO()) as err, self.assertRaises(SystemExit):
            truth_rows.main(["--rows", "lora-qv-r8-2048x1,nope", "--out", os.devnull])
        self.assertIn("no such row: nope", err.getvalue())


def event(action, addr, size):
    return {"action": action, "addr": addr, "size": size, "frames": []}


class TraceReader(unittest.TestCase):
    def test_a_new_segment_reports_the_split_free_memory_beside_it(self):
        base = 1 << 40
        trace = [
            event("segment_alloc", base, 100 * MIB),
            event("alloc", base, 40 * MIB),
            event("alloc", base + 40 * MIB, 20 * MIB),
            event("alloc", base + 60 * MIB, 40 * MIB),
            event("free_requested", base, 40 * MIB),
            event("free_completed", base, 40 * MIB),
            event("free_completed", base + 60 * MIB, 40 * MIB),
            # 80 MiB free but split in two 40s: a 64 MiB request takes a new segment
            event("segment_alloc", base + 200 * MIB, 64 * MIB),
            event("alloc", base + 200 * MIB, 64 * MIB),
        ]
        lines = allocator_trace.analyse({"device_traces": [trace], "segments": []}, min_mib=64)
        self.assertEqual(len([l for l in lines if "new segment" in l]), 2)
        last = next(l for l in reversed(lines) if "new segment" in l)
        self.assertIn("64.0 MiB request", last)
        self.assertIn("cached free then     80.0 MiB, largest     40.0 MiB", last)
        self.assertIn("peak reserved 0.160 GiB", lines[-2])
        # the live block that split the one segment big enough names where it came from
        splitters = [l for l in lines if "in the " in l]
        self.assertEqual(splitters, ["             in the 100 MiB segment: a live 20.0 MiB block from #2 "])

    def test_no_splitter_is_named_when_too_little_was_cached(self):
        trace = [event("segment_alloc", 0, 100 * MIB), event("alloc", 0, 90 * MIB),
                 event("segment_alloc", 1 << 40, 64 * MIB), event("alloc", 1 << 40, 64 * MIB)]
        lines = allocator_trace.analyse({"device_traces": [trace], "segments": []}, min_mib=64)
        self.assertFalse(any("in the " in l for l in lines))

    def test_small_segments_are_left_out(self):
        trace = [event("segment_alloc", 0, 2 * MIB), event("alloc", 0, MIB)]
        lines = allocator_trace.analyse({"device_traces": [trace], "segments": []}, min_mib=64)
        self.assertFalse(any("new segment" in l for l in lines))


class CompactSnapshot(unittest.TestCase):
    def test_keeps_every_event_and_the_python_frames_of_large_requests_only(self):
        frames = [{"name": "forward", "filename": "/x/modeling.py", "line": 3},
                  {"name": "cudaMalloc", "filename": "??", "line": 0}]
        snapshot = {"device_traces": [[
            {"action": "alloc", "addr": 1, "size": 32 * MIB, "frames": frames, "stream": 0},
            {"action": "alloc", "addr": 2, "size": MIB, "frames": frames, "stream": 0},
            {"action": "free_completed", "addr": 1, "size": 32 * MIB, "frames": frames, "stream": 0}]],
            "segments": [{"address": 0, "total_size": 64 * MIB, "allocated_size": MIB, "blocks": [1, 2]}]}
        compact = truth_rows.compact_snapshot(snapshot)
        trace = compact["device_traces"][0]
        self.assertEqual([e["action"] for e in trace], ["alloc", "alloc", "free_completed"])
        self.assertEqual(trace[0]["frames"], [{"name": "forward", "filename": "/x/modeling.py", "line": 3}])
        self.assertEqual(trace[1]["frames"], [])
        self.assertEqual(trace[2]["frames"], [])
        self.assertEqual(compact["segments"], [{"address": 0, "total_size": 64 * MIB, "allocated_size": MIB}])


if __name__ == "__main__":
    unittest.main()
