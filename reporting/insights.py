"""Plain-language findings computed from the figures; each carries its numbers.

First version: rep-level outliers against the median of the reps in scope. Findings are
ranked by how far the figure is from the median.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Finding:
    """One finding: its text, the figure behind it, and a score used for ranking."""

    text: str
    metric: str
    subject: str
    value: float
    reference: float
    score: float


def rep_findings(summary: pd.DataFrame, min_closed: int = 3) -> list[Finding]:
    """Outlier reps: bloated stale pipeline, many deals with long cycles, small deals."""
    s = summary
    out: list[Finding] = []
    if s.empty:
        return out
    med_open = s["open_count"].median()
    for _, r in s.iterrows():
        if med_open and r["open_count"] >= 2 * med_open and r["open_count"] >= 5:
            stale = r["stale_open_count"] / r["open_count"]
            out.append(Finding(
                f"{r['group']} holds {int(r['open_count'])} open opportunities, "
                f"{r['open_count'] / med_open:.1f}x the median of {med_open:.0f}; "
                f"{stale:.0%} are stale.",
                "open_count", str(r["group"]), float(r["open_count"]), float(med_open),
                r["open_count"] / med_open,
            ))
    closed = s["won"] + s["lost"]
    judged = s[closed >= min_closed]
    if len(judged) >= 3:
        med_closed = (judged["won"] + judged["lost"]).median()
        med_cycle = judged["median_cycle_days_won"].median()
        for _, r in judged.iterrows():
            c = r["won"] + r["lost"]
            cyc = r["median_cycle_days_won"]
            if pd.notna(cyc) and med_cycle and c > med_closed and cyc >= 1.4 * med_cycle:
                out.append(Finding(
                    f"{r['group']} closed {int(c)} deals (median {med_closed:.0f}) but with a "
                    f"median cycle of {cyc:.0f} days, {cyc / med_cycle:.1f}x the median of "
                    f"{med_cycle:.0f}: many deals, slowly.",
                    "median_cycle_days_won", str(r["group"]), float(cyc), float(med_cycle),
                    cyc / med_cycle,
                ))
        med_amount = judged["median_won_amount"].median()
        for _, r in judged.iterrows():
            a = r["median_won_amount"]
            if pd.notna(a) and med_amount and r["won"] >= min_closed and a <= 0.5 * med_amount:
                out.append(Finding(
                    f"{r['group']}'s median won deal is {a:,.0f}, {a / med_amount:.0%} of the "
                    f"median rep's {med_amount:,.0f}: mostly small deals.",
                    "median_won_amount", str(r["group"]), float(a), float(med_amount),
                    med_amount / a if a else 10.0,
                ))
    return sorted(out, key=lambda f: -f.score)
