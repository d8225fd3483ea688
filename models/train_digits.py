"""Train and quantize the digits MLPs shipped in models/data/ (run offline; needs scikit-learn).

    python models/train_digits.py          # rewrites models/data/digits_*.json

The 8x8 handwritten-digits set bundled with scikit-learn (1797 images, 0..16 grey
levels) is split 80/20 with a fixed seed.  A 64-36-20-10 ReLU MLP is trained in NumPy
with quantization-aware training: weights are fake-quantized to ``bits`` with a
power-of-two scale per layer (straight-through gradients), activations to int8 with
power-of-two scales calibrated on the training set.  The result is written as integers
plus the fractional-bit counts the model files turn into IR formats.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HIDDEN = (36, 20)
INPUT_FRAC = 7          # pixel/16 in Q0.7, clipped to 127


def quantize_input(pixels: np.ndarray) -> np.ndarray:
    return np.minimum(np.round(pixels / 16.0 * (1 << INPUT_FRAC)), 127).astype(np.int64)


def weight_frac(w: np.ndarray, bits: int) -> int:
    limit = (1 << (bits - 1)) - 1
    return int(np.floor(np.log2(limit / np.abs(w).max())))


def fake_quant(w: np.ndarray, bits: int) -> np.ndarray:
    f = weight_frac(w, bits)
    limit = (1 << (bits - 1)) - 1
    return np.clip(np.round(w * 2.0 ** f), -limit - 1, limit) / 2.0 ** f


def train(x, y, bits: int, seed: int = 0, epochs: int = 300):
    rng = np.random.default_rng(seed)
    sizes = (x.shape[1], *HIDDEN, 10)
    ws = [rng.normal(0, np.sqrt(2 / a), (b, a)) for a, b in zip(sizes, sizes[1:])]
    bs = [np.zeros(b) for b in sizes[1:]]
    onehot = np.eye(10)[y]
    lr = 0.05
    for epoch in range(epochs):
        qat = epoch >= epochs // 3
        for batch in np.array_split(rng.permutation(len(x)), len(x) // 64):
            acts = [x[batch]]
            qws = [fake_quant(w, bits) if qat else w for w in ws]
            for i, (w, b) in enumerate(zip(qws, bs)):
                z = acts[-1] @ w.T + b
                acts.append(np.maximum(z, 0) if i < len(ws) - 1 else z)
            p = np.exp(acts[-1] - acts[-1].max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            grad = (p - onehot[batch]) / len(batch)
            for i in reversed(range(len(ws))):
                gw, gb = grad.T @ acts[i], grad.sum(0)
                if i:
                    grad = (grad @ qws[i]) * (acts[i] > 0)
                ws[i] -= lr * gw
                bs[i] -= lr * gb
    return ws, bs


def integerize(ws, bs, x_int, bits: int) -> dict:
    """Integer weights/biases and per-layer shifts, activation scales calibrated on x_int."""
    layers, act, frac_in = [], x_int.astype(np.float64), INPUT_FRAC
    for i, (w, b) in enumerate(zip(ws, bs)):
        fw = weight_frac(w, bits)
        limit = (1 << (bits - 1)) - 1
        w_int = np.clip(np.round(w * 2.0 ** fw), -limit - 1, limit).astype(np.int64)
        frac_acc = frac_in + fw
        b_int = np.round(b * 2.0 ** frac_acc).astype(np.int64)
        acc = act @ w_int.T + b_int
        last = i == len(ws) - 1
        peak = np.abs(acc).max() if last else np.maximum(acc, 0).max()
        frac_out = frac_acc - int(np.ceil(np.log2(peak / 127.0)))
        shift = max(0, frac_acc - frac_out)
        frac_out = frac_acc - shift
        out = np.floor((acc + (1 << (shift - 1) if shift else 0)) / 2.0 ** shift)
        out = np.clip(out, 0 if not last else -128, 127)
        layers.append({"weights": w_int.tolist(), "bias": b_int.tolist(), "weight_frac": fw,
                       "shift": shift, "relu": not last})
        act, frac_in = out, frac_out
    return {"input_frac": INPUT_FRAC, "weight_bits": bits, "layers": layers}


def main(out_dir: Path) -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(2024).permutation(len(digits.target))
    split = int(0.8 * len(order))
    train_idx, test_idx = order[:split], order[split:]
    x_int = quantize_input(digits.data)
    x = x_int / float(1 << INPUT_FRAC)
    for bits in (8, 4):
        ws, bs = train(x[train_idx], digits.target[train_idx], bits)
        model = integerize(ws, bs, x_int[train_idx], bits)
        text = json.dumps(model, sort_keys=True) + "\n"
        (out_dir / f"digits_mlp_int{bits}.json").write_text(text)
    test = {"inputs": x_int[test_idx].tolist(), "labels": digits.target[test_idx].tolist()}
    (out_dir / "digits_test.json").write_text(json.dumps(test, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "data")
