"""The table of activation functions: digital cost per element, numpy form, ONNX operator.

Planning, value mode and the ONNX importer read it (through accelsim.workload.ops)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from accelsim.energy.table import Action
from accelsim.errors import AccelsimError

_ROOT_2_PI = math.sqrt(2.0 / math.pi)
# SELU's constants, ONNX's defaults (Klambauer et al., "Self-Normalizing Neural Networks", 2017)
SELU_ALPHA = 1.67326319217681884765625
SELU_GAMMA = 1.05070102214813232421875


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.5e-7 (Abramowitz and Stegun 1964, formula 7.1.26), vectorized."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                          + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def grouped(x: np.ndarray, groups: int) -> np.ndarray:
    """[batch, C, H, W] viewed as [batch, groups, C / groups, H, W]."""
    return x.reshape(x.shape[0], groups, -1, *x.shape[2:])


def softmax(x: np.ndarray, groups: int) -> np.ndarray:
    """Softmax over the channels of each position, within each of ``groups`` groups."""
    parts = grouped(x, groups)
    e = np.exp(parts - parts.max(axis=2, keepdims=True))
    return (e / e.sum(axis=2, keepdims=True)).reshape(x.shape)


@dataclass(frozen=True)
class ActivationFunction:
    """An activation: digital operations per element (relu is one compare; the smooth ones
    are taken as piecewise-linear approximations, 2 multiplies and 2 adds: assumed), its
    numpy form, and the ONNX operator it comes from."""

    ops: dict[Action, int]
    function: Callable[[np.ndarray], np.ndarray]
    onnx: str | None


ACTIVATION_FUNCTIONS: dict[str, ActivationFunction] = {
    "relu": ActivationFunction({Action.DIGITAL_COMPARE: 1}, lambda x: np.maximum(x, 0.0),
                               "Relu"),
    "relu6": ActivationFunction({Action.DIGITAL_COMPARE: 2}, lambda x: np.clip(x, 0.0, 6.0),
                                None),
    "hardswish": ActivationFunction(
        {Action.DIGITAL_COMPARE: 2, Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 1},
        lambda x: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0, "HardSwish"),
    # PyTorch's: relu6(x + 3) / 6 (ONNX HardSigmoid with alpha 1/6, beta 1/2)
    "hardsigmoid": ActivationFunction(
        {Action.DIGITAL_COMPARE: 2, Action.DIGITAL_MUL: 1, Action.DIGITAL_ADD: 1},
        lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0), None),
    # x, or slope * x below zero (an Activation layer's ``slope``; 0.01 when fused)
    "leaky_relu": ActivationFunction({Action.DIGITAL_COMPARE: 1, Action.DIGITAL_MUL: 1},
                                     lambda x: np.where(x >= 0, x, 0.01 * x), None),
    "sigmoid": ActivationFunction({Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2},
                                  lambda x: 1.0 / (1.0 + np.exp(-x)), "Sigmoid"),
    # x * sigmoid(x) (SiLU, swish: EfficientNet, YOLO, SwiGLU): the sigmoid and a multiply;
    # ONNX's Swish (opset 24) with alpha 1
    "silu": ActivationFunction({Action.DIGITAL_MUL: 3, Action.DIGITAL_ADD: 2},
                               lambda x: x / (1.0 + np.exp(-x)), "Swish"),
    "tanh": ActivationFunction({Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2}, np.tanh, "Tanh"),
    # the exact form (PyTorch's and ONNX's default)
    "gelu": ActivationFunction({Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2},
                               lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))), "Gelu"),
    # the tanh approximation (GPT-2's; ONNX Gelu with approximate="tanh")
    "gelu_tanh": ActivationFunction(
        {Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2},
        lambda x: 0.5 * x * (1.0 + np.tanh(_ROOT_2_PI * (x + 0.044715 * x ** 3))), None),
    "erf": ActivationFunction({Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2}, _erf, "Erf"),
    # Unary maths and logic as exporters spell them out (RMS norms, masks): a square root,
    # reciprocal, exp or log as a lookup plus a Newton step or polynomial (assumed, as the
    # smooth activations above); sign, magnitude, logic and casts one operation.
    "sqrt": ActivationFunction({Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2},
                               lambda x: np.sqrt(np.maximum(x, 0.0)), "Sqrt"),
    "reciprocal": ActivationFunction({Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2},
                                     lambda x: 1.0 / x, "Reciprocal"),
    "exp": ActivationFunction({Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2}, np.exp, "Exp"),
    "log": ActivationFunction({Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2},
                              lambda x: np.log(np.maximum(x, 1e-300)), "Log"),
    "neg": ActivationFunction({Action.DIGITAL_ADD: 1}, np.negative, "Neg"),
    "square": ActivationFunction({Action.DIGITAL_MUL: 1}, np.square, None),
    "abs": ActivationFunction({Action.DIGITAL_COMPARE: 1}, np.abs, "Abs"),
    "not": ActivationFunction({Action.DIGITAL_COMPARE: 1},
                              lambda x: (x == 0).astype(np.float64), "Not"),
    "to_bool": ActivationFunction({Action.DIGITAL_COMPARE: 1},
                                  lambda x: (x != 0).astype(np.float64), None),
    "to_int": ActivationFunction({Action.DIGITAL_ADD: 1}, np.trunc, None),
    # ELU and SELU with ONNX's default constants (alpha 1; SELU's alpha and gamma of
    # Klambauer et al. 2017): exp(x) - 1 below zero (the exp as above, an add), SELU's scale
    "elu": ActivationFunction({Action.DIGITAL_COMPARE: 1, Action.DIGITAL_MUL: 2,
                               Action.DIGITAL_ADD: 3},
                              lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))), "Elu"),
    "selu": ActivationFunction({Action.DIGITAL_COMPARE: 1, Action.DIGITAL_MUL: 4,
                                Action.DIGITAL_ADD: 3},
                               lambda x: SELU_GAMMA * np.where(
                                   x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
                               "Selu"),
    "softplus": ActivationFunction({Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2},
                                   lambda x: np.logaddexp(0.0, x), "Softplus"),
    # x / (1 + |x|): a magnitude, an add and a reciprocal-multiply
    "softsign": ActivationFunction({Action.DIGITAL_COMPARE: 1, Action.DIGITAL_MUL: 2,
                                    Action.DIGITAL_ADD: 1},
                                   lambda x: x / (1.0 + np.abs(x)), "Softsign"),
    # x tanh(softplus(x)) (YOLOv4): the two smooth functions and a multiply
    "mish": ActivationFunction({Action.DIGITAL_MUL: 5, Action.DIGITAL_ADD: 4},
                               lambda x: x * np.tanh(np.logaddexp(0.0, x)), "Mish"),
    "sin": ActivationFunction({Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2}, np.sin, "Sin"),
    "cos": ActivationFunction({Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2}, np.cos, "Cos"),
    "sign": ActivationFunction({Action.DIGITAL_COMPARE: 2}, np.sign, "Sign"),
    "floor": ActivationFunction({Action.DIGITAL_ADD: 1}, np.floor, "Floor"),
    "ceil": ActivationFunction({Action.DIGITAL_ADD: 1}, np.ceil, "Ceil"),
    # halves to even, as ONNX's Round and numpy's
    "round": ActivationFunction({Action.DIGITAL_ADD: 1}, np.round, "Round"),
    # tests of a value (PyTorch's attention zeroes the softmax of a fully masked row with
    # Where(IsNaN(p), 0, p)): one compare; IsInf with ONNX's defaults (either sign)
    "isnan": ActivationFunction({Action.DIGITAL_COMPARE: 1},
                                lambda x: np.isnan(x).astype(np.float64), "IsNaN"),
    "isinf": ActivationFunction({Action.DIGITAL_COMPARE: 1},
                                lambda x: np.isinf(x).astype(np.float64), "IsInf"),
    # max (1 compare), exp (2 multiplies, 2 adds), sum (1 add), normalize (1 multiply)
    "softmax": ActivationFunction(
        {Action.DIGITAL_COMPARE: 1, Action.DIGITAL_MUL: 3, Action.DIGITAL_ADD: 3},
        lambda x: softmax(x, 1), None),
}
# ONNX operator -> activation name
ONNX_ACTIVATIONS = {a.onnx: name for name, a in ACTIVATION_FUNCTIONS.items() if a.onnx}


def activation_counts(counts: np.ndarray, function: str | None, elements: float) -> None:
    """Add ``elements`` applications of the activation ``function`` to ``counts``."""
    if function:
        for action, per_element in ACTIVATION_FUNCTIONS[function].ops.items():
            counts[action] += per_element * elements


def activate(x: np.ndarray, function: str | None) -> np.ndarray:
    if function is None:
        return x
    if function not in ACTIVATION_FUNCTIONS:
        raise AccelsimError(f"unknown activation {function!r}")
    return ACTIVATION_FUNCTIONS[function].function(x)
