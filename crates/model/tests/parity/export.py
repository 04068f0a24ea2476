#!/usr/bin/env python3
"""Writes the PyTorch reference output that crates/model/tests/model/parity.rs compares against.

The network is the authors' Efficient-UNetV2 of shared/tools/anchor_torch.py (imported, not
copied). Its weights and input are not drawn from torch's RNG but from `det_uniform` below, a
counter-based generator that the Rust test re-implements bit for bit, so the 4 MB of weights need
not be committed: only the 64 KB output is.

Each tensor is named by its path in the burn `UNet` record (e.g.
`encoder.stages.2.blocks.0.squeeze_excite.reduce.weight`) with PyTorch's leaf names (weight and
bias, also for batch norms) and drawn in PyTorch's layout (a Linear weight is [out, in]).

Usage: export.py [--anchor PATH] [--out DIR]   (writes DIR/anchor_output.f32 and DIR/anchor_output.json)
"""
import argparse, importlib.util, json, math, os, sys

import numpy as np
import torch
from torch import nn

MASK = (1 << 64) - 1
HERE = os.path.dirname(os.path.abspath(__file__))


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) & MASK
    return h


def det_uniform(name, count):
    """`count` float32 values in [-1, 1): splitmix64(fnv1a64(name) + k), top 24 bits."""
    with np.errstate(over="ignore"):
        z = np.uint64(fnv1a64(name)) + np.arange(count, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -23)) - np.float32(1.0)


def det_tensor(name, shape, is_norm):
    """The deterministic value of one tensor (PyTorch layout), scaled like an initialisation."""
    u = det_uniform(name, int(np.prod(shape))).reshape(shape)
    leaf = name.rsplit(".", 1)[1]
    if is_norm:
        offset, scale = {"weight": (1.0, 0.25), "bias": (0.0, 0.1),
                         "running_mean": (0.0, 0.1), "running_var": (1.25, 0.25)}[leaf]
        return np.float32(offset) + np.float32(scale) * u
    if leaf == "weight":
        return np.float32(math.sqrt(3.0 / int(np.prod(shape[1:])))) * u
    return np.float32(0.1) * u


def burn_names(net):
    """Maps each PyTorch state-dict key of `net` to its burn record path (PyTorch leaf names)."""
    names = {"stem.weight": "stem.weight", "head.weight": "head.weight"}
    for side, stages, links, link_name, conv_index in (
            ("encoder", net.enc, net.down, "downs", 1), ("decoder", net.dec, net.up, "ups", 0)):
        for i, link in enumerate(links):
            for leaf in ("weight", "bias"):
                names[f"{'down' if side == 'encoder' else 'up'}.{i}.{conv_index}.{leaf}"] = \
                    f"{side}.{link_name}.{i}.conv.{leaf}"
        for i, stage in enumerate(stages):
            for j, block in enumerate(stage):
                convs = sum(isinstance(m, nn.Conv2d) for m in block.body)
                roles = iter(["expand", "depthwise", "project"] if convs == 3 else ["expand", "project"])
                role = None
                for k, layer in enumerate(block.body):
                    prefix, target = f"{'enc' if side == 'encoder' else 'dec'}.{i}.{j}.body.{k}", \
                        f"{side}.stages.{i}.blocks.{j}"
                    if isinstance(layer, nn.Conv2d):
                        role = next(roles)
                        names[f"{prefix}.weight"] = f"{target}.{role}.conv.weight"
                    elif isinstance(layer, nn.BatchNorm2d):
                        for leaf in ("weight", "bias", "running_mean", "running_var"):
                            names[f"{prefix}.{leaf}"] = f"{target}.{role}.bn.{leaf}"
                    elif not isinstance(layer, nn.SiLU):  # squeeze-excitation
                        for fc, part in ((0, "reduce"), (2, "expand")):
                            for leaf in ("weight", "bias"):
                                names[f"{prefix}.fc.{fc}.{leaf}"] = f"{target}.squeeze_excite.{part}.{leaf}"
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anchor", default=os.path.join(HERE, "../../../../../shared/tools/anchor_torch.py"))
    ap.add_argument("--out", default=HERE)
    a = ap.parse_args()
    spec = importlib.util.spec_from_file_location("anchor_torch", a.anchor)
    anchor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(anchor)

    net = anchor.EfficientUNetV2().eval()
    names = burn_names(net)
    norm_keys = {f"{n}.{leaf}" for n, m in net.named_modules() if isinstance(m, nn.BatchNorm2d)
                 for leaf in ("weight", "bias", "running_mean", "running_var")}
    state = {}
    for key, value in net.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue
        state[key] = torch.from_numpy(det_tensor(names[key], tuple(value.shape), key in norm_keys))
    net.load_state_dict(state, strict=False)
    assert len(state) == len(names), "every tensor has a burn name"

    x = torch.from_numpy(det_uniform("input", 4 * 128 * 128).reshape(1, 4, 128, 128))
    with torch.inference_mode():
        y = net(x).numpy().astype("<f4")
    y.tofile(os.path.join(a.out, "anchor_output.f32"))
    meta = {"torch": torch.__version__, "params": sum(p.numel() for p in net.parameters()),
            "tensors": len(state), "input": "det_uniform('input', 65536) as [1, 4, 128, 128]",
            "output_shape": list(y.shape), "output_mean": float(y.mean()), "output_std": float(y.std()),
            "output_min": float(y.min()), "output_max": float(y.max())}
    with open(os.path.join(a.out, "anchor_output.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(json.dumps(meta))


if __name__ == "__main__":
    sys.exit(main())
