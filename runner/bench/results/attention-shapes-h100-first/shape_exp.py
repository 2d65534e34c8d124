"""Where does a padded batch of new shape spend its time? One variant per process."""
import json, os, sys, time, random
import torch
variant = sys.argv[1]
from transformers import LlamaConfig, LlamaForCausalLM
from peft import LoraConfig, get_peft_model
if variant == "nocudnn":
    torch.backends.cuda.enable_cudnn_sdp(False)
if variant == "mathonly_off_eff":
    torch.backends.cuda.enable_mem_efficient_sdp(False)
cfg = LlamaConfig(vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                  num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=4096,
                  attn_implementation="sdpa", tie_word_embeddings=True)
torch.manual_seed(0)
model = LlamaForCausalLM(cfg).to(device="cuda", dtype=torch.bfloat16)
model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear", task_type="CAUSAL_LM"))
model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
model.enable_input_require_grads()
model.train()
rng = random.Random(1)
mult = 64 if variant == "pad64" else 1
def batch(longest):
    lens = [longest] + [rng.randint(100, longest) for _ in range(3)]
    L = -(-longest // mult) * mult
    if variant == "nomask":
        lens = [L] * 4
    ids = torch.randint(0, 128256, (4, L))
    mask = torch.zeros(4, L, dtype=torch.long)
    for i, n in enumerate(lens): mask[i, :n] = 1
    labels = ids.masked_fill(mask == 0, -100)
    d = {"input_ids": ids.cuda(), "labels": labels.cuda()}
    if variant != "nomask": d["attention_mask"] = mask.cuda()
    return d
def step(longest):
    b = batch(longest)
    torch.cuda.synchronize(); t = time.perf_counter()
    out = model(**b); out.loss.backward()
    torch.cuda.synchronize()
    return time.perf_counter() - t
for L in (300, 301, 302): step(L)  # warm
new = [rng.randint(250, 600) for _ in range(24)]
t_new = [step(L) for L in new]
t_rep = [step(L) for L in new[:12]]
res = {"variant": variant, "cudnn_sdp": torch.backends.cuda.cudnn_sdp_enabled(), "cudnn": torch.backends.cudnn.version(),
       "new_ms": [round(x*1e3) for x in t_new], "repeat_ms": [round(x*1e3) for x in t_rep],
       "new_median_ms": round(sorted(t_new)[12]*1e3), "repeat_median_ms": round(sorted(t_rep)[6]*1e3),
       "distinct_padded": len({-(-L // mult) * mult for L in new})}
if variant == "default":
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        step(777)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=18), file=sys.stderr)
    ks = sorted({e.name for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA and ("attn" in e.name.lower() or "cudnn" in e.name.lower() or "fmha" in e.name.lower() or "sdpa" in e.name.lower() or "flash" in e.name.lower())})
    print("ATTN KERNELS", ks[:10], file=sys.stderr)
print(json.dumps(res))
