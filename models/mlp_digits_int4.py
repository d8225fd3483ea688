"""Digits MLP 64-36-20-10 with int4 weights, int8 activations, int32 accumulation."""

from neurogate.models.digits import build_digits_mlp


def build_model():
    return build_digits_mlp(weight_bits=4)
