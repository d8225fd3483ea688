"""Train a small Brevitas CNN on the 8x8 digits and export it to QONNX (run offline).

    python models/train_brevitas_cnn.py     # rewrites models/data/brevitas_digits_cnn.onnx

Needs torch, brevitas and scikit-learn (none of which neurogate needs).  The 8x8
handwritten-digits set bundled with scikit-learn (1797 images, grey levels 0..16) is split
80/20 with the same fixed seed as ``models/train_digits.py``, so the held-out 20% is
``models/data/digits_test.json`` (there as int8 Q0.7 integers, ``pixel / 16 * 128``
clipped to 127; here the network sees ``pixel / 16`` and quantizes it itself).

Every quantizer has a power-of-two scale, so the QONNX graph maps onto shifts exactly:

* input ``QuantIdentity``: uint8 activation, power-of-two scale (``Uint8ActPerTensorFixedPoint``);
* ``QuantConv2d`` 1->8 and 8->16 (3x3, pad 1) and ``QuantLinear`` 64->10: int8 narrow-range
  weights, one power-of-two scale per tensor (``Int8WeightPerTensorFixedPoint``), int32
  biases in the accumulator's scale (``Int32Bias``);
* ``QuantReLU`` after each convolution: uint8, power-of-two scale;
* 2x2 max pooling after each ReLU; the logits are the last layer's accumulator.

Prints the float and the quantized (Brevitas) top-1 accuracy on the held-out set.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

SEED = 2024          # the split of models/train_digits.py
EPOCHS = 60


def build_network():
    import brevitas.nn as qnn
    import torch
    from brevitas.quant import (
        Int8WeightPerTensorFixedPoint,
        Int32Bias,
        Uint8ActPerTensorFixedPoint,
    )

    def conv(cin, cout):
        return qnn.QuantConv2d(cin, cout, 3, padding=1, bias=True,
                               weight_quant=Int8WeightPerTensorFixedPoint,
                               bias_quant=Int32Bias, return_quant_tensor=True)

    def relu():
        return qnn.QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, return_quant_tensor=True)

    class DigitsCnn(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.quant_in = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFixedPoint,
                                              return_quant_tensor=True)
            self.conv1, self.relu1 = conv(1, 8), relu()
            self.conv2, self.relu2 = conv(8, 16), relu()
            self.pool = torch.nn.MaxPool2d(2)
            self.fc = qnn.QuantLinear(64, 10, bias=True,
                                      weight_quant=Int8WeightPerTensorFixedPoint,
                                      bias_quant=Int32Bias, return_quant_tensor=False)

        def forward(self, x):
            x = self.quant_in(x)
            x = self.pool(self.relu1(self.conv1(x)))
            x = self.pool(self.relu2(self.conv2(x)))
            return self.fc(x.flatten(1))

    return DigitsCnn()


def load_split():
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(SEED).permutation(len(digits.target))
    split = int(0.8 * len(order))
    images = (digits.data / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    return (images[order[:split]], digits.target[order[:split]],
            images[order[split:]], digits.target[order[split:]])


def train(model, x, y):
    import torch

    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y).long()
    model.train()
    for epoch in range(EPOCHS):
        for batch in torch.randperm(len(xs)).split(64):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xs[batch]), ys[batch])
            loss.backward()
            optimizer.step()
    model.eval()


def accuracy(model, x, y) -> float:
    import torch

    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def main(out: Path) -> None:
    import torch
    from brevitas.export import export_qonnx

    torch.manual_seed(0)
    x_train, y_train, x_test, y_test = load_split()
    model = build_network()
    train(model, x_train, y_train)
    print(f"Brevitas (fake-quantized) top-1 on the held-out {len(y_test)} digits: "
          f"{accuracy(model, x_test, y_test):.4f}")
    export_qonnx(model, torch.from_numpy(x_test[:1]), export_path=str(out), dynamo=False)
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1
         else Path(__file__).parent / "data" / "brevitas_digits_cnn.onnx")
