"""Forecast at scale (issue 15, requirement 9): on the 1M-opportunity store with deal
history of ``benchmarks/asof_bench.py`` (built once into ``data/bench/``, reused),

- ``reporting.forecast.forecast(store, AS_OF, 90, by="region")``: the win-probability model
  trained on the store's history (the deals open at 24 past month-ends, a seeded sample of
  100k rows; plus the held-out calibration fit) and the forecast of every region, target
  under 30 s;
- ``reporting.forecast.backtest(store)``: 12 rolling origins, each with its own model,
  target under 2 minutes.

``python -m benchmarks.forecast_bench time PATH [--runs N] [--backtest-runs N]`` prints one
JSON object: whole-function wall times (each call opens its own read-only connection, as
the CLI does), their medians, the rows the model trained on and where the time of the last
forecast went (``seconds_rows``: the DuckDB pass over every origin). ``python -m
benchmarks`` (section ``forecast``, part of ``make bench`` and ``make bench-quick``) runs it
in a child process and writes its section of ``results.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

AS_OF = "2026-11-01"  # the day after the bench store's data end (asof_bench.END)
HORIZON = 90


def time_forecast(path: Path, runs: int, backtest_runs: int) -> dict:
    from reporting.forecast import backtest, forecast

    out: dict = {"as_of": AS_OF, "horizon_days": HORIZON, "forecast_runs": [],
                 "backtest_runs": []}
    res = None
    for _ in range(runs):
        t = time.perf_counter()
        res = forecast(path, AS_OF, HORIZON, by="region")
        out["forecast_runs"].append(time.perf_counter() - t)
    if res is not None:
        out["regions"] = len(res.groups)
        out["open_deals"] = int(res.groups["open_count"].sum())
        out["training_rows"] = res.model_info.get("rows")
        out["training_origins"] = len(res.model_info.get("training_origins", []))
        out["seconds_rows"] = res.model_info.get("seconds_rows")
        out["method"] = res.method
    bt = None
    for _ in range(backtest_runs):
        t = time.perf_counter()
        bt = backtest(path, horizon_days=HORIZON)
        out["backtest_runs"].append(time.perf_counter() - t)
    if bt is not None:
        out["backtest_origins"] = int(bt.table["origins"].max())
        out["backtest_chosen"] = bt.chosen
        out["backtest_table"] = json.loads(bt.table.to_json(orient="records"))
    out["forecast_s"] = statistics.median(out["forecast_runs"]) if runs else None
    out["backtest_s"] = statistics.median(out["backtest_runs"]) if backtest_runs else None
    return out


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.forecast_bench")
    sub = ap.add_subparsers(dest="what", required=True)
    t = sub.add_parser("time", help="time forecast() and backtest() on a history store")
    t.add_argument("path", type=Path)
    t.add_argument("--runs", type=int, default=3)
    t.add_argument("--backtest-runs", type=int, default=1)
    args = ap.parse_args()
    print(json.dumps(time_forecast(args.path, args.runs, args.backtest_runs)))


if __name__ == "__main__":
    main()
