"""The methodology appendix: every definition the report uses, in the report's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import metrics
from ..models.reference import DEFINITIONS as BAND_DEFINITIONS
from .fragments import show_html

if TYPE_CHECKING:
    from ..context import ReportContext


def definitions() -> dict[str, str]:
    """Every definition the methodology appendix prints: the metrics engine's, with the
    customer-value, lifetime-value and band-reference definitions of
    :mod:`reporting.metrics.clv`, :data:`CLV_DEFINITIONS` and
    :mod:`reporting.models.reference` (which replace the engine's entries of the same name)."""
    return {**metrics.DEFINITIONS, **metrics.clv.DEFINITIONS, **CLV_DEFINITIONS,
            **BAND_DEFINITIONS}


CLV_DEFINITIONS = {
    "predicted_clv": (
        "Customer lifetime value (predicted): revenue each account is expected to bring over "
        "the horizon in params/report.yaml (clv.horizon_months), discounted month by month at "
        "the annual rate clv.discount_rate (month k counts 1 / (1 + rate)^(k / 12)), from the "
        "model that backtests best on this company's revenue (BG/NBD with average spend, "
        "BG/NBD with Gamma-Gamma spend, RFM segments, a gradient-boosted regressor or "
        "shifted-beta-geometric retention), scored by |aggregate error| + (1 - Spearman) on "
        "the last 6 months held out (undiscounted, as booked); averaged per acquiring rep "
        "and account manager. Gamma-Gamma spend uses each repeat customer's mean over "
        "positive repeat purchases; zero-value lines are counted and left out."
    ),
    "deal_size": (
        "Deal size: mean and median amount of deals won in the period (closed_at in the "
        "period, status won), in the reporting currency; a zero-amount win counts (in the "
        "bands too, in the smallest band), a missing amount does not. The histogram shows "
        "every won deal of the period, zero-amount wins in a bar of their own."
    ),
}


def show_methodology(ctx: ReportContext) -> None:
    show_html("methodology.html.j2", ctx.language,
              definitions=[(k, ctx.t(v)) for k, v in definitions().items()])
