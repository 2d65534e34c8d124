import json
import os
import random
import tempfile
import unittest

from tunelab_runner import data as D
from tunelab_runner import packing
from tunelab_runner.events import RunnerError

from .fakes import FakeTokenizer

CONV = [
    {"role": "user", "content": "My bill doubled this month."},
    {"role": "assistant", "content": "I see a roaming charge of 24 EUR from Spain."},
    {"role": "user", "content": "I was never in Spain."},
    {"role": "assistant", "content": "Then I will open a dispute for you."},
]


def trainable_text(tok, ids, labels):
    return "".join(tok.decode([i]) for i, l in zip(ids, labels) if l != D.IGNORE_INDEX)


class Masking(unittest.TestCase):
    def test_labels_from_offsets_overlap_rule(self):
        ids = [1, 2, 3, 4, 5]
        offs = [(0, 0), (0, 3), (3, 7), (7, 9), (9, 12)]
        self.assertEqual(D.labels_from_offsets(ids, offs, [(4, 9)]), [-100, -100, 3, 4, -100])
        self.assertEqual(D.labels_from_offsets(ids, offs, [(0, 3), (9, 12)]), [-100, 2, -100, -100, 5])
        self.assertEqual(D.labels_from_offsets(ids, offs, [], all_trainable=True), ids)

    def test_messages_completion_only(self):
        tok = FakeTokenizer()
        r = D.make_messages_renderer("chatml", tok)
        rendered = D.render_row({"messages": CONV}, "messages", r, "Be kind.", True)
        ((ids, labels),) = D.encode(tok, [rendered])
        text = trainable_text(tok, ids, labels)
        self.assertIn("roaming charge of 24 EUR from Spain.<|im_end|>", text)
        self.assertIn("open a dispute for you.<|im_end|>", text)
        self.assertNotIn("bill", text)
        self.assertNotIn("never in Spain", text)
        self.assertNotIn("Be kind", text)
        self.assertNotIn("<|im_start|>", text)
        # no BOS for chat text (the template decides)
        self.assertEqual(tok.decode(ids[:1]), "<|im_start|>")

    def test_messages_all_tokens_without_completion_only(self):
        tok = FakeTokenizer()
        r = D.make_messages_renderer("chatml", tok)
        rendered = D.render_row({"messages": CONV}, "messages", r, None, False)
        ((ids, labels),) = D.encode(tok, [rendered])
        self.assertEqual(ids, labels)

    def test_prompt_completion(self):
        tok = FakeTokenizer()
        row = {"prompt": "Q: what is APN?\nA:", "completion": " the access point name."}
        ((ids, labels),) = D.encode(tok, [D.render_row(row, "prompt_completion", None, None, True)])
        self.assertEqual(tok.decode(ids[:1]), "<s>")
        self.assertEqual(ids[-1], tok.eos_token_id)
        self.assertEqual(labels[-1], tok.eos_token_id)  # the model learns to stop
        self.assertEqual(trainable_text(tok, ids, labels), " the access point name.</s>")
        ((ids2, labels2),) = D.encode(tok, [D.render_row(row, "prompt_completion", None, None, False)])
        self.assertEqual(ids2, labels2)

    def test_text(self):
        tok = FakeTokenizer()
        ((ids, labels),) = D.encode(tok, [D.render_row({"text": "hello world"}, "text", None, None, True)])
        self.assertEqual(ids, labels)
        self.assertEqual(tok.decode(ids), "<s>hello world</s>")

    def test_slow_tokenizer_fallback_masks_the_same(self):
        fast, slow = FakeTokenizer(), FakeTokenizer(is_fast=False)
        for t in (fast, slow):
            rendered = D.render_row({"messages": CONV}, "messages", D.make_messages_renderer("llama-3", t), None, True)
            ((ids, labels),) = D.encode(t, [rendered])
            t.result = trainable_text(t, ids, labels)
        # a token that carries the whitespace before a turn counts as the turn's
        self.assertEqual("".join(fast.result.split()), "".join(slow.result.split()))
        self.assertIn("24 EUR from Spain.<|eot_id|>", fast.result)

    def test_bad_rows(self):
        with self.assertRaises(RunnerError) as ctx:
            D.render_row({"messages": [{"role": "user"}]}, "messages", lambda m: ("", []), None, True, "f:3")
        self.assertEqual(ctx.exception.type, "data")
        self.assertIn("f:3", ctx.exception.message)
        with self.assertRaises(RunnerError):
            D.render_row({"prompt": 1, "completion": "x"}, "prompt_completion", None, None, True)

    def test_model_template_needed(self):
        with self.assertRaises(RunnerError):
            D.make_messages_renderer("model", FakeTokenizer())


class Samples(unittest.TestCase):
    def test_truncation_first_label_and_drop(self):
        enc = [
            (list(range(10)), list(range(10))),
            ([1, 2, 3], [-100, -100, 3]),
            ([1, 2, 3, 4, 5, 6], [-100, -100, -100, -100, 5, 6]),  # loss only past max_length
            ([7, 8], [7, -100]),  # only the first label, which no token predicts
        ]
        stats = {}
        samples = D.make_samples(enc, 4, stats)
        self.assertEqual([list(s.input_ids) for s in samples], [[0, 1, 2, 3], [1, 2, 3]])
        self.assertEqual(list(samples[0].labels), [-100, 1, 2, 3])
        self.assertEqual(stats["truncated"], 2)
        self.assertEqual(stats["dropped_no_labels"], 2)
        self.assertEqual(stats["samples"], 2)
        self.assertEqual(stats["trainable_tokens"], 4)


class Packing(unittest.TestCase):
    def test_bfd_fills_rows(self):
        lengths = [7, 5, 4, 3, 3, 2, 1, 1]
        bins = packing.pack_bfd(lengths, 8)
        self.assertEqual(sorted(i for b in bins for i in b), list(range(len(lengths))))
        for b in bins:
            self.assertLessEqual(sum(lengths[i] for i in b), 8)
        self.assertEqual(len(bins), 4)  # 26 tokens: ceil(26 / 8) = 4 rows is optimal
        self.assertEqual(bins, packing.pack_bfd(lengths, 8))  # deterministic

    def test_bfd_random_near_optimal(self):
        rng = random.Random(0)
        lengths = [max(1, min(2048, int(rng.lognormvariate(5.8, 0.7)))) for _ in range(2000)]
        bins = packing.pack_bfd(lengths, 2048)
        lower = -(-sum(lengths) // 2048)
        self.assertLessEqual(len(bins), lower * 1.02 + 1)
        with self.assertRaises(ValueError):
            packing.pack_bfd([9], 8)

    def test_position_ids_reset(self):
        self.assertEqual(packing.position_ids_for([3, 2], 8), [0, 1, 2, 0, 1, 0, 1, 2])

    def test_packed_dataset_rows(self):
        samples = [D.Sample([10 + i] * n, [-100] + [10 + i] * (n - 1)) for i, n in enumerate([5, 3, 4, 2])]
        ds = packing.PackedDataset(samples, 8, pad_id=0)
        self.assertEqual(len(ds), 2)
        total = 0
        for i in range(len(ds)):
            row = ds[i]
            self.assertEqual(len(row["input_ids"]), 8)
            self.assertEqual(len(row["labels"]), 8)
            self.assertEqual(len(row["position_ids"]), 8)
            total += row["n_real"]
            # each sample's first label is masked: no loss across sample borders
            for j, p in enumerate(row["position_ids"]):
                if p == 0:
                    self.assertEqual(row["labels"][j], -100)
        self.assertEqual(total, 14)
        self.assertAlmostEqual(ds.efficiency(), 14 / 16)
        row = ds[0]
        self.assertEqual(list(row["input_ids"]), [10] * 5 + [11] * 3)
        self.assertEqual(list(row["position_ids"]), [0, 1, 2, 3, 4, 0, 1, 2])

    def test_pad_batch(self):
        items = [{"input_ids": [1, 2, 3], "labels": [-100, 2, 3]}, {"input_ids": [4], "labels": [-100]}]
        b = packing.pad_batch(items, pad_id=0, pad_to_multiple_of=4)
        self.assertEqual(b["input_ids"], [[1, 2, 3, 0], [4, 0, 0, 0]])
        self.assertEqual(b["labels"], [[-100, 2, 3, -100], [-100, -100, -100, -100]])
        self.assertEqual(b["attention_mask"], [[1, 1, 1, 0], [1, 0, 0, 0]])


class Mixing(unittest.TestCase):
    def test_general_count(self):
        self.assertEqual(D.general_count(95, 0.05), 5)
        self.assertEqual(D.general_count(100, 0.0), 0)
        self.assertEqual(D.general_count(1000, 0.2), 250)

    def test_mix_general(self):
        task = [("t", i) for i in range(190)]
        general = [("g", i) for i in range(4)]  # fewer than needed: cycles
        mixed = D.mix_general(task, general, 0.05, seed=1)
        self.assertEqual(len(mixed), 200)
        self.assertEqual(sum(1 for k, _ in mixed if k == "g"), 10)
        self.assertEqual(sorted(x for x in mixed if x[0] == "t"), task)
        self.assertEqual(mixed, D.mix_general(task, general, 0.05, seed=1))
        self.assertNotEqual(mixed, D.mix_general(task, general, 0.05, seed=2))


class BuildDatasets(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        d = self.tmp.name
        with open(os.path.join(d, "train.jsonl"), "w") as fh:
            for i in range(40):
                fh.write(json.dumps({"messages": [{"role": "user", "content": f"question {i} " + "x " * (i % 7)},
                                                  {"role": "assistant", "content": f"answer {i}"}]}) + "\n")
        with open(os.path.join(d, "general.jsonl"), "w") as fh:
            for i in range(10):
                fh.write(json.dumps({"text": f"general text {i}"}) + "\n")
        with open(os.path.join(d, "eval.jsonl"), "w") as fh:
            fh.write(json.dumps({"messages": [{"role": "user", "content": "q"},
                                              {"role": "assistant", "content": "a"}]}) + "\n")
        self.data = {"train_file": os.path.join(d, "train.jsonl"), "eval_file": os.path.join(d, "eval.jsonl"),
                     "format": "messages", "chat_template": "chatml", "system_prompt": "Sys.",
                     "max_length": 64, "completion_only_loss": True, "packing": False,
                     "general_data": {"file": os.path.join(d, "general.jsonl"), "ratio": 0.2}, "seed": 3}

    def tearDown(self):
        self.tmp.cleanup()

    def test_build(self):
        tok = FakeTokenizer()
        train, ev, stats = D.build_datasets(self.data, tok)
        self.assertEqual(len(train), 50)  # 40 task + 10 general (20%)
        self.assertEqual(stats["general"]["samples"], 10)
        self.assertEqual(len(ev), 1)
        texts = [tok.decode(list(train[i]["input_ids"])) for i in range(len(train))]
        self.assertEqual(sum(1 for t in texts if t.startswith("<s>general text")), 10)
        self.assertTrue(all("Sys." in t for t in texts if "question" in t))
        # the same data twice: the same order (resume relies on it)
        train2, _, _ = D.build_datasets(self.data, FakeTokenizer())
        self.assertEqual([list(train[i]["input_ids"]) for i in range(5)],
                         [list(train2[i]["input_ids"]) for i in range(5)])

    def test_build_packed(self):
        self.data["packing"] = True
        train, ev, stats = D.build_datasets(self.data, FakeTokenizer())
        self.assertGreater(stats["packing"]["efficiency"], 0.8)
        self.assertTrue(all(len(train[i]["input_ids"]) == 64 for i in range(len(train))))

    def test_wrong_format_rows(self):
        self.data["format"] = "text"
        with self.assertRaises(RunnerError) as ctx:
            D.build_datasets(self.data, FakeTokenizer())
        self.assertEqual(ctx.exception.type, "data")
        self.assertIn("train.jsonl:1", ctx.exception.message)

    def test_bad_json(self):
        with open(self.data["train_file"], "a") as fh:
            fh.write("{not json\n")
        with self.assertRaises(RunnerError) as ctx:
            D.read_jsonl(self.data["train_file"])
        self.assertIn(":41:", ctx.exception.message)


if __name__ == "__main__":
    unittest.main()
