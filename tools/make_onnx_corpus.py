"""Regenerate tests/data/onnx: real models exported by other tools, stored graph-only.

Each model is built with random weights (nothing is downloaded), exported to ONNX the way
its users export it, and then stripped: floating-point initializers of more than
KEEP_ELEMENTS values lose their data (their dimensions stay), so the corpus is a few MB
and accelsim imports it graph-only (timing and energy need no weight values). Integer
tensors (shapes, indices) and small constants are kept.

Needs what the models need, only when regenerating:

    python -m venv /tmp/corpus && /tmp/corpus/bin/pip install torch==2.14.1 \\
        torchvision==0.29.1 transformers skl2onnx onnx onnxruntime scikit-learn
    /tmp/corpus/bin/python tools/make_onnx_corpus.py [NAME ...]

It rewrites tests/data/onnx/MANIFEST.json (the versions used, each model's source and
input shapes). tests/test_onnx_corpus.py imports every file.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import warnings
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "onnx"
KEEP_ELEMENTS = 64
OPSET = 17
TORCHVISION = ("resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
               "regnet_y_400mf", "squeezenet1_1", "googlenet", "shufflenet_v2_x1_0",
               "densenet121", "convnext_tiny", "vit_b_16", "swin_t")


def strip(model) -> int:
    """Drop the values of large floating-point initializers; returns how many."""
    from onnx import TensorProto
    floats = (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16)
    count = 0
    for tensor in model.graph.initializer:
        size = 1
        for d in tensor.dims:
            size *= d
        if tensor.data_type in floats and size > KEEP_ELEMENTS:
            for field in ("raw_data", "float_data", "double_data", "int32_data"):
                tensor.ClearField(field)
            count += 1
    return count


def save(model, name: str, source: str, inputs: dict) -> dict:
    import onnx
    stripped = strip(model)
    path = OUT / f"{name}.onnx"
    onnx.save(model, str(path))
    print(f"{name}: {path.stat().st_size / 1e3:,.0f} kB, {stripped} weight tensors stripped",
          flush=True)
    return {"file": path.name, "source": source, "inputs": inputs}


def torch_export(module, args: tuple, name: str, source: str, input_names, output_names,
                 **kwargs) -> dict:
    import onnx
    import torch
    path = OUT / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), args, str(path), opset_version=OPSET, dynamo=False,
                          input_names=input_names, output_names=output_names, **kwargs)
    model = onnx.load(str(path))
    shapes = {n: list(a.shape) for n, a in zip(input_names, args)}
    return save(model, name, source, shapes)


def torchvision_model(name: str, batch: int = 1) -> dict:
    import torch
    import torchvision
    kwargs = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    model = getattr(torchvision.models, name)(weights=None, **kwargs)
    stem = name if batch == 1 else f"{name}-batch{batch}"
    return torch_export(model, (torch.randn(batch, 3, 224, 224),), stem,
                        f"torchvision.models.{name}(weights=None)"
                        + (f", exported at batch {batch}" if batch > 1 else ""),
                        ["image"], ["logits"])


def keywords(model, names):
    """The model called with keyword arguments (the exporter passes positional ones, which
    Hugging Face's forward() does not take in this order), returning its first output."""
    import torch

    class Call(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *args):
            return self.model(**dict(zip(names, args)))[0]

    return Call()


def hugging_face(name: str) -> dict:
    import torch
    import transformers as tf
    tokens = 128
    ids = torch.randint(0, 1000, (1, tokens))
    mask = torch.ones(1, tokens, dtype=torch.int64)
    if name == "bert-base-uncased":
        model = keywords(tf.BertModel(tf.BertConfig(attn_implementation="eager")),
                         ["input_ids", "attention_mask"])
        return torch_export(model, (ids, mask), name, "transformers.BertModel(BertConfig())",
                            ["input_ids", "attention_mask"], ["last_hidden_state"])
    if name == "distilbert":
        model = keywords(tf.DistilBertModel(tf.DistilBertConfig(attn_implementation="eager")),
                         ["input_ids", "attention_mask"])
        return torch_export(model, (ids, mask), name,
                            "transformers.DistilBertModel(DistilBertConfig())",
                            ["input_ids", "attention_mask"], ["last_hidden_state"])
    if name == "vit-base":
        model = keywords(tf.ViTModel(tf.ViTConfig(attn_implementation="eager"),
                                     add_pooling_layer=False), ["pixel_values"])
        return torch_export(model, (torch.randn(1, 3, 224, 224),), name,
                            "transformers.ViTModel(ViTConfig())", ["pixel_values"],
                            ["last_hidden_state"])
    if name == "t5-small-encoder":
        config = tf.T5Config(d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_heads=8,
                             attn_implementation="eager")
        model = keywords(tf.T5EncoderModel(config), ["input_ids", "attention_mask"])
        return torch_export(model, (ids, mask), name,
                            "transformers.T5EncoderModel(T5Config(t5-small's sizes))",
                            ["input_ids", "attention_mask"], ["last_hidden_state"])
    if name == "gpt2":
        model = keywords(tf.GPT2Model(tf.GPT2Config(attn_implementation="eager",
                                                    use_cache=False)),
                         ["input_ids", "attention_mask"])
        return torch_export(model, (ids, mask), name, "transformers.GPT2Model(GPT2Config())",
                            ["input_ids", "attention_mask"], ["last_hidden_state"])
    if name == "gpt2-kv-cache":
        return gpt2_with_cache(tokens)
    return recent(name)


# Recent architectures at small sizes (2 layers, width 256), with the attention each library
# uses by default (PyTorch's scaled-dot-product attention, as users export them: its
# IsNaN guard and -inf masks), 64 tokens.
SMALL = {"hidden_size": 256, "num_hidden_layers": 2, "vocab_size": 1000}


def recent(name: str) -> dict:
    import torch
    import transformers as tf
    ids = torch.randint(2, 1000, (1, 64))
    mask = torch.ones(1, 64, dtype=torch.int64)
    if name == "llama-gqa":
        config = tf.LlamaConfig(intermediate_size=688, num_attention_heads=8,
                                num_key_value_heads=2, use_cache=False, **SMALL)
        return torch_export(keywords(tf.LlamaModel(config), ["input_ids", "attention_mask"]),
                            (ids, mask), name, "transformers.LlamaModel(LlamaConfig(256 "
                            "wide, 2 layers, 8 query heads over 2 key-value heads, MLP 688))",
                            ["input_ids", "attention_mask"], ["last_hidden_state"])
    if name == "roberta":
        config = tf.RobertaConfig(num_attention_heads=4, intermediate_size=1024, **SMALL)
        return torch_export(keywords(tf.RobertaModel(config), ["input_ids", "attention_mask"]),
                            (ids, mask), name, "transformers.RobertaModel(RobertaConfig(256 "
                            "wide, 2 layers))", ["input_ids", "attention_mask"],
                            ["last_hidden_state"])
    if name == "whisper-encoder":
        config = tf.WhisperConfig(d_model=256, encoder_layers=2, decoder_layers=2,
                                  encoder_attention_heads=4, decoder_attention_heads=4,
                                  encoder_ffn_dim=1024, decoder_ffn_dim=1024,
                                  num_mel_bins=80, max_source_positions=750)
        encoder = tf.WhisperModel(config).encoder
        return torch_export(keywords(encoder, ["input_features"]),
                            (torch.randn(1, 80, 1500),), name, "transformers.WhisperModel("
                            "WhisperConfig(256 wide, 2 layers)).encoder, 30 s of 80 mel bins",
                            ["input_features"], ["last_hidden_state"])
    if name == "wav2vec2":
        config = tf.Wav2Vec2Config(num_attention_heads=4, intermediate_size=1024,
                                   hidden_size=256, num_hidden_layers=2)
        return torch_export(keywords(tf.Wav2Vec2Model(config), ["input_values"]),
                            (torch.randn(1, 16000),), name, "transformers.Wav2Vec2Model("
                            "Wav2Vec2Config(256 wide, 2 layers)), 1 s at 16 kHz",
                            ["input_values"], ["last_hidden_state"])
    raise ValueError(name)


def gpt2_with_cache(past: int) -> dict:
    """One decoding step of GPT-2: a new token attends to ``past`` cached keys and values,
    which come in as inputs (12 layers x key and value) and go out extended by one."""
    import torch
    import transformers as tf
    config = tf.GPT2Config(attn_implementation="eager")
    model = tf.GPT2Model(config).eval()
    heads, dh, layers = config.n_head, config.n_embd // config.n_head, config.n_layer

    class Step(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, *kv):
            cache = tf.DynamicCache()
            for i in range(layers):
                cache.update(kv[2 * i], kv[2 * i + 1], i)
            out = self.model(input_ids=input_ids, past_key_values=cache, use_cache=True)
            new = out.past_key_values
            flat = []
            for i in range(layers):
                flat += [new.layers[i].keys, new.layers[i].values]
            return (out.last_hidden_state, *flat)

    ids = torch.randint(0, 1000, (1, 1))
    kv = tuple(torch.randn(1, heads, past, dh) for _ in range(2 * layers))
    names = [f"past_{i // 2}_{'kv'[i % 2]}" for i in range(2 * layers)]
    return torch_export(Step(), (ids, *kv), "gpt2-kv-cache",
                        f"transformers.GPT2Model(GPT2Config()), one step after {past} tokens",
                        ["input_ids", *names], ["last_hidden_state",
                                                *[f"present_{n[5:]}" for n in names]])


def lstm() -> dict:
    import torch

    class Tagger(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(64, 128, num_layers=2, batch_first=True)
            self.head = torch.nn.Linear(128, 10)

        def forward(self, x):
            return self.head(self.lstm(x)[0])

    return torch_export(Tagger(), (torch.randn(1, 20, 64),), "lstm",
                        "torch.nn.LSTM(64, 128, num_layers=2, batch_first=True) + Linear(128, 10),"
                        " 20 steps", ["sequence"], ["scores"])


def transformer_encoder() -> dict:
    import torch
    layer = torch.nn.TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=1024,
                                             batch_first=True)
    model = torch.nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
    return torch_export(model, (torch.randn(1, 64, 256),), "transformer-encoder",
                        "torch.nn.TransformerEncoder(TransformerEncoderLayer(256, 4, 1024, "
                        "batch_first=True), 2 layers), 64 tokens", ["tokens"], ["encoded"])


def sklearn_mlp() -> dict:
    import numpy as np
    from skl2onnx import to_onnx
    from sklearn.neural_network import MLPClassifier
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 32)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    clf = MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(x, y)
    model = to_onnx(clf, x[:1], options={id(clf): {"zipmap": False}},
                    target_opset={"": OPSET, "ai.onnx.ml": 3})
    return save(model, "sklearn-mlp", "sklearn MLPClassifier((64, 32)) via skl2onnx "
                "(zipmap off)", {"X": [1, 32]})


MAKERS = {**{n: (lambda n=n: torchvision_model(n)) for n in TORCHVISION},
          "resnet18-batch4": lambda: torchvision_model("resnet18", batch=4),
          **{n: (lambda n=n: hugging_face(n)) for n in ("bert-base-uncased", "distilbert",
                                                        "gpt2", "gpt2-kv-cache", "vit-base",
                                                        "t5-small-encoder", "llama-gqa",
                                                        "roberta", "whisper-encoder",
                                                        "wav2vec2")},
          "lstm": lstm, "transformer-encoder": transformer_encoder,
          "sklearn-mlp": sklearn_mlp}


def versions() -> dict:
    found = {"python": platform.python_version()}
    for module in ("torch", "torchvision", "transformers", "sklearn", "skl2onnx", "onnx"):
        try:
            found[module] = __import__(module).__version__
        except ImportError:
            pass
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"models (default: all): {', '.join(MAKERS)}")
    args = parser.parse_args()
    unknown = set(args.names) - set(MAKERS)
    if unknown:
        sys.exit(f"unknown model(s): {', '.join(sorted(unknown))}")
    OUT.mkdir(parents=True, exist_ok=True)
    manifest_path = OUT / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    models = manifest.get("models", {})
    found = versions()
    for name in args.names or MAKERS:
        try:
            models[name] = MAKERS[name]()
        except Exception as exc:          # report and go on: one exporter failing is news
            print(f"{name}: export failed: {type(exc).__name__}: {str(exc)[:300]}",
                  flush=True)
            continue
        if args.names:                    # some models again: their own versions
            models[name]["versions"] = found
    manifest = {"generated_by": "tools/make_onnx_corpus.py",
                "versions": manifest.get("versions", found) if args.names else found,
                "models": dict(sorted(models.items()))}
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
