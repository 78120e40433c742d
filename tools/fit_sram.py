"""Fit accelsim's SRAM model (accelsim/models/sram.py) to the CACTI points of
tools/data/cacti_sram.csv (made by tools/cacti_points.py).

    python tools/fit_sram.py

Each quantity is fitted in log space, quadratic in log(capacity), log(word bits) and linear in
log(node), on the 22, 32, 65 and 90 nm points; the 45 nm points are held out and reported, as
are Horowitz's published 45 nm read energies (ISSCC 2014: 64-bit reads of 8 KB, 32 KB, 1 MB
arrays at 10, 20 and 100 pJ). Dynamic energies are divided by CACTI's supply squared before
the fit (C·V²) and leakage by its supply (I·V), so the model can move them with V.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CSV = HERE / "data" / "cacti_sram.csv"
HELD_OUT_NM = 45
TARGETS = ("read_nj", "write_nj", "leakage_mw", "area_mm2", "access_ns")
HOROWITZ_45NM = {8 * 1024: 10.0, 32 * 1024: 20.0, 1024 * 1024: 100.0}   # 64-bit read, pJ, 0.9 V


def load(path: Path = CSV) -> dict[str, np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    return {key: np.array([float(r[key]) for r in rows]) for key in rows[0]}


def features(size_bytes, word_bits, node_nm) -> np.ndarray:
    s = np.log(np.asarray(size_bytes, dtype=float) * 8)
    w = np.log(np.asarray(word_bits, dtype=float))
    n = np.log(np.asarray(node_nm, dtype=float))
    return np.column_stack([np.ones_like(s), s, w, n, s * s, s * w, w * w])


def normalized(d, target: str) -> np.ndarray:
    """log of the quantity with the supply taken out (C from C·V², I from I·V)."""
    y = np.log(d[target])
    if target in ("read_nj", "write_nj"):
        y = y - 2 * np.log(d["vdd_v"])
    elif target == "leakage_mw":
        y = y - np.log(d["vdd_v"])
    return y


def fit(d) -> dict[str, np.ndarray]:
    train = d["node_nm"] != HELD_OUT_NM
    x = features(d["size_bytes"], d["word_bits"], d["node_nm"])
    return {t: np.linalg.lstsq(x[train], normalized(d, t)[train], rcond=None)[0]
            for t in TARGETS}


def errors(d, coefficients) -> dict:
    """Max and median |model / CACTI - 1| on the training and held-out points."""
    x = features(d["size_bytes"], d["word_bits"], d["node_nm"])
    out = {}
    for t, beta in coefficients.items():
        ratio = np.exp(x @ beta - normalized(d, t))
        for name, mask in (("train", d["node_nm"] != HELD_OUT_NM),
                           ("held_out", d["node_nm"] == HELD_OUT_NM)):
            err = np.abs(ratio[mask] - 1)
            out[(t, name)] = (float(np.median(err)), float(np.max(ratio[mask])),
                              float(np.min(ratio[mask])))
    return out


def main() -> int:
    d = load()
    coefficients = fit(d)
    np.set_printoptions(precision=6, suppress=False)
    for t, beta in coefficients.items():
        print(f"{t}: {np.array2string(beta, separator=', ', precision=6)}")
    for (t, name), (median, high, low) in errors(d, coefficients).items():
        print(f"{t:11s} {name:9s}: median |error| {median:.1%}, model/CACTI {low:.2f}-{high:.2f}")
    sys.path.insert(0, str(HERE.parent))
    from accelsim.models.sram import read_pj
    from accelsim.models.technology import technology
    for size, published in HOROWITZ_45NM.items():
        model = read_pj(size, 64, technology(45, 0.9))
        print(f"Horowitz 45 nm 64-bit read, {size // 1024} KB: published {published:.0f} pJ, "
              f"model {model:.1f} pJ ({model / published - 1:+.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
