"""GPU tests of `chat` and `export` on the tiny Llama (helpers.py): a LoRA run
trained here, then chat over the real protocol (base column = the model without
the adapter, token for token; the adapter changes the answer; stop; time to
first token printed), merged exports of LoRA and QLoRA with the logit
check, and a full fine-tune's checkpoint exported in another dtype. Skipped without CUDA like the other GPU tests.
Run: cd runner && python3 -m unittest tests.gpu.test_chat_export -v"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from . import helpers as H

REASON = H.cuda_reason()
QUESTION = [{"role": "user", "content": "Hello, this is Anna. My internet has been down since this morning."}]


class ChatProcess:
    """The runner's chat command over pipes, as the editor talks to it."""

    def __init__(self, args):
        self.proc = subprocess.Popen([sys.executable, "-m", "tunelab_runner", "chat", *args], cwd=H.RUNNER_DIR,
                                     env=H.runner_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.stderr: list = []
        threading.Thread(target=lambda: [self.lines.put(l) for l in self.proc.stdout], daemon=True).start()
        threading.Thread(target=lambda: [self.stderr.append(l) for l in self.proc.stderr], daemon=True).start()

    def next(self, timeout=120.0):
        try:
            return json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            raise AssertionError("no line from chat; stderr:\n" + "".join(self.stderr[-40:]))

    def send(self, obj):
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def ask(self, rid, **request):
        self.send({"id": rid, **request})
        text = ""
        while True:
            ev = self.next()
            assert ev["id"] == rid, ev
            if ev["event"] == "token":
                text += ev["text"]
            elif ev["event"] == "done":
                return text, ev
            else:
                raise AssertionError(ev)

    def close(self):
        self.proc.stdin.close()
        return self.proc.wait(timeout=60)


@unittest.skipIf(REASON is not None, REASON or "")
class ChatAndExport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tunelab-chat-")
        cls.fx = H.make_fixture(cls.tmp)
        cfg = H.write_config(os.path.join(cls.tmp, "lora", "run.finetune.yaml"), cls.fx,
                             data={"eval_file": os.path.join(cls.fx["data"], "eval.jsonl")},
                             export={"adapter": True, "merge": False})
        rc, _, log = H.run_runner(["train", cfg], timeout=600)
        assert rc == 0, log
        cls.run_dir = os.path.join(os.path.dirname(cfg), "out")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def base_reply(self, max_new_tokens):
        """What the base model answers, without peft or the runner: greedy, the same prompt."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        tok = AutoTokenizer.from_pretrained(self.fx["base"])
        model = AutoModelForCausalLM.from_pretrained(self.fx["base"], dtype=torch.bfloat16).to("cuda").eval()
        msgs = [{"role": "system", "content": "You are the support assistant of Acme Telecom."}] + QUESTION
        prompt = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        enc = tok(prompt, return_tensors="pt", add_special_tokens=False).to("cuda")
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        return tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)

    def test_chat_base_and_adapter_side_by_side_then_stop(self):
        chat = ChatProcess([self.run_dir, "--adapter", "tuned=" + os.path.join(self.run_dir, "adapter")])
        ready = chat.next(timeout=300)
        self.assertEqual((ready["event"], ready["adapters"]), ("ready", ["tuned"]))
        base, base_done = chat.ask("b", messages=QUESTION, adapter=None, max_new_tokens=40)
        tuned, tuned_done = chat.ask("t", messages=QUESTION, adapter="tuned", max_new_tokens=40)
        base_again, _ = chat.ask("b2", messages=QUESTION, adapter=None, max_new_tokens=40)
        print(f"\nchat: time to first token base {base_done['first_token_seconds']}s, tuned "
              f"{tuned_done['first_token_seconds']}s; load {ready['load_seconds']}s; "
              f"{tuned_done['tokens']} tokens in {tuned_done['seconds']}s")
        self.assertNotEqual(base, tuned, "the adapter did not change the answer")
        self.assertEqual(base, base_again, "switching the adapter on and off changed the base")
        self.assertEqual(base, self.base_reply(40), "the base column is not the model without adapter")
        self.assertLess(tuned_done["first_token_seconds"], 2.0)
        # a stop mid-answer ends it early and the session answers the next request
        chat.send({"id": "long", "prompt": "Acme", "max_new_tokens": 4000, "temperature": 1.0})
        first = chat.next()
        self.assertEqual((first["id"], first["event"]), ("long", "token"))
        chat.send({"id": "long", "event": "stop"})
        while True:
            ev = chat.next()
            if ev["event"] == "done":
                break
        self.assertTrue(ev["stopped"])
        self.assertLess(ev["tokens"], 4000)
        _, done = chat.ask("after", prompt="Acme", max_new_tokens=5)
        self.assertEqual(done["tokens"], 5)
        self.assertEqual(chat.close(), 0)

    def check_export(self, run_dir, dtype="bfloat16"):
        out = os.path.join(self.tmp, f"merged-{os.path.basename(os.path.dirname(run_dir))}")
        t0 = time.time()
        rc, events, log = H.run_runner(["export", run_dir, "--merge", "--dtype", dtype, "--out", out], timeout=600)
        self.assertEqual(rc, 0, log)
        export = H.of(events, "export")[-1]
        check = export["check"]
        print(f"\nexport {run_dir}: {time.time() - t0:.1f}s, check {json.dumps(check)}")
        self.assertTrue(check["passed"], check)
        # the check can see an adapter: its effect is far beyond the tolerance
        self.assertGreater(check["adapter_max_abs"], 4 * check["tolerance"], check)
        self.assertTrue(any(f.endswith(".safetensors") for f in export["files"]), export["files"])
        with open(os.path.join(out, "tokenizer_config.json")) as fh:
            tcfg = json.load(fh)
        # newer transformers write the template to chat_template.jinja beside the config
        self.assertTrue("chat_template" in tcfg or os.path.exists(os.path.join(out, "chat_template.jinja")))
        with open(os.path.join(out, "config.json")) as fh:
            self.assertNotIn("quantization_config", json.load(fh))  # merged into 16 bits, not 4
        return out

    def test_export_lora_merged_and_adapter_alone(self):
        self.check_export(self.run_dir)
        rc, events, log = H.run_runner(["export", self.run_dir])
        self.assertEqual(rc, 0, log)
        exp = H.of(events, "export")[-1]
        self.assertEqual(exp["kind"], "adapter")
        self.assertIn("adapter_model.safetensors", exp["files"])
        self.assertIn("tokenizer_config.json", exp["files"])

    @unittest.skipIf(H.bitsandbytes_reason() is not None, H.bitsandbytes_reason() or "")
    def test_export_qlora_merged_into_16_bits(self):
        cfg = H.write_config(os.path.join(self.tmp, "qlora", "run.finetune.yaml"), self.fx, method="qlora",
                             data={"eval_file": os.path.join(self.fx["data"], "eval.jsonl")},
                             export={"adapter": True, "merge": False})
        rc, _, log = H.run_runner(["train", cfg], timeout=600)
        self.assertEqual(rc, 0, log)
        self.check_export(os.path.join(os.path.dirname(cfg), "out"))

    def test_export_full_fine_tune_in_another_dtype(self):
        cfg = H.write_config(os.path.join(self.tmp, "full", "run.finetune.yaml"), self.fx, method="full",
                             training={"learning_rate": 1e-4, "max_steps": 10, "save_strategy": "steps",
                                       "save_steps": 5})
        rc, _, log = H.run_runner(["train", cfg], timeout=600)
        self.assertEqual(rc, 0, log)
        run_dir = os.path.join(os.path.dirname(cfg), "out")
        rc, events, log = H.run_runner(["export", run_dir, "--checkpoint", "5", "--dtype", "float32"], timeout=600)
        self.assertEqual(rc, 0, log)
        export = H.of(events, "export")[-1]
        print(f"\nexport full checkpoint-5 as float32: check {json.dumps(export['check'])}")
        self.assertEqual((export["kind"], export["dtype"]), ("model", "float32"))
        self.assertTrue(export["check"]["passed"], export["check"])
        self.assertIsNone(export["check"]["adapter_max_abs"])
        self.assertEqual(export["path"], os.path.join(run_dir, "export-float32-checkpoint-5"))
        with open(os.path.join(export["path"], "config.json")) as fh:
            self.assertEqual(json.load(fh).get("dtype", "float32"), "float32")
        self.assertTrue(any(f.endswith(".safetensors") for f in export["files"]), export["files"])


if __name__ == "__main__":
    unittest.main()
