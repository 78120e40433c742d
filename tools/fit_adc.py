"""Fit accelsim's ADC model (accelsim/models/adc.py) to B. Murmann's ADC Performance Survey.

    python tools/fit_adc.py                       # fit on tools/data/adc_survey.csv, report
    python tools/fit_adc.py --from-xlsx PATH      # first rebuild the CSV from the survey's
                                                  # spreadsheet (ADCsurvey_latest.xlsx)

The survey (BSD-3-Clause, see tools/data/ADC_SURVEY_LICENSE) lists every ADC published at
ISSCC and the VLSI Symposium since 1997. Only Nyquist converters are used. A fifth of them,
chosen by a hash of their conference, year and paper number (so the split never depends on a
random generator), is held out of the fit and used only to report errors.

Model (see accelsim/models/adc.py for the physics):
    E(B, fs, node) = W · 2^B · (node/65 nm) · (1 + fs / (F · 65 nm/node)) + T · 4^B
fitted at the 10th percentile (an efficient published design: 10 % do better) by quantile
regression in log space; area and the fastest single-channel rate likewise. Needs scipy.
"""

from __future__ import annotations

import argparse
import csv
import sys
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CSV = HERE / "data" / "adc_survey.csv"
COLUMNS = ["venue", "year", "paper", "doi", "architecture", "node_nm", "sndr_db", "fsnyq_hz",
           "power_w", "area_mm2"]
QUANTILE = 0.1          # the model's percentile: an efficient published design
RATE_QUANTILE = 0.9     # the fastest single-channel designs, for the clock check


def rebuild_csv(xlsx: Path) -> None:
    import pandas as pd
    rows = []
    for venue in ("ISSCC", "VLSI"):
        sheet = pd.read_excel(xlsx, sheet_name=venue)
        sheet = sheet[sheet["TYPE"] == "NQ"]
        for _, r in sheet.iterrows():
            values = [r["SNDR_plot [dB]"], r["P [W]"], r["fsnyq [Hz]"], r["TECHNOLOGY"]]
            if any(pd.isna(v) or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            try:
                node_um = float(r["TECHNOLOGY"])
            except ValueError:        # "1.00 BiCMOS", "SiGe": not CMOS, left out
                continue
            area = r["AREA [mm^2]"]
            area = "" if pd.isna(area) or isinstance(area, str) else f"{float(area):.6g}"
            rows.append([venue, int(r["YEAR"]), str(r["ID"]), str(r["DOI"]).strip(),
                         str(r["ARCHITECTURE"]).strip(), f"{node_um * 1e3:.6g}",
                         f"{float(r['SNDR_plot [dB]']):.6g}", f"{float(r['fsnyq [Hz]']):.6g}",
                         f"{float(r['P [W]']):.6g}", area])
    with open(CSV, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        out.writerows(rows)
    print(f"wrote {len(rows)} Nyquist ADCs to {CSV}")


def load(path: Path = CSV) -> dict[str, np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    data = {
        "node": np.array([float(r["node_nm"]) for r in rows]),
        "enob": np.array([(float(r["sndr_db"]) - 1.76) / 6.02 for r in rows]),
        "fs": np.array([float(r["fsnyq_hz"]) for r in rows]),
        "energy_pj": np.array([float(r["power_w"]) / float(r["fsnyq_hz"]) * 1e12 for r in rows]),
        "area_mm2": np.array([float(r["area_mm2"]) if r["area_mm2"] else np.nan for r in rows]),
        "interleaved": np.array(["TI" in r["architecture"] for r in rows]),
        "held_out": np.array([zlib.crc32(f"{r['venue']}{r['year']}{r['paper']}".encode()) % 5
                              == 0 for r in rows]),
    }
    return data


def energy_model(p, enob, fs, node):
    log_w, log_f, log_t = p
    walden = 10 ** log_w * 2.0 ** enob * (node / 65) * (1 + fs / (10 ** log_f * 65 / node))
    return walden + 10 ** log_t * 4.0 ** enob


def _pinball(residual: np.ndarray, tau: float) -> float:
    return float(np.mean(np.maximum(tau * residual, (tau - 1) * residual)))


def fit_energy(d, mask):
    from scipy.optimize import minimize

    def loss(p):
        r = np.log10(d["energy_pj"][mask]) - np.log10(
            energy_model(p, d["enob"][mask], d["fs"][mask], d["node"][mask]))
        return _pinball(r, QUANTILE)

    best = None
    for start in ([-2.5, 8.0, -6.5], [-2.0, 9.0, -7.0], [-3.0, 7.5, -6.0]):
        res = minimize(loss, start, method="Nelder-Mead",
                       options={"maxiter": 40000, "maxfev": 40000, "xatol": 1e-9,
                                "fatol": 1e-12})
        if best is None or res.fun < best.fun:
            best = res
    return best.x


def _linear_quantile(x: np.ndarray, y: np.ndarray, tau: float) -> np.ndarray:
    """Linear quantile regression y ~ x @ beta (a linear program)."""
    from scipy.optimize import linprog
    n, k = x.shape
    # beta = b+ - b-, residual = u - v with u, v >= 0: minimise tau*u + (1-tau)*v
    c = np.concatenate([np.zeros(2 * k), tau * np.ones(n), (1 - tau) * np.ones(n)])
    a_eq = np.hstack([x, -x, np.eye(n), -np.eye(n)])
    res = linprog(c, A_eq=a_eq, b_eq=y, bounds=[(0, None)] * (2 * k + 2 * n), method="highs")
    return res.x[:k] - res.x[k:2 * k]


def area_features(enob, fs, node):
    return np.column_stack([np.ones_like(enob), enob, np.log10(node / 65), np.log10(fs / 1e8)])


def rate_features(enob, node):
    return np.column_stack([np.ones_like(enob), enob, np.log10(node / 65)])


def fit(d):
    train = ~d["held_out"]
    energy = fit_energy(d, train)
    has_area = train & np.isfinite(d["area_mm2"])
    area = _linear_quantile(area_features(d["enob"][has_area], d["fs"][has_area],
                                          d["node"][has_area]),
                            np.log10(d["area_mm2"][has_area]), QUANTILE)
    single = train & ~d["interleaved"]
    rate = _linear_quantile(rate_features(d["enob"][single], d["node"][single]),
                            np.log10(d["fs"][single]), RATE_QUANTILE)
    return energy, area, rate


def report(d, energy, area, rate) -> dict:
    """Errors of the fitted model on the training and held-out points."""
    out = {}
    for name, mask in (("train", ~d["held_out"]), ("held_out", d["held_out"])):
        model = energy_model(energy, d["enob"][mask], d["fs"][mask], d["node"][mask])
        ratio = d["energy_pj"][mask] / model
        has_area = mask & np.isfinite(d["area_mm2"])
        area_model = 10 ** (area_features(d["enob"][has_area], d["fs"][has_area],
                                          d["node"][has_area]) @ area)
        out[name] = {
            "points": int(mask.sum()),
            "below_energy_model": float(np.mean(ratio < 1)),
            "median_energy_ratio": float(np.median(ratio)),
            "below_area_model": float(np.mean(d["area_mm2"][has_area] < area_model)),
            "median_area_ratio": float(np.median(d["area_mm2"][has_area] / area_model)),
        }
    # Per resolution: the 10th percentile of measured / model over all points within half a
    # bit (the survey's own frontier at that resolution, relative to the model).
    frontier = {}
    all_ratio = d["energy_pj"] / energy_model(energy, d["enob"], d["fs"], d["node"])
    for bits in range(4, 13):
        near = np.abs(d["enob"] - bits) < 0.5
        if near.sum() >= 5:
            frontier[bits] = (int(near.sum()), float(np.quantile(all_ratio[near], QUANTILE)))
    out["frontier"] = frontier
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-xlsx", type=Path, help="rebuild the CSV from the survey xlsx")
    args = parser.parse_args(argv)
    if args.from_xlsx:
        rebuild_csv(args.from_xlsx)
    d = load()
    energy, area, rate = fit(d)
    print(f"{len(d['node'])} Nyquist ADCs, {int(d['held_out'].sum())} held out")
    fitted = ~d["held_out"]
    print(f"fitted designs span {d['enob'][fitted].min():.3g}-{d['enob'][fitted].max():.3g} "
          f"effective bits, {d['fs'][fitted].min():.3g}-{d['fs'][fitted].max():.3g} S/s, "
          f"{d['node'][fitted].min():g}-{d['node'][fitted].max():g} nm")
    w, f, t = (10 ** value for value in energy)
    print(f"energy: W = {w:.4g} pJ/step at 65 nm, F = {f:.4g} Hz, T = {t:.4g} pJ "
          f"(log10: {energy[0]:.5f}, {energy[1]:.5f}, {energy[2]:.5f})")
    print("area: log10 mm2 = {:.5f} + {:.5f}*B + {:.5f}*log10(node/65) + {:.5f}*log10(fs/1e8)"
          .format(*area))
    print("rate: log10 Hz = {:.5f} + {:.5f}*B + {:.5f}*log10(node/65)".format(*rate))
    result = report(d, energy, area, rate)
    for name in ("train", "held_out"):
        r = result[name]
        print(f"{name}: {r['points']} points, {r['below_energy_model']:.1%} below the energy "
              f"model (fitted at {QUANTILE:.0%}), median measured/model "
              f"{r['median_energy_ratio']:.2f}; {r['below_area_model']:.1%} below the area "
              f"model, median {r['median_area_ratio']:.2f}")
    print("frontier (10th percentile of measured/model within half a bit):")
    for bits, (n, q) in result["frontier"].items():
        print(f"  {bits:2d} bits: {q:.2f} ({n} designs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
