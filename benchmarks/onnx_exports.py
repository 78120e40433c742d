"""Import real exports and hold them to onnxruntime: the twenty-seventh session's timm,
torchvision and older-exporter tables in RESULTS.md.

Two steps, in two environments:

1. ``export`` writes ONNX files with random weights. It needs torch, torchvision and timm,
   which accelsim does not depend on: run it with a Python that has them.

       python benchmarks/onnx_exports.py export --out DIR [--batch 2] [--legacy]
           [--dynamic] [--torchvision] NAME ...
       python benchmarks/onnx_exports.py export --out DIR --set timm

   ``--set`` exports one of the sets in RESULTS.md with its options (SETS below: timm,
   timm-batch2, legacy, legacy-batch2, legacy-dynamic, torchvision-batch2).

   ``--legacy`` uses PyTorch's TorchScript exporter (``dynamo=False``, opset 17) instead
   of the dynamo exporter (opset 18); ``--dynamic`` marks the batch axis symbolic.

2. ``check`` imports each file with accelsim, runs accelsim's float reference and
   onnxruntime on the same random input, compares every graph output (max |difference| /
   max |output|), and simulates on cim-16x16. Run it with accelsim and onnxruntime installed.

       python benchmarks/onnx_exports.py check DIR/*.onnx

   One line per file: OK (every output within 1e-3), WRONG, REFUSED (accelsim's one-line
   reason), CRASH (a traceback: a bug), or UNDERFLOW: an output whose values all lie below
   float32's normal range (random weights that shrink it layer by layer) cannot be compared,
   and the others matched. A count follows.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

TOLERANCE = 1e-3

# The sets of the twenty-seventh session's tables (export --set NAME; options as noted).
SETS = {
    "timm": """
    convnext_atto mobilenetv4_conv_small convnextv2_atto efficientnet_b0
    tf_efficientnetv2_b0 mobilenetv3_small_050 ghostnet_100 ghostnetv2_100 regnetx_002
    regnety_002 rexnet_100 hrnet_w18_small dla34 resnest14d skresnet18
    ese_vovnet19b_slim_dw tinynet_a lcnet_050 fbnetv3_b mixnet_s gernet_s repvgg_a0
    mobileone_s0 fastvit_t8 efficientformer_l1 efficientformerv2_s0 levit_128s
    mobilevit_xxs mobilevitv2_050 edgenext_xx_small poolformer_s12 poolformerv2_s12
    deit_tiny_patch16_224 cait_xxs24_224 xcit_nano_12_p16_224 pvt_v2_b0 coat_lite_tiny
    crossvit_tiny_240 pit_ti_224 resmlp_12_224 gmlp_ti16_224 nest_tiny sequencer2d_s
    coatnet_nano_rw_224 maxvit_nano_rw_256 hgnetv2_b0 nf_resnet26 botnet26t_256
    lambda_resnet26t halonet26t selecsls42b tresnet_m visformer_tiny
    eva02_tiny_patch14_224 vit_small_patch16_rope_224 tiny_vit_5m_224 efficientvit_b0
    efficientvit_m0 rdnet_tiny starnet_s1 inception_next_tiny repghostnet_050
    mambaout_femto resnetv2_50x1_bit cspresnet50 cspdarknet53 dla60x res2net50_26w_4s
    resnext26ts sebotnet33ts_256 gcresnet33ts seresnext26d_32x4d efficientnet_lite0
    mnasnet_100 spnasnet_100 dpn48b legacy_xception inception_v4 convit_tiny
    tnt_s_patch16_224 twins_pcpvt_small twins_svt_small swin_tiny_patch4_window7_224
    swinv2_cr_tiny_ns_224 focalnet_tiny_srf davit_tiny caformer_s18 convformer_s18
    volo_d1_224 vit_relpos_small_patch16_224 deit3_small_patch16_224 flexivit_small
    hiera_tiny_224 fastvit_sa12 hardcorenas_a mobilenetv3_large_100 regnetz_b16
    resnet50d resnetrs50 resnetblur18 rexnetr_100 gc_efficientnetv2_rw_t levit_conv_128s
    coat_tiny gcvit_xxtiny nextvit_small repvit_m0_9 mobilenetv4_hybrid_medium test_vit
    test_efficientnet test_byobnet pit_s_distilled_224 vit_small_patch16_224
    """.split(),
    "timm-batch2": """
    convnext_atto swin_tiny_patch4_window7_224 vit_small_patch16_224 mobilevit_xxs
    levit_128s maxvit_nano_rw_256 coatnet_nano_rw_224 efficientformerv2_s0 davit_tiny
    focalnet_tiny_srf efficientnet_b0 sequencer2d_s volo_d1_224 ghostnetv2_100
    halonet26t lambda_resnet26t
    """.split(),
    "legacy": """
    vit_small_patch16_224 convnext_atto mobilenetv4_conv_small efficientnet_b0
    ghostnetv2_100 regnety_002 hrnet_w18_small dla34 resnest14d skresnet18 mixnet_s
    repvgg_a0 mobileone_s0 fastvit_t8 efficientformerv2_s0 levit_128s mobilevit_xxs
    mobilevitv2_050 edgenext_xx_small poolformerv2_s12 deit_tiny_patch16_224
    cait_xxs24_224 xcit_nano_12_p16_224 pvt_v2_b0 coat_lite_tiny crossvit_tiny_240
    pit_ti_224 resmlp_12_224 gmlp_ti16_224 sequencer2d_s coatnet_nano_rw_224
    maxvit_nano_rw_256 halonet26t botnet26t_256 lambda_resnet26t tresnet_m volo_d1_224
    swin_tiny_patch4_window7_224 eva02_tiny_patch14_224 tiny_vit_5m_224 efficientvit_b0
    inception_next_tiny nextvit_small davit_tiny focalnet_tiny_srf convit_tiny
    """.split(),
    "legacy-batch2": """
    vit_small_patch16_224 swin_tiny_patch4_window7_224 deit_tiny_patch16_224
    mobilevit_xxs levit_128s maxvit_nano_rw_256 coatnet_nano_rw_224 efficientformerv2_s0
    davit_tiny convnext_atto efficientnet_b0 ghostnetv2_100 pvt_v2_b0
    xcit_nano_12_p16_224 cait_xxs24_224 tiny_vit_5m_224 crossvit_tiny_240
    """.split(),
    "legacy-dynamic": """
    vit_small_patch16_224 swin_tiny_patch4_window7_224 convnext_atto efficientnet_b0
    mobilevit_xxs levit_128s maxvit_nano_rw_256 coatnet_nano_rw_224 davit_tiny
    ghostnetv2_100 cait_xxs24_224 xcit_nano_12_p16_224 pvt_v2_b0 crossvit_tiny_240
    sequencer2d_s halonet26t tresnet_m nextvit_small
    """.split(),
    "torchvision-batch2": """
    vit_b_16 swin_t maxvit_t convnext_tiny efficientnet_b0 regnet_y_400mf
    shufflenet_v2_x1_0 googlenet inception_v3 mobilenet_v3_small squeezenet1_1
    densenet121 mnasnet0_5 resnext50_32x4d efficientnet_v2_s
    """.split(),
}
OPTIONS = {"timm-batch2": {"batch": 2}, "legacy": {"legacy": True},
           "legacy-batch2": {"legacy": True, "batch": 2},
           "legacy-dynamic": {"legacy": True, "dynamic": True},
           "torchvision-batch2": {"torchvision_models": True, "batch": 2}}


def export(names: list[str], out: Path, batch: int, legacy: bool, dynamic: bool,
           torchvision_models: bool) -> None:
    import torch
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        start = time.time()
        try:
            if torchvision_models:
                import torchvision
                extra = ({"aux_logits": False, "init_weights": True}
                         if name in ("googlenet", "inception_v3") else {})
                model = torchvision.models.get_model(name, weights=None, num_classes=10,
                                                     **extra)
                size = (3, 299, 299) if name == "inception_v3" else (3, 224, 224)
            else:
                import timm
                model = timm.create_model(name, pretrained=False, num_classes=10)
                size = model.pretrained_cfg.get("input_size", (3, 224, 224))
            x = torch.randn(batch, *size)
            options = ({"dynamo": False, "input_names": ["input"], "output_names": ["output"]}
                       if legacy else {"dynamo": True, "external_data": False})
            if legacy and dynamic:
                options["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
            with torch.no_grad():
                torch.onnx.export(model.eval(), (x,), str(out / f"{name}.onnx"),
                                  opset_version=17 if legacy else 18, **options)
            print(f"exported {name} {tuple(size)} in {time.time() - start:.1f} s", flush=True)
        except Exception as exc:                         # noqa: BLE001 - report and go on
            print(f"not exported {name}: {type(exc).__name__}: "
                  f"{str(exc).splitlines()[0][:200] if str(exc) else ''}", flush=True)


def _feed(rng, arg):
    """A random input for onnxruntime's input ``arg``: normal floats, or for an integer
    input (token ids) integers from 0 to 99, within any vocabulary; symbolic axes 1."""
    shape = [d if isinstance(d, int) else 1 for d in arg.shape]
    if "int" in arg.type:
        return rng.integers(0, 100, size=shape).astype(
            np.int32 if arg.type == "tensor(int32)" else np.int64)
    return rng.normal(size=shape).astype(np.float32)


def check(paths: list[Path]) -> collections.Counter:
    import onnxruntime

    import accelsim
    from accelsim.errors import AccelsimError
    from accelsim.values import reference_outputs
    from accelsim.workload.onnx import from_onnx_layout, load_onnx, to_onnx_layout
    warnings.filterwarnings("ignore")
    counts = collections.Counter()
    for path in paths:
        try:
            wl = load_onnx(path)
        except AccelsimError as exc:
            counts["REFUSED"] += 1
            print(f"REFUSED {path.stem}: {str(exc).splitlines()[0][:300]}", flush=True)
            continue
        except Exception as exc:                         # noqa: BLE001 - a bug: say so
            counts["CRASH"] += 1
            traceback.print_exc()
            print(f"CRASH {path.stem}: {type(exc).__name__}: {exc}", flush=True)
            continue
        try:
            session = onnxruntime.InferenceSession(str(path),
                                                   providers=["CPUExecutionProvider"])
            rng = np.random.default_rng(0)
            feeds = {i.name: _feed(rng, i) for i in session.get_inputs()}
            expected = dict(zip([o.name for o in session.get_outputs()],
                                session.run(None, feeds)))
            inputs = {layer: from_onnx_layout(wl, layer, np.asarray(feeds[name], np.float64))
                      for layer, (name, *_) in wl.layouts.items() if name in feeds}
            got = reference_outputs(wl, inputs)
            errors, underflow = {}, []
            for layer, (name, *_) in wl.layouts.items():
                if name not in expected or layer not in got:
                    continue
                want = expected[name].astype(np.float64)
                have = to_onnx_layout(wl, layer, got[layer])
                scale = float(np.abs(want).max(initial=0))
                if have.shape != want.shape:
                    errors[name] = float("inf")
                elif scale < np.finfo(np.float32).tiny:
                    # below float32's normal range (random weights that shrink every layer):
                    # onnxruntime's few significant bits there compare with nothing
                    underflow.append(name)
                else:
                    errors[name] = float(np.abs(have - want).max()) / scale
            result = accelsim.simulate(wl, "cim-16x16")
            worst = max(errors.values(), default=0.0)
            outcome = ("WRONG" if worst > TOLERANCE or len(errors) + len(underflow)
                       < len(expected) else "UNDERFLOW" if underflow else "OK")
            counts[outcome] += 1
            print(f"{outcome} {path.stem}: worst error {worst:.2e} over {len(errors)} of "
                  f"{len(expected)} outputs ({len(underflow)} underflowed); "
                  f"{wl.macs / 1e6:.1f} M MACs, {result.cycles:,} cycles on cim-16x16",
                  flush=True)
        except Exception as exc:                         # noqa: BLE001 - a bug: say so
            counts["CRASH"] += 1
            traceback.print_exc()
            print(f"CRASH {path.stem}: {type(exc).__name__}: {exc}", flush=True)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    made = steps.add_parser("export", help="write ONNX files (needs torch, timm)")
    made.add_argument("names", nargs="*")
    made.add_argument("--set", choices=sorted(SETS))
    made.add_argument("--out", type=Path, required=True)
    made.add_argument("--batch", type=int, default=1)
    made.add_argument("--legacy", action="store_true")
    made.add_argument("--dynamic", action="store_true")
    made.add_argument("--torchvision", action="store_true")
    checked = steps.add_parser("check", help="import and compare with onnxruntime")
    checked.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args()
    if args.step == "export":
        options = {"batch": args.batch, "legacy": args.legacy, "dynamic": args.dynamic,
                   "torchvision_models": args.torchvision, **OPTIONS.get(args.set, {})}
        names = [*SETS.get(args.set, []), *args.names]
        if not names:
            parser.error("export: give model names or --set")
        export(names, args.out, **options)
        return
    counts = check(args.paths)
    print(", ".join(f"{counts[k]} {k.lower()}"
                    for k in ("OK", "UNDERFLOW", "REFUSED", "WRONG", "CRASH")))
    sys.exit(1 if counts["WRONG"] or counts["CRASH"] else 0)


if __name__ == "__main__":
    main()
