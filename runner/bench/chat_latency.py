"""Time to first token of the runner's `chat` on a Llama-3.2-1B shape (issue
15: "starts streaming within 2 s of a prompt once loaded"). The model is the
throughput benchmark's random-weight 1B (bench_data.make_model) with a LoRA
adapter of random weights (r16 all-linear, so the tuned column really runs
the adapter's matmuls); the chat is the real command over pipes, as the editor
talks to it, answering chat prompts of the benchmark data alternately with the
base and the adapter.

  python runner/bench/chat_latency.py --out DIR
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from bench_data import load_shapes, make_data, make_model  # noqa: E402


def make_adapter(model_dir: str, out: str) -> None:
    import peft
    import torch
    from transformers import AutoModelForCausalLM
    if os.path.exists(os.path.join(out, "adapter_config.json")):
        return
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16)
    lora = peft.LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM",
                           init_lora_weights=False)  # random A and B: the adapter changes the answers
    peft.get_peft_model(model, lora).save_pretrained(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/tunelab-bench")
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "inputs", "throughput-tokenizer"))
    ap.add_argument("--prompts", type=int, default=10)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--out", default=".")
    a = ap.parse_args()
    import yaml
    from transformers import AutoTokenizer
    from tests.gpu.test_chat_export import ChatProcess
    tok = AutoTokenizer.from_pretrained(a.tokenizer)
    model_dir = os.path.join(a.work, "model-1b")
    make_model(model_dir, load_shapes()["1b"], tok)
    adapter = os.path.join(a.work, "adapter-1b")
    make_adapter(model_dir, adapter)
    data = os.path.join(a.work, "chat.jsonl")
    rows = make_data(data, 3000)
    cfg_path = os.path.join(a.work, "chat-1b.finetune.yaml")
    with open(cfg_path, "w") as fh:
        yaml.safe_dump({"method": "lora", "model": {"name_or_path": model_dir, "dtype": "bfloat16"},
                        "lora": {"r": 16, "lora_alpha": 32, "target_modules": "all-linear"},
                        "data": {"train_file": data, "format": "messages", "chat_template": "model",
                                 "max_length": 2048},
                        "training": {"output_dir": os.path.join(a.work, "chat-1b-out")}}, fh)
    chat = ChatProcess([cfg_path, "--adapter", "tuned=" + adapter])
    ready = chat.next(timeout=300)
    assert ready["event"] == "ready", ready
    answers = []
    for i in range(a.prompts):
        messages = [m for m in rows[i]["messages"] if m["role"] != "assistant"][:2]
        prompt_tokens = len(tok(tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True),
                                add_special_tokens=False)["input_ids"])
        adapter_name = "tuned" if i % 2 else None
        _, done = chat.ask(f"p{i}", messages=messages, adapter=adapter_name, max_new_tokens=a.max_new_tokens,
                           temperature=0.0)
        answers.append({"column": adapter_name or "base", "prompt_tokens": prompt_tokens,
                        "first_token_seconds": done["first_token_seconds"], "tokens": done["tokens"],
                        "seconds": done["seconds"]})
        print(answers[-1], flush=True)
    chat.close()
    import torch
    # the first answer also warms the kernels up. The streamer shows text a word at a time: a random
    # model's answer can hold no visible word (first_token_seconds None), counted apart, not timed
    firsts = [x["first_token_seconds"] for x in answers[1:] if x["first_token_seconds"] is not None]
    result = {"device": torch.cuda.get_device_name(0), "load_seconds": ready.get("load_seconds"),
              "answers": answers, "answers_without_visible_text": sum(
                  x["first_token_seconds"] is None for x in answers[1:]),
              "first_token_seconds_median": statistics.median(firsts) if firsts else None,
              "first_token_seconds_max": max(firsts, default=None), "first_answer_first_token_seconds":
              answers[0]["first_token_seconds"],
              "tokens_per_second_median": statistics.median(x["tokens"] / x["seconds"] for x in answers[1:])}
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "chat-latency-1b.json"), "w") as fh:
        json.dump(result, fh, indent=2)
    print(json.dumps({k: v for k, v in result.items() if k != "answers"}, indent=2))


if __name__ == "__main__":
    main()
