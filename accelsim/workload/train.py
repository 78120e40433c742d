"""A tiny numpy trainer for small multilayer perceptrons, for accuracy studies in value mode.

Good enough for scikit-learn's 8x8 digits in about a second; not a training framework.
"""

from __future__ import annotations

import numpy as np

from accelsim.workload.graph import Workload, WorkloadBuilder
from accelsim.workload.layers import Input, Linear


def train_mlp(x: np.ndarray, y: np.ndarray, *, hidden: tuple[int, ...] = (32,),
              epochs: int = 60, learning_rate: float = 0.1, batch_size: int = 32,
              seed: int = 0, name: str = "mlp") -> Workload:
    """Train a ReLU MLP with softmax cross-entropy (SGD with momentum 0.9).

    x [samples, features], y [samples] integer classes. Returns a Workload with the trained
    weights and biases; its input is (features, 1, 1), its output the class scores.
    """
    rng = np.random.default_rng(seed)
    classes = int(y.max()) + 1
    sizes = [x.shape[1], *hidden, classes]
    weights = [rng.normal(0, np.sqrt(2 / a), size=(a, b)) for a, b in zip(sizes, sizes[1:])]
    biases = [np.zeros(b) for b in sizes[1:]]
    velocity = [np.zeros_like(p) for p in weights + biases]
    onehot = np.eye(classes)[y]
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            acts = [x[batch]]
            for i, (w, b) in enumerate(zip(weights, biases)):
                z = acts[-1] @ w + b
                acts.append(np.maximum(z, 0) if i < len(weights) - 1 else z)
            scores = acts[-1] - acts[-1].max(axis=1, keepdims=True)
            probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
            grad = (probs - onehot[batch]) / len(batch)
            grads_w, grads_b = [], []
            for i in reversed(range(len(weights))):
                grads_w.insert(0, acts[i].T @ grad)
                grads_b.insert(0, grad.sum(axis=0))
                if i:
                    grad = (grad @ weights[i].T) * (acts[i] > 0)
            for j, (param, g) in enumerate(zip(weights + biases, grads_w + grads_b)):
                velocity[j] = 0.9 * velocity[j] - learning_rate * g
                param += velocity[j]
    builder = WorkloadBuilder(name)
    builder.add(Input, "input", shape=(x.shape[1], 1, 1))
    for i, width in enumerate(sizes[1:], start=1):
        last = i == len(sizes) - 1
        builder.add(Linear, f"fc{i}", out_features=width, activation=None if last else "relu")
    workload = builder.build()
    return workload.with_weights({f"fc{i + 1}": w.T for i, w in enumerate(weights)},
                                 {f"fc{i + 1}": b for i, b in enumerate(biases)})
