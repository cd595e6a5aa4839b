"""The metric definitions the methodology appendix prints, one plain-language paragraph
per metric (the same definitions as the functions' docstrings; translated through the
message catalogue in :mod:`reporting.i18n`)."""

from __future__ import annotations

from ..i18n import N_

DEFINITIONS: dict[str, str] = {
    "win_rate": (
        N_("Win rate: won / (won + lost) among opportunities whose closed_at falls in the "
        "period; open deals are excluded. The 95% Wilson score interval shows how sure the "
        "rate is; with fewer deals the interval is wider.")
    ),
    "cycle_length": (
        N_("Sales cycle length: days from created_at (entering the funnel) to closed_at, for "
        "deals closed in the period, reported separately for won and lost deals (median, "
        "25th and 75th percentile, mean, count).")
    ),
    "deal_size": (
        N_("Deal size: mean and median amount of deals won in the period (closed_at in the "
        "period, status won), in the reporting currency.")
    ),
    "concentration": (
        N_("Bookings resting on one deal: where the largest deal won in the period is at least "
           "half of the won value and at least three deals were won, the roll-up and the trend "
           "say so under the bookings, with the value without that deal (one or two deals won "
           "say it by their count).")
    ),
    "account_value": (
        N_("Customer value to date: total revenue booked per account up to the end of the "
        "period, by kind (new, renewal, expansion, one-off); averaged over the accounts "
        "each rep acquired (acquisition quality) and each account manager keeps.")
    ),
    "open_pipeline": (
        N_("Open opportunities at period end (as-of view): deals with created_at before the "
        "period end that were not closed by then (a deal won later was open then). Open value: "
        "the sum of the amounts known at the period end, never an amount set later: a deal's "
        "current amount counts only while the deal is still open (a deal won or lost since "
        "may have had its amount set by the close, so its amount then is unknown, unless an "
        "amount history gives the value it had). A missing amount is unknown, not 0; the "
        "count and share of open deals without a known amount are shown, and the value is "
        "not computable when more than half have none. Load: open deals / capacity of the "
        "reps with a capacity, rated against the 'load' baseline. Per rep, an open deal "
        "counts for its owner at the period end (the deal history's owner then).")
    ),
    "deal_history": (
        N_("Deal history: where the store holds a deal's versions (from the CRM's history, "
        "pulls, or full exports ingested over time), the open deals at a period end, their "
        "amount, stage, owner and days in stage are as the version in force just before "
        "the period end says. A change seen only between two monthly exports is dated at "
        "the later export. Deals the history does not reach back to follow the rule above.")
    ),
    "cohort_win_rate": (
        N_("Cohort win rate: of the opportunities created in month M, the share won within 30, "
        "60 and 90 days of creation; a horizon's rate exists only once the whole cohort has "
        "had that many days (no rate 'so far' for a cohort that is not mature).")
    ),
    "lead_conversion": (
        N_("Lead conversion at a maturity horizon learned from the data: H = the 90th "
        "percentile of days from creation to conversion of the leads converted so far "
        "(rounded up). Rate = leads created in the period that converted within H days of "
        "creation / leads created in the period, with the same H for the current period, "
        "the previous one and last year. A period is rated only once it is mature (period "
        "end + H before the data ends); before that it is shown as not rated yet.")
    ),
    "stage_funnel": (
        N_("Stage funnel: among deals closed in the period, those that reached each stage (its "
        "history shows that stage or a later one); conversion to the next stage = reached "
        "next / reached this one; 'lost here' = lost deals whose furthest stage it was.")
    ),
    "time_to_win": (
        N_("Time to win incl. open deals (next to the median cycle of won deals): the "
        "Aalen-Johansen cumulative incidence of winning, with losing a competing outcome and "
        "deals still open censored at the period end, of the deals created in the last 12 "
        "months; horizon H = the 90th percentile cycle of deals won in the last 12 months. "
        "The figure is the median days to win of the deals won within H (the first day by "
        "which half of them were won), so it compares with the median cycle of won deals "
        "but counts the slow deals still open; time to any close (fast losses) is not shown "
        "beside it.")
    ),
    "deal_bands": (
        N_("Deal-size bands: small / medium / large learned per business profile by KMeans (k=3) "
        "on log10 amounts of deals won in the 12 months before the period end; edges are the "
        "geometric midpoints between cluster centres. Band mix: each rep's share of won deals "
        "per band against the team's and the target mix in params/report.yaml.")
    ),
    "stale": (
        N_("Stale deal (one definition for the headline, the rep tables, the findings and the "
        "rating): open at period end and its last touch before the period end (last "
        "activity, last stage change or creation, whichever is latest) is more than the "
        "stale threshold before the period end; the threshold is stale_days in "
        "params/report.yaml, per stage where it is a mapping stage -> days (the stage the "
        "deal was in then; 'default' for the others). A store keeps only the latest "
        "activity: a deal worked after the period end that would be stale on the rest of the "
        "evidence is 'unknown'. Stale share = stale / open deals whose state is known; not "
        "computable (and not rated) when more than half are unknown, or when the data has "
        "neither activity dates nor stage history (age alone does not show neglect). Deals "
        "older than the 90th percentile cycle of deals won in the last 12 months are "
        "counted apart, not as stale.")
    ),
    "bloat": (
        N_("Bloat (months of pipeline): open deals at period end / deals the rep closed (won or "
        "lost) per month over the last 6 months.")
    ),
    "closed_when_tired": (
        N_("Lost when tired: among deals lost in the period, the share whose last activity "
        "was more than the stale threshold (of the stage they were lost from) before they "
        "were closed. Needs activity dates: without them it is not computable.")
    ),
    "churn": (
        N_("Churn: an account at least a year old with no revenue in the last 365 days; churn "
        "rate = churned / accounts at least a year old, per acquiring rep. Expansion per "
        "account: expansion revenue / accounts, per account manager.")
    ),
    "predicted_clv": (
        N_("Predicted customer value: revenue each account is expected to bring over the next "
        "12 months, from the model that backtests best on this company's revenue (BG/NBD "
        "with average spend, Gamma-Gamma spend, RFM segments, a gradient-boosted regressor "
        "or shifted-beta-geometric retention), scored by |aggregate error| + (1 - Spearman) "
        "on the last 6 months held out; averaged per acquiring rep and account manager.")
    ),
    "ratings": (
        N_("Ratings: good / watch / bad against params/baselines.yaml per business profile "
        "(team name patterns in params/report.yaml); a scope that mixes profiles is judged "
        "against the profiles' thresholds weighted by their share of deals closed; a win "
        "rate whose 95% interval is wider than max_interval_width is 'too few deals to judge'. "
        "Each rating sits on the tile of the figure it rates (win rate, lead conversion, "
        "median won cycle, open deals per rep rated by load, stale share). A figure the "
        "data cannot support is listed as not computable and never rated. A trailing "
        "baseline needs at least 10 deals in the trailing 12 months and a value above zero; "
        "otherwise the figure is not rated.")
    ),
}
