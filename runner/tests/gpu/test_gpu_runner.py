"""GPU tests: real training runs of the runner on a tiny Llama built here.
Skipped (with the reason) where torch/CUDA are missing, so CI passes.
Run: python -m pytest -x -q runner/tests/gpu   (or unittest discover)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from . import helpers as H

REASON = H.cuda_reason()
TRANSFORMERS_REASON = None if (H.have("transformers") and H.have("tokenizers") and H.have("torch")) else \
    "transformers/tokenizers/torch not installed"


def first_last_loss(events):
    steps = [e for e in H.of(events, "step") if e.get("loss") is not None]
    return steps[0]["loss"], steps[-1]["loss"], steps


@unittest.skipIf(REASON is not None, REASON or "")
class GpuRuns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tunelab-gpu-")
        cls.fx = H.make_fixture(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def cfg(self, name, **kw):
        return H.write_config(os.path.join(self.tmp, name, "run.finetune.yaml"), self.fx, **kw)

    # ---------------------------------------------------------------- LoRA
    def test_lora_loss_falls_exports_and_merged_logits_match(self):
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer

        cfg = self.cfg("lora", data={"eval_file": os.path.join(self.fx["data"], "eval.jsonl")},
                       training={"max_steps": 100, "learning_rate": 3e-3})
        rc, events, log = H.run_runner(["train", cfg])
        self.assertEqual(rc, 0, log)
        start = H.of(events, "start")[0]
        self.assertLess(start["params"]["trainable"], start["params"]["total"] * 0.5)
        self.assertEqual(start["estimated_steps"], 100)
        first, last, steps = first_last_loss(events)
        print(f"\nLoRA loss {first:.3f} -> {last:.3f} over {steps[-1]['step']} steps")
        self.assertLess(last, 0.5 * first, "LoRA loss did not fall clearly")
        for s in steps:
            for key in ("learning_rate", "grad_norm", "tokens_per_second", "gpu_memory", "eta_seconds", "epoch"):
                self.assertIn(key, s)
        self.assertGreater(steps[-1]["tokens_per_second"], 0)
        self.assertTrue(H.of(events, "eval"), "no eval event")
        end = events[-1]
        self.assertEqual((end["event"], end["status"], end["exit_code"]), ("end", "completed", 0))
        self.assertIn("eval_loss", end["metrics"])
        # the steady step (what the editor learns the host's pace from): the median time
        # between step ends, against the step events' own clock (every 5 steps, no eval between)
        steady = end["metrics"]["steady_step_seconds"]
        evals = {e["step"] for e in H.of(events, "eval")}
        # 99 intervals between 100 step ends, less one for each evaluation in between
        self.assertGreaterEqual(end["metrics"]["steady_step_intervals"], 99 - len(evals))
        self.assertLessEqual(end["metrics"]["steady_step_intervals"], 99)
        logged = [(a["time"] - b["time"]) / (a["step"] - b["step"]) for b, a in zip(steps, steps[1:])
                  if not any(b["step"] <= s < a["step"] for s in evals) and b["step"] > 1]
        logged.sort()
        print(f"steady step {steady * 1e3:.1f} ms; between logged steps, median {logged[len(logged) // 2] * 1e3:.1f} ms")
        self.assertLess(abs(steady / logged[len(logged) // 2] - 1), 0.35)
        kinds = {e["kind"]: e for e in H.of(events, "export")}
        self.assertEqual(set(kinds), {"adapter", "merged"})
        out = os.path.join(os.path.dirname(cfg), "out")
        self.assertEqual(H.read_events(os.path.join(out, "events.jsonl")), events)  # file == stdout
        adapter_dir, merged_dir = kinds["adapter"]["path"], kinds["merged"]["path"]
        self.assertIn("adapter_model.safetensors", os.listdir(adapter_dir))
        self.assertTrue(any(f.endswith(".safetensors") for f in os.listdir(merged_dir)))
        self.assertIn("tokenizer.json", os.listdir(merged_dir))

        # merged model == base + adapter, within bf16 rounding of the merged weights
        tok = AutoTokenizer.from_pretrained(merged_dir)
        self.assertTrue(tok.chat_template)
        text = tok.apply_chat_template([{"role": "user", "content": "My SIM card is not detected."}],
                                       tokenize=False, add_generation_prompt=True)
        ids = torch.tensor([tok(text, add_special_tokens=False)["input_ids"]], device="cuda")
        base = AutoModelForCausalLM.from_pretrained(self.fx["base"], dtype=torch.bfloat16).float()
        with_adapter = PeftModel.from_pretrained(base, adapter_dir).cuda().eval()
        merged = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=torch.bfloat16)
        self.assertEqual(merged.dtype, torch.bfloat16)
        merged = merged.float().cuda().eval()
        with torch.no_grad():
            a = with_adapter(ids).logits
            m = merged(ids).logits
        diff = (a - m).abs().max().item()
        scale = a.abs().max().item()
        # A token whose top two logits are closer than the rounding noise may
        # flip either way; every token decided by more than that must agree.
        top2 = a.topk(2, dim=-1).values
        decided = (top2[..., 0] - top2[..., 1]) > 2 * diff
        same = a.argmax(-1) == m.argmax(-1)
        agree = same.float().mean().item()
        print(f"merged vs adapter logits: max |diff| {diff:.4g} (max |logit| {scale:.3g}), "
              f"argmax agreement {agree:.3f}, {decided.float().mean().item():.2f} of tokens decided beyond the noise")
        self.assertLess(diff, 2e-2 * scale + 1e-2)
        self.assertTrue(bool(same[decided].all()), "a token decided beyond the rounding noise differs")
        self.assertGreaterEqual(decided.float().mean().item(), 0.5)
        # and the adapter changed the model (the comparison means something)
        base2 = AutoModelForCausalLM.from_pretrained(self.fx["base"], dtype=torch.bfloat16).float().cuda().eval()
        with torch.no_grad():
            b = base2(ids).logits
        self.assertGreater((a - b).abs().max().item(), 10 * diff)

    # ---------------------------------------------------------------- full, packing, general data
    def test_full_packed_loss_falls(self):
        cfg = self.cfg("full", method="full",
                       data={"packing": True, "chat_template": "chatml",
                             "general_data": {"file": os.path.join(self.fx["data"], "general.jsonl"), "ratio": 0.1}},
                       training={"max_steps": 40, "learning_rate": 1e-3, "per_device_train_batch_size": 2})
        rc, events, log = H.run_runner(["train", cfg])
        self.assertEqual(rc, 0, log)
        start = H.of(events, "start")[0]
        self.assertEqual(start["params"]["trainable"], start["params"]["total"])  # all parameters trained
        self.assertEqual(start["data"]["general"]["samples"], 5)  # 48 task rows, 10% general
        self.assertIn("packing", start["data"])
        first, last, steps = first_last_loss(events)
        print(f"\nfull (packed) loss {first:.3f} -> {last:.3f}; packing {start['data']['packing']}")
        self.assertLess(last, 0.5 * first, "full fine-tuning loss did not fall clearly")
        exp = H.of(events, "export")
        self.assertEqual([e["kind"] for e in exp], ["model"])
        import json
        with open(os.path.join(exp[0]["path"], "config.json")) as fh:
            conf = json.load(fh)
        self.assertEqual(conf.get("dtype", conf.get("torch_dtype")), "bfloat16")

    # ---------------------------------------------------------------- resume after SIGTERM
    def test_sigterm_checkpoints_and_resume_continues(self):
        cfg = self.cfg("resume", training={"max_steps": 300, "logging_steps": 1, "save_strategy": "no"},
                       export={"adapter": True, "merge": False})
        out = os.path.join(os.path.dirname(cfg), "out")
        proc = subprocess.Popen([sys.executable, "-m", "tunelab_runner", "train", cfg], cwd=H.RUNNER_DIR,
                                env=H.runner_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        events = []
        sent = False
        deadline = time.time() + 240
        for line in proc.stdout:
            ev = H.parse_event_line(line)
            if not ev:
                continue
            events.append(ev)
            if not sent and ev["event"] == "step" and ev["step"] >= 5:
                proc.send_signal(signal.SIGTERM)
                sent = True
            if time.time() > deadline:
                proc.kill()
                break
        rc = proc.wait(timeout=120)
        self.assertTrue(sent, "no step event seen before the run ended")
        self.assertEqual(rc, 143, events[-3:])
        end = events[-1]
        self.assertEqual((end["event"], end["status"], end["signal"]), ("end", "interrupted", "SIGTERM"))
        stopped = end["step"]
        self.assertLess(stopped, 300)
        ckpt = H.of(events, "checkpoint")[-1]
        self.assertEqual(ckpt["step"], stopped)
        self.assertTrue(os.path.isdir(os.path.join(out, f"checkpoint-{stopped}")))
        self.assertFalse(H.of(events, "export"))

        rc2, ev2, log2 = H.run_runner(["train", "--resume", cfg])
        self.assertEqual(rc2, 0, log2)
        start = H.of(ev2, "start")[0]
        self.assertEqual(start["resumed_from"]["step"], stopped)
        self.assertEqual(start["global_step"], stopped)
        steps = H.of(ev2, "step")
        print(f"\nSIGTERM at step {stopped}; resumed run logged steps {steps[0]['step']}..{steps[-1]['step']}")
        self.assertEqual(steps[0]["step"], stopped + 1)
        self.assertEqual(steps[-1]["step"], 300)
        self.assertEqual(ev2[-1]["status"], "completed")
        # the events file holds both runs (resume appends)
        all_events = H.read_events(os.path.join(out, "events.jsonl"))
        self.assertEqual(len(H.of(all_events, "start")), 2)

    def test_probe_times_the_host_and_keeps_nothing(self):
        # `train --probe`: the config's own steps, timed, with its evaluation, saves and
        # export all set and none of them run, beside the run's output directory
        cfg = self.cfg("probe", data={"eval_file": os.path.join(self.fx["data"], "eval.jsonl")},
                       training={"max_steps": 100, "eval_strategy": "steps", "eval_steps": 4,
                                 "save_strategy": "steps", "save_steps": 4, "logging_steps": 1})
        rc, events, log = H.run_runner(["train", "--probe", "12", cfg])
        self.assertEqual(rc, 0, log)
        end = events[-1]
        self.assertEqual((end["event"], end["status"], end["step"]), ("end", "completed", 12), log)
        self.assertEqual(end["probe"], {"steps": 12})
        self.assertEqual(end["outputs"], {})
        self.assertGreater(end["metrics"]["steady_step_seconds"], 0)
        self.assertGreaterEqual(end["metrics"]["steady_step_intervals"], 10)
        self.assertEqual(H.of(events, "start")[0]["estimated_steps"], 12)
        # every step event from the 4th on carries the steady step so far (the pace mid-run)
        so_far = [(e["step"], e.get("steady_step_intervals")) for e in H.of(events, "step")]
        self.assertEqual(so_far[:3], [(1, None), (2, None), (3, None)], so_far)
        self.assertEqual(so_far[-1], (12, end["metrics"]["steady_step_intervals"]), so_far)
        self.assertGreater(H.of(events, "step")[-1]["steady_step_seconds"], 0)
        for kind in ("eval", "checkpoint", "export", "eval_result"):
            self.assertFalse(H.of(events, kind), kind)
        out = os.path.join(os.path.dirname(cfg), "out")
        self.assertFalse(os.path.exists(out), "the probe wrote into the run's own output_dir")
        probe_dir = out + "-pace-probe"
        self.assertEqual(H.read_events(os.path.join(probe_dir, "events.jsonl"))[-1]["probe"], {"steps": 12})
        self.assertFalse([n for n in os.listdir(probe_dir) if n.startswith("checkpoint-") or n == "adapter"])
        print(f"\nprobe: steady step {end['metrics']['steady_step_seconds'] * 1e3:.1f} ms "
              f"over {end['metrics']['steady_step_intervals']} intervals")

    def test_resume_without_checkpoint_is_an_error(self):
        cfg = self.cfg("noresume", training={"max_steps": 2})
        rc, events, log = H.run_runner(["train", "--resume", cfg])
        self.assertEqual(rc, 2, log)
        self.assertEqual(H.of(events, "error")[0]["type"], "no_checkpoint")

    # ---------------------------------------------------------------- NaN
    def test_nan_loss_stops_the_run(self):
        cfg = self.cfg("nan", training={"max_steps": 200, "learning_rate": 1e30, "logging_steps": 1,
                                        "max_grad_norm": 0.0, "lr_scheduler_type": "constant"},
                       export={"adapter": True, "merge": False})
        rc, events, log = H.run_runner(["train", cfg])
        self.assertEqual(rc, 5, log)
        err = H.of(events, "error")[0]
        self.assertEqual(err["type"], "nan_loss")
        self.assertIn("hint", err)
        last_step = max([e["step"] for e in H.of(events, "step")] or [0])
        print(f"\nNaN detected; stopped after step {last_step} of 200")
        self.assertLess(last_step, 30)
        self.assertFalse(H.of(events, "export"))

    # ---------------------------------------------------------------- QLoRA
    def test_qlora(self):
        reason = H.bitsandbytes_reason()
        cfg = self.cfg("qlora", method="qlora", training={"max_steps": 30})
        rc, events, log = H.run_runner(["train", cfg])
        if reason is not None:
            # without bitsandbytes the runner must say so, with the pip command, and a distinct exit code
            self.assertEqual(rc, 3, log)
            err = H.of(events, "error")[0]
            self.assertEqual(err["type"], "missing_package")
            self.assertIn("pip install", err["hint"])
            self.assertIn("bitsandbytes", err["hint"])
            self.skipTest(reason + " (missing_package event and exit code 3 checked)")
        self.assertEqual(rc, 0, log)
        first, last, _ = first_last_loss(events)
        self.assertLess(last, first)
        self.assertEqual({e["kind"] for e in H.of(events, "export")}, {"adapter", "merged"})

    # ---------------------------------------------------------------- DDP
    def test_ddp_two_gpus(self):
        import torch
        if torch.cuda.device_count() < 2:
            self.skipTest(f"DDP test needs 2 GPUs; this machine has {torch.cuda.device_count()}")
        cfg = self.cfg("ddp", training={"max_steps": 20})
        proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                               "-m", "tunelab_runner", "train", cfg], cwd=H.RUNNER_DIR, env=H.runner_env(),
                              capture_output=True, text=True, timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stdout[-3000:] + proc.stderr[-3000:])
        events = H.read_events(os.path.join(os.path.dirname(cfg), "out", "events.jsonl"))
        self.assertEqual(len(H.of(events, "start")), 1)  # rank 0 alone writes
        self.assertEqual(H.of(events, "start")[0]["world_size"], 2)
        self.assertEqual(events[-1]["status"], "completed")

    # ---------------------------------------------------------------- packed rows keep samples apart
    def test_packed_rows_do_not_attend_across_samples(self):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from tunelab_runner.collate import PackedCollator
        from tunelab_runner.data import Sample
        from tunelab_runner.packing import PackedDataset

        tok = AutoTokenizer.from_pretrained(self.fx["base"])
        model = AutoModelForCausalLM.from_pretrained(self.fx["base"], dtype=torch.float32,
                                                     attn_implementation="sdpa").cuda()
        model.config.use_cache = False
        texts = ["My internet is down.", "The router light is blinking red since this morning.", "Hello"]
        samples = [Sample(tok(t)["input_ids"], tok(t)["input_ids"]) for t in texts]
        ds = PackedDataset(samples, 64, tok.pad_token_id)
        self.assertEqual(len(ds), 1)
        batch = PackedCollator()([ds[0]])
        batch.pop("n_real")
        self.assertNotIn("attention_mask", batch)
        for mode in ("eval", "train"):
            getattr(model, mode)()
            with torch.no_grad():
                packed = model(input_ids=batch["input_ids"].cuda(), position_ids=batch["position_ids"].cuda()).logits[0]
                pos = 0
                for idx in ds.bins[0]:
                    ids = torch.tensor([list(samples[idx].input_ids)], device="cuda")
                    alone = model(input_ids=ids).logits[0]
                    n = ids.shape[1]
                    diff = (packed[pos:pos + n] - alone).abs().max().item()
                    self.assertLess(diff, 1e-3, f"{mode}: sample {idx} sees other samples (diff {diff})")
                    pos += n

    def test_doctor_sees_the_gpu(self):
        rc = 0
        proc = subprocess.run([sys.executable, "-m", "tunelab_runner", "doctor"], cwd=H.RUNNER_DIR,
                              env=H.runner_env(), capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, rc)
        import json
        rep = json.loads(proc.stdout)
        self.assertTrue(rep["torch"]["installed"])
        self.assertTrue(rep["torch"]["cuda_available"])
        self.assertGreaterEqual(len(rep["gpus"]), 1)
        g = rep["gpus"][0]
        print(f"\ndoctor: {g['name']} {g['memory_bytes'] / 2**30:.0f} GiB cc {g['compute_capability']} "
              f"bf16 {g['bf16']}; driver {rep['driver_version']}; lora ready {rep['methods']['lora']['ready']}")
        self.assertTrue(rep["methods"]["lora"]["ready"])


@unittest.skipIf(TRANSFORMERS_REASON is not None, TRANSFORMERS_REASON or "")
class TokenLevelMasking(unittest.TestCase):
    """Completion-only masking with a real fast tokenizer, checked token by token."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tunelab-mask-")
        rows = H.telecom_conversations(24)
        texts = [m["content"] for r in rows for m in r["messages"]] * 3
        cls.tok = H.build_tokenizer(cls.tmp, texts)
        cls.rows = rows
        H.write_jsonl(os.path.join(cls.tmp, "train.jsonl"), rows)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check(self, chat_template):
        from tunelab_runner.data import IGNORE_INDEX, build_datasets
        data = {"train_file": os.path.join(self.tmp, "train.jsonl"), "format": "messages",
                "chat_template": chat_template, "system_prompt": "You are the support assistant.",
                "max_length": 512, "completion_only_loss": True, "packing": False, "seed": 0}
        ds, _, stats = build_datasets(data, self.tok)
        self.assertEqual(len(ds), len(self.rows))
        for i, row in enumerate(self.rows):
            item = ds[i]
            ids, labels = list(item["input_ids"]), list(item["labels"])
            runs, cur = [], []
            for t, l in zip(ids, labels):
                if l != IGNORE_INDEX:
                    self.assertEqual(l, t)
                    cur.append(t)
                elif cur:
                    runs.append(cur)
                    cur = []
            if cur:
                runs.append(cur)
            got = [self.tok.decode(r) for r in runs]
            want = [m["content"] + "<|im_end|>" for m in row["messages"] if m["role"] == "assistant"]
            self.assertEqual(got, want)
            # everything else is masked: the whole text decodes back, system prompt included
            self.assertIn("You are the support assistant.", self.tok.decode(ids))
        return stats

    def test_model_template(self):
        stats = self.check("model")
        self.assertEqual(stats["train"]["dropped_no_labels"], 0)

    def test_named_template(self):
        self.check("chatml")

    def test_jinja_string_template(self):
        from tunelab_runner.templates import JINJA
        self.check(JINJA["chatml"])


if __name__ == "__main__":
    unittest.main()
