"""The methodology appendix: every definition the report uses, in the report's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import metrics
from ..i18n import N_
from ..models.reference import DEFINITIONS as BAND_DEFINITIONS
from .fragments import show_html

if TYPE_CHECKING:
    from ..context import ReportContext


def definitions() -> dict[str, str]:
    """Every definition the methodology appendix prints: the metrics engine's, with the
    customer-value, lifetime-value and band-reference definitions of
    :mod:`reporting.metrics.clv`, :data:`CLV_DEFINITIONS` and
    :mod:`reporting.models.reference` (which replace the engine's entries of the same name),
    and the forward look's: targets, pipeline movement, velocity, reasons and the forecast
    (:mod:`reporting.metrics.targets`, ``.movement``, ``.velocity``, ``.reasons``,
    :mod:`reporting.forecast`)."""
    from .. import forecast
    from ..metrics import movement, reasons, targets, velocity

    return {**metrics.DEFINITIONS, **metrics.clv.DEFINITIONS, **CLV_DEFINITIONS,
            **BAND_DEFINITIONS, **targets.DEFINITIONS, **movement.DEFINITIONS,
            **velocity.DEFINITIONS, **reasons.DEFINITIONS, **forecast.DEFINITIONS}


CLV_DEFINITIONS = {
    "predicted_clv": (
        N_("Customer lifetime value (predicted): revenue each account is expected to bring over "
        "the horizon in params/report.yaml (clv.horizon_months), discounted month by month at "
        "the annual rate clv.discount_rate (month k counts 1 / (1 + rate)^(k / 12)), from the "
        "model that backtests best on this company's revenue (BG/NBD with average spend, "
        "BG/NBD with Gamma-Gamma spend, RFM segments, a gradient-boosted regressor or "
        "shifted-beta-geometric retention), scored by |aggregate error| + (1 - Spearman) on "
        "the last 6 months held out (undiscounted, as booked); averaged per acquiring rep "
        "and account manager. Gamma-Gamma spend uses each repeat customer's mean over "
        "positive repeat purchases; zero-value lines are counted and left out.")
    ),
    "deal_size": (
        N_("Deal size: mean and median amount of deals won in the period (closed_at in the "
        "period, status won), in the reporting currency; a zero-amount win counts (in the "
        "bands too, in the smallest band), a missing amount does not. The histogram shows "
        "every won deal of the period, zero-amount wins in a bar of their own.")
    ),
}


#: the backtest table's columns: (key, label, format)
BACKTEST_COLUMNS = [
    ("method", N_("Method"), "text"), ("mape_count", N_("Error, deals won"), "pct"),
    ("mape_value", N_("Error, value won"), "pct"),
    ("interval_coverage", N_("In the 80% range"), "pct"), ("brier", N_("Brier score"), "num3"),
    ("origins", N_("Months tested"), "int")]


def backtest_rows(bt: dict | None) -> list[dict]:
    """The backtest table of the run (see :func:`reporting.batch.forecast_backtest`) with
    the chosen method first and the naive one marked for comparison."""
    if not bt or not bt.get("table"):
        return []
    rows = sorted(bt["table"], key=lambda r: (r["method"] != bt.get("chosen"),
                                              r["method"] != "naive"))
    return rows


def named(key: str, text: str, language: str) -> tuple[str, str]:
    """A definition as the appendix prints it: in English under its metric id
    ('win_rate', the key of params/baselines.yaml); in another language (whose reader
    does not read ids) under the name its text opens with ('نرخ برد: ...' is 'نرخ برد'),
    the text after it."""
    if language == "en":
        return key, text
    head, sep, rest = text.partition(": ")
    return (head, rest) if sep and len(head) <= 80 else ("", text)


def metric_name(key: str, language: str) -> str:
    """A metric's name in ``language``: its id in English, else the name its definition
    opens with (:func:`named`); the id when it has no definition."""
    from ..i18n import tr

    text = definitions().get(key)
    if language == "en" or text is None:
        return key
    return named(key, tr(text, language), language)[0] or key


def show_methodology(ctx: ReportContext) -> None:
    import pandas as pd

    from .forward import METHOD_NAMES
    from .tables import show_table
    from .value import band_method_note, clv_method_note

    show_html("methodology.html.j2", ctx.language,
              definitions=[named(k, ctx.t(v), ctx.language) for k, v in definitions().items()],
              models=[n for n in (band_method_note(ctx), clv_method_note(ctx)) if n])
    fc = ctx.a.forecast or {}
    rows = backtest_rows(fc.get("backtest"))
    if rows:
        bt = fc["backtest"]
        frame = pd.DataFrame(rows)
        frame["method"] = [(m if ctx.language == "en" else ctx.t(METHOD_NAMES.get(m, m)))
                           + (" *" if m == bt["chosen"] else "") for m in frame["method"]]
        show_table(frame, [c for c in BACKTEST_COLUMNS if c[0] in frame], ctx.t(
            "Forecast backtest: {n} past month-ends, each method forecasting the next "
            "{days} days from what was known then; mean absolute percentage error (lower "
            "is better). * the method the report uses.").format(
                n=int(frame["origins"].max()), days=bt["horizon_days"]), 10, ctx.language)
        cal = bt.get("calibration") or {}
        if cal.get("brier") is not None:
            from .fragments import fmt_num, show_note

            show_note(ctx, ctx.t(
                "Calibration of the win chances on {n} deals: Brier score {brier} against "
                "{base} for the base rate and {crm} for the CRM's stage probabilities "
                "(lower is better).").format(
                    n=fmt_num(cal.get("calibration_deals")), brier=fmt_num(cal["brier"], 3),
                    base=fmt_num(cal.get("base_rate_brier"), 3),
                    crm=fmt_num(cal.get("crm_brier"), 3)))
