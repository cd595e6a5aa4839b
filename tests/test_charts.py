"""Charts that read right (issue 16): one palette for bands and statuses, no overlapping
names in the cycle quadrant, no dot clipped at the axis, integer count axes, amounts with
their currency on the axes, the target mix summing to 100%, and Persian charts without a
Latin letter outside names and ISO codes. Every chart is drawn on a small frame."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from reporting import formatting, plots  # noqa: E402
from reporting.periods import parse_period  # noqa: E402
from reporting.presentation.fragments import localize_axes  # noqa: E402

REPS = ["Ann Lee", "Bob Ray", "Cy Dahl", "Dee Fox", "Eve Moss", "Fay Hart", "Gus Vale",
        "Hal Ito", "Ivy Roe", "Jo Kent"]
STAGES = ["Qualification", "Discovery", "Proposal"]


class _Band:
    good, bad = 0.3, 0.18


def win_rates() -> pd.DataFrame:
    rates = np.array([0.0, 0.1, 0.2, 0.25, 0.3, 0.33, 0.4, 0.5, 0.7, 1.0])
    return pd.DataFrame({"group": REPS, "closed": [4, 9, 10, 12, 8, 6, 10, 4, 10, 2],
                         "win_rate": rates, "ci_low": np.clip(rates - 0.15, 0, 1),
                         "ci_high": np.clip(rates + 0.2, 0, 1)})


def summary() -> pd.DataFrame:
    """Reps crowded around the medians (names that would collide) and a few outliers."""
    closed = [14, 15, 16, 15, 23, 29, 44, 3, 8, 16]
    cycle = [42.0, 19.0, 27.0, 21.0, 30.0, 19.0, 12.0, 152.0, 206.0, 26.0]
    won = [c // 3 for c in closed]
    return pd.DataFrame({
        "group": REPS, "won": won, "lost": [c - w for c, w in zip(closed, won, strict=True)],
        "median_cycle_days_won": cycle, "open_count": [23, 19, 15, 12, 14, 13, 11, 10, 9, 3],
        "stale_open_count": [4, 4, 4, 4, 1, 3, 0, 0, 2, 1],
        "stale_unknown_count": [0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
        "capacity": [25, 25, 31, 27, 16, 31, 12, 17, 32, np.nan]})


def amounts() -> pd.Series:
    rng = np.random.default_rng(1)
    return pd.Series(np.r_[rng.lognormal(8, 1.2, 60), [0.0, 0.0]])


def band_mix_frame() -> pd.DataFrame:
    """Nobody won a large deal: the target still has a large band."""
    rows = []
    for rep, small in (("Ann Lee", 0.5), ("Bob Ray", 0.25)):
        for band, share in (("small", small), ("medium", 1 - small)):
            rows.append({"group": rep, "band": band, "share": share, "won": 4,
                         "team_share": {"small": 0.4, "medium": 0.6}[band],
                         "target_share": {"small": 0.25, "medium": 0.5}[band]})
    rows.append({"group": "Ann Lee", "band": "large", "share": np.nan, "won": 0,
                 "team_share": np.nan, "target_share": 0.25})
    return pd.DataFrame(rows)


def trend() -> pd.DataFrame:
    months = pd.date_range("2025-12-01", periods=12, freq="MS")
    wr = np.linspace(0.34, 0.22, 12)
    return pd.DataFrame({"month": months, "win_rate": wr, "ci_low": wr - 0.08,
                         "ci_high": wr + 0.08})


def funnel_frame() -> pd.DataFrame:
    return pd.DataFrame({"stage": STAGES + ["Won"], "reached": [155, 110, 75, 34],
                         "conversion_to_next": [0.71, 0.68, 0.45, np.nan],
                         "lost_here": [45, 35, 41, 0]})


def aging() -> pd.DataFrame:
    return pd.DataFrame([[32, 3, 0], [33, 9, 3], [9, 2, 5]], index=STAGES,
                        columns=["0-30", "31-60", ">365"])


def opps() -> pd.DataFrame:
    created = pd.to_datetime(["2026-08-01", "2026-08-05", "2026-07-01", "2026-10-01",
                              "2026-09-20", "2026-06-03"])
    return pd.DataFrame({"owner": ["Ann Lee", "Ann Lee", "Bob Ray", "Bob Ray", "Cy Dahl",
                                   "Cy Dahl"], "created_at": created,
                         "closed_at": pd.to_datetime(["2026-10-10"] * 6),
                         "status": ["won"] * 6})


def movement_row() -> pd.Series:
    from reporting.metrics.movement import SIGN

    r = {k: 0.0 for k in SIGN}
    r.update(created=713_600.0, pulled_in=0.0, reopened=4_800.0, increased=5_100.0,
             decreased=123_400.0, pushed_out=84_500.0, won=379_800.0, lost=1_000_000.0)
    start = 3_650_000.0
    end = start + sum(SIGN[k] * v for k, v in r.items())
    r.update({f"{k}_count": 1.0 for k in SIGN})
    return pd.Series({**r, "group": "all", "start_value": start, "end_value": end,
                      "value_computable": True, "history_deals": 10})


def slippage() -> pd.DataFrame:
    return pd.DataFrame({"group": REPS[:4], "deals": [61, 287, 52, 260],
                         "pushes": [39, 113, 18, 87],
                         "pushes_per_deal": [39 / 61, 113 / 287, 18 / 52, 87 / 260],
                         "share_pushed_twice": [0.08, 0.05, 0.1, 0.06]})


def velocity(rows: int = 1) -> pd.DataFrame:
    one = {"group": "all", "velocity_prev": 12_100.0, "velocity": 8_400.0, "change": -3_700.0,
           "open_deals_effect": -165.0, "win_rate_effect": -1_000.0,
           "avg_won_effect": 2_200.0, "cycle_effect": -4_735.0}
    if rows == 1:
        return pd.DataFrame([one])
    return pd.DataFrame([{**one, "group": g, "change": c} for g, c in
                         (("North", -3_700.0), ("South", -300.0))])


def forecast() -> pd.DataFrame:
    return pd.DataFrame({"group": REPS[:3], "expected_won_amount": [480_000.0, 200_000.0,
                                                                     25_000.0],
                         "expected_new_won_amount": [5_000.0, 20_000.0, 1_000.0],
                         "low_amount": [200_000.0, 60_000.0, 10_000.0],
                         "high_amount": [760_000.0, 450_000.0, 33_000.0],
                         "naive_won_amount": [700_000.0, 230_000.0, 20_000.0],
                         "quota": [170_000.0, 60_000.0, 10_000.0]})


def persons() -> pd.DataFrame:
    return pd.DataFrame({"person": REPS[:4], "value": [169_000.0, 157_000.0, 4_000.0, 1_500.0]})


#: every chart of the report, on small frames
CHARTS = {
    "win_rate_by_rep": lambda: plots.win_rate_by_rep(win_rates(), _Band()),
    "cycle_quadrant": lambda: plots.cycle_quadrant(summary()),
    "deal_size_histogram": lambda: plots.deal_size_histogram(amounts(), [3_000.0, 20_000.0]),
    "band_mix": lambda: plots.band_mix(band_mix_frame()),
    "open_vs_capacity": lambda: plots.open_vs_capacity(summary()),
    "funnel": lambda: plots.funnel(funnel_frame()),
    "win_rate_trend": lambda: plots.win_rate_trend(trend(), _Band()),
    "aging_heatmap": lambda: plots.aging_heatmap(aging()),
    "person_bars": lambda: plots.person_bars(
        persons(), "value", "Customer value per account-year, by acquiring rep",
        "revenue per account-year to date"),
    "cycle_distribution": lambda: plots.cycle_distribution(opps(), parse_period("2026-10")),
    "movement_waterfall": lambda: plots.movement_waterfall(movement_row(), "USD"),
    "slippage_by_rep": lambda: plots.slippage_by_rep(slippage()),
    "velocity_waterfall": lambda: plots.velocity_effects(velocity(), "USD"),
    "velocity_groups": lambda: plots.velocity_effects(velocity(2), "USD"),
    "forecast_by_rep": lambda: plots.forecast_by_rep(forecast(), "USD"),
}


@pytest.fixture(scope="module", autouse=True)
def _theme():
    plots.set_theme()
    yield
    _DRAWN.clear()
    plt.close("all")


_DRAWN: dict[tuple[str, str, str], object] = {}


def draw(name: str, language: str = "en", calendar: str = "gregorian"):
    """The chart drawn once per module (the tests only read it), at a low resolution:
    layout and overlaps are in points, the same at any dpi."""
    key = (name, language, calendar)
    if key not in _DRAWN:
        with formatting.using(language, "USD", calendar), plt.rc_context({"figure.dpi": 50}):
            ax = CHARTS[name]()
            localize_axes(ax, language)
            ax.figure.canvas.draw()
        plt.close(ax.figure)  # the figure stays readable, pyplot forgets it
        _DRAWN[key] = ax
    return _DRAWN[key]


def texts(ax) -> list[str]:
    """Every visible text of the chart's figure, ticks included."""
    return [t.get_text() for t in ax.figure.findobj(Text) if t.get_visible() and t.get_text()]


# --------------------------------------------------------------------------- palette
def _colour(artist) -> str:
    for get in ("get_facecolor", "get_color"):
        if hasattr(artist, get):
            c = getattr(artist, get)()
            c = c[0] if isinstance(c, np.ndarray) and c.ndim == 2 else c
            return to_hex(c)
    raise AssertionError(artist)


PALETTES = {"band": plots.BANDS, "status": plots.STATUS, "direction": plots.DIRECTION,
            "factor": plots.FACTORS}


def test_one_colour_per_band_and_status_in_every_chart():
    """Each band / status / direction / factor artist (marked by its gid) has the colour
    of the module-level palette, in every chart that draws it; bands and statuses appear
    in several charts."""
    seen: dict[str, set[str]] = {}
    for name in CHARTS:
        ax = draw(name)
        for artist in ax.figure.findobj(lambda a: bool(a.get_gid())):
            kind, _, key = artist.get_gid().partition(":")
            assert _colour(artist) == to_hex(PALETTES[kind][key]), (name, artist.get_gid())
            seen.setdefault(artist.get_gid(), set()).add(name)
    assert seen["band:small"] == {"deal_size_histogram", "band_mix"}
    assert seen["band:large"] == {"deal_size_histogram", "band_mix"}  # a band nobody won
    assert {"win_rate_by_rep", "win_rate_trend"} <= seen["status:good"]
    assert {"open_vs_capacity", "forecast_by_rep"} <= seen["status:limit"]
    assert {"movement_waterfall", "velocity_waterfall"} <= seen["direction:decrease"]
    # no factor of velocity wears a status colour (it would read as good or bad)
    assert not set(plots.FACTORS.values()) & {plots.STATUS[k] for k in ("good", "bad")}


# --------------------------------------------------------------------------- layout
@pytest.mark.parametrize("language", ["en", "fa"])
def test_cycle_quadrant_names_do_not_overlap(language):
    ax = draw("cycle_quadrant", language)
    boxes = [t.get_window_extent() for t in ax.texts]
    assert 3 <= len(boxes) <= 8  # the notable reps, not all ten
    for i, a in enumerate(boxes):
        assert all(not a.overlaps(b) for b in boxes[i + 1:])
        assert ax.get_window_extent().contains(a.x0, a.y0)
        assert ax.get_window_extent().contains(a.x1, a.y1)
    named = {t.get_text() for t in ax.texts}
    assert {"Gus Vale", "Ivy Roe", "Hal Ito"} <= named  # most deals, longest cycle, fewest


def test_cycle_quadrant_names_the_reps_asked_for():
    with formatting.using("en"):
        ax = plots.cycle_quadrant(summary(), highlight=["Cy Dahl"], labels=3)
    assert "Cy Dahl" in {t.get_text() for t in ax.texts}


@pytest.mark.parametrize("name", ["win_rate_by_rep", "cycle_quadrant", "win_rate_trend",
                                  "forecast_by_rep", "open_vs_capacity"])
def test_no_dot_is_clipped(name):
    """Every scatter / marker point lies inside the axis limits (0% and 100% included) and
    is drawn unclipped."""
    ax = draw(name)
    x0, x1 = sorted(ax.get_xlim())
    y0, y1 = sorted(ax.get_ylim())
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    points += [ln for ln in ax.lines if ln.get_marker() not in (None, "None", "")]
    assert points
    for artist in points:
        xy = (artist.get_offsets() if hasattr(artist, "get_offsets")
              else np.column_stack(artist.get_data()))
        xy = np.asarray(xy, dtype=float)
        xy = xy[np.isfinite(xy).all(axis=1)]
        assert (xy[:, 0] > x0).all() and (xy[:, 0] < x1).all(), name
        assert (xy[:, 1] > y0).all() and (xy[:, 1] < y1).all(), name


@pytest.mark.parametrize("name", ["win_rate_by_rep", "open_vs_capacity", "win_rate_trend",
                                  "forecast_by_rep", "band_mix", "deal_size_histogram",
                                  "slippage_by_rep", "movement_waterfall", "velocity_groups"])
def test_legends_are_outside_the_data(name):
    ax = draw(name)
    legend = ax.get_legend()
    assert legend is not None
    assert not legend.get_window_extent().overlaps(ax.get_window_extent())


@pytest.mark.parametrize("name, axis", [("funnel", "x"), ("open_vs_capacity", "x"),
                                        ("deal_size_histogram", "y"), ("cycle_quadrant", "x"),
                                        ("cycle_distribution", "x")])
def test_count_axes_have_whole_numbers(name, axis):
    ax = draw(name)
    ticks = getattr(ax, f"get_{axis}ticks")()
    lo, hi = getattr(ax, f"get_{axis}lim")()
    shown = [t for t in ticks if lo <= t <= hi]
    assert shown and all(float(t).is_integer() for t in shown)
    labels = [t.get_text() for t, v in zip(getattr(ax, f"get_{axis}ticklabels")(), ticks,
                                           strict=True) if lo <= v <= hi]
    assert all(re.fullmatch(r"[\d,]+", s) for s in labels), labels


def test_log_amount_axis_reads_in_plain_amounts():
    ax = draw("deal_size_histogram")
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all(re.fullmatch(r"\$\d+(\.\d)?[KM]?", s) for s in labels), labels
    assert not any("times" in s or "^" in s for s in texts(ax))
    assert "$0" in texts(ax)  # the zero-amount wins


@pytest.mark.parametrize("name, axis", [("person_bars", "x"), ("forecast_by_rep", "x"),
                                        ("movement_waterfall", "y"),
                                        ("velocity_waterfall", "y")])
def test_amount_axes_carry_the_currency(name, axis):
    ax = draw(name)
    labels = [t.get_text() for t in getattr(ax, f"get_{axis}ticklabels")() if t.get_text()]
    assert labels and all(s.lstrip("-").startswith("$") for s in labels), labels
    fa = draw(name, "fa")
    labels = [t.get_text() for t in getattr(fa, f"get_{axis}ticklabels")() if t.get_text()]
    assert labels and all(s.endswith("دلار") for s in labels), labels


def _bar_sums(ax) -> dict[float, float]:
    widths: dict[float, float] = {}
    for patch in ax.patches:
        y = round(patch.get_y(), 6)
        widths[y] = widths.get(y, 0.0) + patch.get_width()
    return widths


def test_target_mix_sums_to_100_percent():
    """No rep won a large deal: the mix has no large row (as metrics.deal_mix gives it),
    and the target bar still sums to 100%, from the profile's target or, without it, the
    one band missing taking the rest."""
    mix = band_mix_frame()
    mix = mix[mix["band"] != "large"]
    target = {"small": 0.25, "medium": 0.5, "large": 0.25}
    for ax in (draw("band_mix"), plots.band_mix(mix, target=target), plots.band_mix(mix)):
        widths = _bar_sums(ax)
        assert len(widths) == 4  # team, target, two reps
        assert all(w == pytest.approx(1.0) for w in widths.values()), widths
        large = [p for p in ax.patches if p.get_gid() == "band:large"]
        assert sorted(p.get_width() for p in large) == pytest.approx([0, 0, 0, 0.25])


def test_waterfall_labels_carry_the_currency_and_sign():
    ax = draw("movement_waterfall")
    labels = [t.get_text() for t in ax.texts]
    assert labels[:3] == ["$3.6M", "+$713.6K", "$0"]
    assert "-$1M" in labels
    fa = draw("movement_waterfall", "fa")
    assert [t.get_text() for t in fa.texts][1] == "+۷۱۳٫۶\xa0هزار\xa0دلار"
    assert [t.get_text() for t in fa.get_xticklabels()][0] == "آغاز"


# --------------------------------------------------------------------------- Persian
#: names of reps, accounts and stages (data) and the ISO code the report shows
_ALLOWED = re.compile("|".join([*(re.escape(n) for n in REPS + STAGES), r"\bUSD\b",
                                "North", "South"]))


@pytest.mark.parametrize("name", list(CHARTS))
def test_persian_chart_has_no_latin_letter(name):
    from reporting import i18n

    i18n.MISSING.clear()
    ax = draw(name, "fa", "jalali")
    for text in texts(ax):
        rest = _ALLOWED.sub("", text)
        assert not re.search("[A-Za-z0-9]", rest), (name, text)
    assert i18n.MISSING == set(), i18n.MISSING


def test_persian_time_axis_in_jalali_and_gregorian_months():
    ax = draw("win_rate_trend", "fa", "jalali")
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    # the axis starts 12 days before 2025-12-01: 1 Azar 1404 (2025-11-22) is the first
    # Jalali month start on it, then every other month
    assert labels[:3] == ["آذر ۱۴۰۴", "بهمن ۱۴۰۴", "فروردین ۱۴۰۵"]
    assert all(any(m in s for m in formatting.JALALI_MONTHS) for s in labels)
    ax = draw("win_rate_trend", "fa", "gregorian")
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels[:2] == ["دسامبر ۲۰۲۵", "فوریه ۲۰۲۶"]
    ax = draw("win_rate_trend", "en", "jalali")  # the Jalali option is for Persian reports
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels[:2] == ["Dec 2025", "Feb 2026"]


def test_persian_annotations_are_translated():
    ax = draw("slippage_by_rep", "fa")
    assert "۳۹ تعویق، ۶۱ معامله، ۸٪ دو بار یا بیشتر" in [t.get_text() for t in ax.texts]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["کارشناس میانه ۰٫۳۷"]
    ax = draw("funnel", "fa")
    assert "۱۵۵  (۷۱٪ به مرحله‌ی بعد رفتند، ۴۵ در این مرحله باختند)" in [
        t.get_text() for t in ax.texts]
