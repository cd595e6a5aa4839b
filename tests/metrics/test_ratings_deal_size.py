"""Issue 16: the deal size is rated against the company's own last 12 months."""

from __future__ import annotations

import pandas as pd
import pytest

from reporting.metrics.ratings import profile_thresholds
from reporting.params import ReportSettings
from reporting.periods import parse_period


def test_deal_size_baseline_is_the_trailing_mean_won_amount():
    s = ReportSettings.model_validate({"baselines": {"default": {
        "avg_won_amount": {"trailing": {"good": 1.0, "bad": 0.8}}}}})
    day = pd.Timestamp("2026-03-10")
    won = pd.DataFrame({"opportunity_id": [f"o{i}" for i in range(10)],
                        "created_at": [day] * 10, "closed_at": [day + pd.Timedelta(days=5)] * 10,
                        "status": ["won"] * 10, "amount": [100.0] * 5 + [300.0] * 5})
    # ten won deals between October 2025 and September 2026, mean 200: good from 200,
    # bad below 160
    th = profile_thresholds(s, "default", won, parse_period("2026-10"))["avg_won_amount"]
    assert (th.good, th.bad, th.higher_is_better) == (pytest.approx(200.0), pytest.approx(160.0),
                                                      True)
    assert [th.rate(v) for v in (210.0, 180.0, 150.0)] == ["good", "watch", "bad"]
    # nine deals (one amount missing) are too few to be a baseline: not rated
    won.loc[0, "amount"] = None
    assert profile_thresholds(s, "default", won, parse_period("2026-10")) == {}
