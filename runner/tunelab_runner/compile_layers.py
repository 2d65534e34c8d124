"""`training.torch_compile`, compiled one decoder layer at a time.

Trainer's own torch_compile wraps the whole model in one graph: every layer is
traced again, the compile of a 1B model did not finish inside ten minutes on the
benchmark, and the wrapper's `_orig_mod.` prefix reaches the adapter's keys. The
runner instead compiles each layer of the model's repeated block in place
(`nn.Module.compile`, the "regional compilation" recipe of PyTorch and accelerate):
the layers share one code object and dynamo treats their parameters as inputs, so
the first layer's graph serves them all and compile time is about one layer's.
The embeddings, final norm and loss stay eager (Liger's fused loss among them).
State-dict keys, peft's adapter and checkpoints are unchanged.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional


def repeated_layers(model) -> List[Any]:
    """The layers of the largest ModuleList whose children all share one class
    (a decoder's `layers`); [] when the model has none."""
    import torch  # loaded with the model

    best: List[Any] = []
    for module in model.modules():
        if not isinstance(module, torch.nn.ModuleList):
            continue
        children = list(module.children())
        if len(children) > len(best) and len({type(child) for child in children}) == 1:
            best = children
    return best


def compile_layers(model, step: Optional[Dict[str, Any]]) -> int:
    """Compiles the repeated layers in place with the plan's compile kwargs (backend,
    mode); returns how many. `step` is the plan's `compile` step, None when off."""
    if not step:
        return 0
    layers = repeated_layers(model)
    for layer in layers:
        layer.compile(**step.get("kwargs", {}))
    return len(layers)


def uncompile_layers(model) -> int:
    """Back to eager for what follows training (generation's growing KV cache
    would recompile the layers for every new length). Returns how many."""
    count = 0
    for layer in repeated_layers(model):
        if getattr(layer, "_compiled_call_impl", None) is not None:
            layer._compiled_call_impl = None
            count += 1
    return count
