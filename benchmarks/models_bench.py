"""Model fits: deal bands at several sizes; BG/NBD and Gamma-Gamma against the reference
library (lifetimes 0.11.3, installed into its own virtualenv under data/bench/) on the full
CDNOW master file, same data, estimates compared to 3 significant figures."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from reporting.models import BetaGeoFitter, DealSizeBander, GammaGammaFitter, rfm_summary

from .engine_bench import DATA, median_time

REF_VENV = DATA / "lifetimes-venv"
REF_SCRIPT = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
rfm = pd.read_csv(sys.argv[1])
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    bg = BetaGeoFitter().fit(rfm["frequency"], rfm["recency"], rfm["T"])
    times.append(time.perf_counter() - t)
rep = rfm[(rfm["frequency"] > 0) & (rfm["monetary_value"] > 0)]
t = time.perf_counter()
gg = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
gg_time = time.perf_counter() - t
times.sort()
print(json.dumps({"bgnbd_seconds": times[len(times) // 2], "gg_seconds": gg_time,
                  "bgnbd": {k: float(v) for k, v in bg.params_.items()},
                  "gg": {("gamma" if k == "v" else k): float(v) for k, v in gg.params_.items()}}))
"""


def _reference_python() -> Path | None:
    """A virtualenv with lifetimes 0.11.3 (None when it cannot be installed here)."""
    py = REF_VENV / "bin" / "python"
    if not py.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(REF_VENV)], check=True)
            subprocess.run([str(py), "-m", "pip", "install", "-q", "lifetimes==0.11.3",
                            "setuptools<82"], check=True, capture_output=True, timeout=600)
        except (subprocess.SubprocessError, OSError):
            return None
    return py


def cdnow_master() -> pd.DataFrame:
    """CDNOW master transactions (23,570 customers), read from the lifetimes wheel."""
    cache = DATA / "CDNOW_master.txt"
    if not cache.exists():
        d = DATA / "wheel"
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d",
                        str(d), "lifetimes==0.11.3"], check=True)
        with zipfile.ZipFile(next(d.glob("*.whl"))) as z:
            cache.write_bytes(z.read("lifetimes/datasets/CDNOW_master.txt"))
    tx = pd.read_csv(cache, sep=r"\s+", header=None, names=["customer", "date", "qty", "amount"],
                     dtype={"customer": str, "date": str}, comment=None)
    tx = tx[tx["date"].str.fullmatch(r"\d{8}")]  # the file may start with a header line
    tx["date"] = pd.to_datetime(tx["date"], format="%Y%m%d")
    return tx


def bench_models(repeat: int = 5) -> dict:
    out: dict = {}
    rng = np.random.default_rng(0)
    for n in (10_000, 1_000_000, 5_000_000):
        a = np.exp(rng.normal(8, 1.2, n))
        out[f"bander_fit_{n}"] = median_time(lambda a=a: DealSizeBander().fit(a), max(1, repeat // 2))
    tx = cdnow_master()
    rfm = rfm_summary(tx, "customer", "date", "amount", pd.Timestamp("1997-09-30"), "week")
    out["customers"] = len(rfm)
    out["bgnbd_seconds"] = median_time(
        lambda: BetaGeoFitter().fit(rfm["frequency"], rfm["recency"], rfm["T"]), repeat)
    bg = BetaGeoFitter().fit(rfm["frequency"], rfm["recency"], rfm["T"])
    rep = rfm[(rfm["frequency"] > 0) & (rfm["monetary_value"] > 0)]
    t = time.perf_counter()
    gg = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    out["gg_seconds"] = time.perf_counter() - t
    out["bgnbd"] = dict(bg.params_)
    out["gg"] = dict(gg.params_)
    py = _reference_python()
    if py is None:
        out["reference"] = "lifetimes could not be installed here"
        return out
    csv = DATA / "cdnow_rfm.csv"
    rfm.reset_index().to_csv(csv, index=False)
    ref = subprocess.run([str(py), "-c", REF_SCRIPT, str(csv), str(repeat)],
                         capture_output=True, text=True)
    if ref.returncode != 0:
        out["reference"] = f"lifetimes failed: {ref.stderr.strip().splitlines()[-1]}"
        return out
    out["reference"] = json.loads(ref.stdout.strip().splitlines()[-1])
    return out
