"""The deal-size and customer-value sections: band notes, histograms and band mixes per
business profile, the lifetime-value model note, and the charts and tables per acquiring
rep and account manager.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .. import formatting as fmt
from .. import plots
from ..crm_terms import crm_term
from ..i18n import N_, format_date, localize_numbers
from ..metrics.deal_mix import zero_amount_wins
from ..metrics.filters import won_in_period
from ..metrics.ratings import team_profiles
from .fragments import fmt_money, fmt_num, localize_axes, say, show_note
from .layout import chart, half_ax, rows_height, show, show_row
from .tables import person_table

if TYPE_CHECKING:
    from ..context import ReportContext


def show_customer_value(ctx: ReportContext) -> None:
    """Section 4: what lifetime value means here (the model and its backtest are in the
    methodology appendix), then the charts per acquiring rep and per account manager side
    by side (predicted lifetime value per account, or value per account-year without a
    model), and their tables."""
    if not len(ctx.a.acquirers):
        return
    show_note(ctx, clv_note(ctx))
    predicted = "avg_predicted_value" in ctx.a.acquirers
    value = "avg_predicted_value" if predicted else "value_per_account_year"
    months = ctx.settings.clv.horizon_months
    xlabel = localize_numbers(
        ctx.t("lifetime value per account: next {months} months, discounted").format(
            months=months) if predicted else ctx.t("revenue per account-year to date"),
        ctx.language)
    titles = ((N_("Customer lifetime value per account, by acquiring rep"),
               N_("Customer lifetime value per account, by account manager")) if predicted
              else (N_("Customer value per account-year, by acquiring rep"),
                    N_("Customer value per account-year, by account manager")))
    charts = []
    for frame, title in zip((ctx.a.acquirers, ctx.a.managers), titles, strict=True):
        n = int(frame[value].notna().sum()) if value in frame else 0
        ax = plots.person_bars(frame, value, ctx.t(title), xlabel,
                               ax=half_ax(rows_height(min(n, 15))))
        charts.append(chart(ax))  # title and label are in the report's language already
    show_row(*charts)
    show(person_table(ctx, "acquirers"), person_table(ctx, "managers"))


def band_note(ctx: ReportContext) -> str:
    """Band edges per business profile, in currency, and where they were learned, in
    plain words (the method, the drift measure and how to refresh the bands are in the
    methodology appendix: :func:`band_method_note`)."""
    cur = ctx.settings.currency
    t = ctx.t
    parts = [t("{profile}: small < {small}, medium to {large}, large above").format(
        profile=crm_term(prof, ctx.language), small=fmt_money(edges[0], cur),
        large=fmt_money(edges[-1], cur)) for prof, edges in ctx.a.band_edges.items()]
    parts += [f"{crm_term(prof, ctx.language)}: {say(ctx, why)}"
              for prof, why in ctx.a.band_notes.items()]
    join = "؛ " if ctx.language == "fa" else "; "  # the Persian semicolon
    if not parts:
        return t("No deal-size bands: no won deals.")
    ref = ctx.artifacts.get("band_reference")
    if ref:
        start, end = _window(ctx, ref)
        text = t("Deal sizes small, medium and large, as learned from the deals won from "
                 "{start} to {end}: {parts}.").format(start=start, end=end,
                                                     parts=join.join(parts))
        drift = [d.get("verdict") for d in ctx.artifacts.get("band_drift", {}).values()]
        if "refresh the reference" in drift:
            text += " " + t("This period's deal sizes have moved away from those sizes: "
                            "the bands are due to be learned again (see the appendix).")
        elif "some drift" in drift:
            text += " " + t("This period's deal sizes differ a little from those sizes.")
    else:
        text = t("Deal sizes small, medium and large, as learned from the last 12 months of "
                 "won deals: {parts}.").format(parts=join.join(parts))
    zero = zero_amount_wins(ctx.opps, ctx.period)
    if zero:
        text += " " + t("{n} zero-amount wins count as won deals in the small band and in "
                        "the average deal size.").format(n=zero)
    return localize_numbers(text, ctx.language)


def _window(ctx: ReportContext, ref: dict) -> tuple[str, str]:
    """The first and last day of the band reference's window, as the report writes dates
    (ISO in English; in Persian in the report's calendar)."""
    start = pd.Timestamp(ref["window_start"]).date()
    end = (pd.Timestamp(ref["window_end"]) - pd.Timedelta(days=1)).date()
    return (format_date(start, ctx.language, ctx.settings.calendar),
            format_date(end, ctx.language, ctx.settings.calendar))


def band_method_note(ctx: ReportContext) -> str | None:
    """For the methodology appendix: how the bands were learned, their drift in this
    period (population stability index per profile) and how to refresh them."""
    t = ctx.t
    ref = ctx.artifacts.get("band_reference")
    if not ref:
        return t("Deal-size bands: KMeans (3 clusters) on log amounts of the last 12 months "
                 "of won deals, learned in this run.") if ctx.a.band_edges else None
    start, end = _window(ctx, ref)
    drift = []
    for prof, d in ctx.artifacts.get("band_drift", {}).items():
        if d.get("psi") is None:
            drift.append(t("{profile}: too few deals ({n}; at least {min} needed)").format(
                profile=crm_term(prof, ctx.language), n=min(d["deals"], d["baseline_deals"]),
                min=d["min_deals"]))
        else:
            drift.append(t("{profile} PSI {psi} ({verdict})").format(
                profile=crm_term(prof, ctx.language), psi=f"{d['psi']:.2f}",
                verdict=t(d["verdict"])))
    text = t("Deal-size bands of this report: KMeans on log amounts, learned for this store "
             "on the deals won from {start} to {end}. Drift of the whole company's won deals "
             "in this period against a window without it: {drift}. Refresh with "
             "--refresh-bands.").format(start=start, end=end, drift="; ".join(drift) or "–")
    return localize_numbers(text, ctx.language)


def show_deal_size(ctx: ReportContext, top_reps: int = 20) -> None:
    """Per business profile: a histogram of every deal won in the period (band edges where
    the profile has them) beside each rep's band mix."""
    won = ctx.opps[won_in_period(ctx.opps, ctx.period)]
    profiles = team_profiles(ctx.settings, won["team"])
    show_note(ctx, band_note(ctx))
    for prof in sorted(set(profiles.dropna()) | set(ctx.a.band_edges)):
        amounts = won.loc[profiles == prof, "amount"].dropna()
        if amounts.empty:
            continue
        edges = ctx.a.band_edges.get(prof)
        ax = plots.deal_size_histogram(amounts, edges, ax=half_ax(2.8))
        localize_axes(ax, ctx.language)
        sep = "، " if ctx.language == "fa" else ", "  # the Persian comma
        ax.set_title(f"{ax.get_title()}{sep}{crm_term(prof, ctx.language)} "
                     f"({fmt_num(len(amounts))})")
        hist = chart(ax)
        mix = ctx.a.band_mix
        mix = mix[mix["profile"] == prof] if len(mix) else mix
        drawn = None
        if len(mix):
            reps = (mix.groupby("group")["won"].sum().nlargest(top_reps).index.tolist())
            ax = plots.band_mix(mix, reps, target=ctx.settings.deal_mix_target.get(prof),
                                ax=half_ax(max(2.8, rows_height(len(reps) + 2))))
            localize_axes(ax, ctx.language)
            ax.set_title(f"{ax.get_title()}{sep}{crm_term(prof, ctx.language)}")
            drawn = chart(ax)
        show_row(hist, drawn)


MODEL_NAMES = {"bgnbd": N_("BG/NBD (purchases) with average spend"),
               "gamma-gamma": N_("BG/NBD with Gamma-Gamma spend"), "segments": N_("RFM-segment"),
               "regressor": N_("gradient-boosted regressor"),
               "sbg": N_("shifted-beta-geometric retention")}


def clv_note(ctx: ReportContext) -> str:
    """What the lifetime value is, in plain words: the horizon, the discount rate and that
    the model is the one that predicted past revenue best (:func:`clv_method_note` gives
    the model and its backtest, for the methodology appendix)."""
    m = ctx.a.clv_model
    t = ctx.t
    if not m:
        return t("No customer lifetime value model: the data has no revenue table.")
    if "model" not in m:
        return t("No customer lifetime value model could be fitted: {error}.").format(
            error=m.get("error", "unknown reason"))
    months = m.get("horizon_months", ctx.settings.clv.horizon_months)
    rate = m.get("discount_rate", ctx.settings.clv.discount_rate)
    text = t("Lifetime value = the revenue each account is expected to bring over the next "
             "{months} months, discounted at {rate} a year, from the method that predicted "
             "the last {holdout} months of this company's revenue best (see the "
             "appendix).").format(months=months, rate=f"{rate:.0%}",
                                  holdout=m["holdout_months"])
    if m.get("excluded_lines"):
        text += " " + t("{n} zero or negative revenue lines (credits, refunds) are not "
                        "purchases and are left out.").format(n=f"{m['excluded_lines']:,}")
    return localize_numbers(text, ctx.language)


def clv_method_note(ctx: ReportContext) -> str | None:
    """For the methodology appendix: which lifetime-value model the report uses and how it
    backtested against the naive baseline."""
    m = ctx.a.clv_model
    t = ctx.t
    if not m or "model" not in m:
        return None
    b = m["backtest"]
    base = b["baseline"]
    en = ctx.language == "en"

    def dec(v) -> str:  # a score: '0.32'; Persian '۰٫۳۲'
        return f"{v:.2f}" if en else fmt.number(v, 2, ctx.language)

    def pct(v, sign: bool = False) -> str:
        return (f"{v:+.0%}" if sign else f"{v:.0%}") if en else fmt.percent(
            v, 0, ctx.language, sign=sign)

    def name(k: str) -> str:  # a candidate model: its key in English, its name otherwise
        return k if en else t(MODEL_NAMES.get(k, k))

    scores = (", " if en else "، ").join(
        f"{name(k)} {dec(v)}" if isinstance(v, float) else f"{name(k)} (–)"
        for k, v in m.get("candidates", {}).items())
    text = t(
        "Lifetime value of this report: the {model} model, chosen by backtest on the last "
        "{holdout} months ({n} accounts): aggregate error {err} (naive baseline {base_err}), "
        "Spearman rank correlation {rho} (baseline {base_rho}), top-decile capture {top}. "
        "Scores (lower is better): {scores}.").format(
        model=t(MODEL_NAMES.get(m["model"], m["model"])),
        holdout=m["holdout_months"], n=f"{b['n_customers']:,}" if en else fmt.count(
            b["n_customers"], ctx.language),
        err=pct(b["aggregate_error"], True), base_err=pct(base["aggregate_error"], True),
        rho=dec(b["spearman"]), base_rho=dec(base["spearman"]),
        top=pct(b["top_decile_capture"]), scores=scores)
    sm = m.get("spend_model")
    if sm and (sm["excluded_lines"] or sm["excluded_customers"]):
        text += " " + t("Spend model: {lines} zero or negative lines and {customers} repeat "
                        "customers without a positive repeat purchase left out.").format(
            lines=f"{sm['excluded_lines']:,}" if en else fmt.count(sm["excluded_lines"]),
            customers=f"{sm['excluded_customers']:,}" if en else fmt.count(
                sm["excluded_customers"]))
    return localize_numbers(text, ctx.language)
