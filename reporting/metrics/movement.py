"""Pipeline movement between two instants, and close-date slippage, from the deal history.

**Pipeline** at an instant ``t`` (the state just *before* ``t``, the convention of
:func:`reporting.history.state_at`): the deals open then whose expected close date then is
before ``close_by`` (a deal with no known expected close date counts as in; ``close_by=None``:
every open deal). Its value is the sum of the amounts known then; a deal whose amount is
unknown counts in the ``*_count`` columns and adds nothing to the value (never 0 as if known).

**Movement** over ``[start, end)``: each deal's states are walked from ``start`` through every
instant in the window where its state can change (a version's ``valid_from`` or ``valid_to``
in ``opportunity_history``; creation, close and deletion dates where the history does not
cover the deal) up to ``end``, and every transition between two consecutive states is
classified:

- into the pipeline: ``created`` (the deal did not exist before), ``pulled_in`` (open, its
  expected close date moved from on/after ``close_by`` to before it), ``reopened`` (it was won
  or lost), ``restored`` (it had been deleted in the CRM), ``transferred_in`` (grouped by rep:
  the owner changed to this rep while the deal stayed in);
- out of the pipeline: ``won``, ``lost``, ``pushed_out`` (expected close date moved to on/after
  ``close_by``), ``deleted`` (deleted in the CRM), ``transferred_out`` (the owner changed away);
- within the pipeline: ``increased`` / ``decreased`` (the amount changed, by the difference),
  ``amount_set`` (an unknown amount became known) and ``amount_cleared`` (a known amount became
  unknown).

A deal entering counts at the amount it has once in, a deal leaving at the amount it had while
in (a win whose amount changes at the close leaves at its pipeline amount); an owner handover
moves the deal at its amount before the change and any simultaneous amount change counts in the
new owner's group. So, in every group, exactly (in integer cents, each amount rounded to the cent
first):

``start + created + pulled_in + reopened + restored + transferred_in + increased + amount_set
- decreased - amount_cleared - pushed_out - won - lost - deleted - transferred_out = end``

and the same with counts (``start_count + entering moves - leaving moves = end_count``).
:func:`residual_cents` checks it.

**Without history** (no versions, or deals the versions do not cover) a deal's state follows
the current row's rules of :func:`reporting.history.state_at`: it enters at creation, leaves at
its close, its expected close date and amount are known only while it is still open (so a deal
closed since moved with an unknown amount) and nothing is known of pushes, pulls or amount
changes: ``history_known`` is False and ``frame.attrs["notes"]`` says so.

One deviation from :func:`state_at`: a deal whose versions have a gap (deleted in the CRM, then
restored) is out of the pipeline during the gap (``deleted`` then ``restored``) where
``state_at`` would show the current row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import ParamsError
from ..i18n import N_
from .pipeline import MAX_UNKNOWN_SHARE

COMPONENTS = ("created", "pulled_in", "increased", "decreased", "pushed_out", "won", "lost")
EXTRAS = ("reopened", "restored", "deleted", "transferred_in", "transferred_out",
          "amount_set", "amount_cleared")
#: the sign of each component in the identity
SIGN = {"created": 1, "pulled_in": 1, "increased": 1, "decreased": -1, "pushed_out": -1,
        "won": -1, "lost": -1, "reopened": 1, "restored": 1, "deleted": -1,
        "transferred_in": 1, "transferred_out": -1, "amount_set": 1, "amount_cleared": -1}
#: components that move a deal in or out (the count identity); the others change its value
ENTERING = ("created", "pulled_in", "reopened", "restored", "transferred_in")
LEAVING = ("pushed_out", "won", "lost", "deleted", "transferred_out")
NO_HISTORY_NOTE = ("no deal history: movement from creation and close dates only (deals enter "
                   "when created and leave when closed; pushes, pulls and amount changes are "
                   "not known; amounts of deals closed since are unknown)")
PARTIAL_HISTORY_NOTE = ("deal history covers {known} of {total} deals; the others move on "
                        "creation and close dates only")

_NS = "datetime64[ns]"


def _by_column(by: str | None) -> str | None:
    if by in ("rep", "owner"):
        return "owner"
    if by is None or by in ("team", "region"):
        return by
    raise ParamsError(f"parameter by={by!r} is not a grouping of pipeline movement; "
                      "use 'rep', 'team', 'region' or None")


def _ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).astype(_NS)


def _cents(x: np.ndarray) -> np.ndarray:
    """Amounts as integer cents (NaN stays NaN, as float)."""
    return np.round(np.asarray(x, dtype=float) * 100.0)


def _points(o: pd.DataFrame, v: pd.DataFrame, start: pd.Timestamp,
            end: pd.Timestamp) -> pd.DataFrame:
    """Every instant at which each deal's state can change inside ``[start, end)`` (evaluated
    just after it), plus ``start`` and ``end`` (evaluated just before them)."""
    ids = o["opportunity_id"].to_numpy(dtype=object)
    t0, t1 = np.datetime64(start, "ns"), np.datetime64(end, "ns")
    cid = [v["opportunity_id"].to_numpy(dtype=object)] * 2 + [ids] * 3
    ct = [v["valid_from"].to_numpy(dtype=_NS), v["valid_to"].to_numpy(dtype=_NS)]
    ct += [o[c].to_numpy(dtype=_NS) if c in o else np.full(len(o), np.datetime64("NaT"), _NS)
           for c in ("created_at", "closed_at", "deleted_at")]
    eid, et = np.concatenate(cid), np.concatenate(ct)
    keep = ~np.isnat(et) & (et >= t0) & (et < t1)
    ev = pd.DataFrame({"opportunity_id": eid[keep], "t": et[keep]}).drop_duplicates()
    n, m = len(ids), len(ev)
    p = pd.DataFrame({
        "opportunity_id": np.concatenate([ids, ids, ev["opportunity_id"].to_numpy(dtype=object)]),
        "t": np.concatenate([np.full(n, t0), np.full(n, t1), ev["t"].to_numpy(dtype=_NS)]),
        "after": np.concatenate([np.zeros(2 * n, dtype=bool), np.ones(m, dtype=bool)]),
        "k": np.concatenate([np.zeros(n, dtype=int), np.full(n, 2), np.ones(m, dtype=int)]),
    })
    return p.sort_values(["opportunity_id", "k", "t"], kind="stable", ignore_index=True)


def _states(o: pd.DataFrame, v: pd.DataFrame, p: pd.DataFrame,
            close_by: pd.Timestamp | None, by: str | None) -> pd.DataFrame:
    """The state of each deal at each point of :func:`_points`, under the rules of
    :func:`reporting.history.state_at`: in the pipeline or why not, amount, group."""
    n = len(p)
    after = p["after"].to_numpy(dtype=bool)
    t = p["t"].to_numpy(dtype=_NS)
    nat = np.full(n, np.datetime64("NaT"), _NS)
    pid = p["opportunity_id"].to_numpy(dtype=object)
    # the current row of each point's deal, by position
    codes, uniq = pd.factorize(pd.concat([o["opportunity_id"], v["opportunity_id"]],
                                         ignore_index=True))
    ocode = codes[:len(o)]
    row_of = np.full(len(uniq), -1)
    row_of[ocode] = np.arange(len(o))
    pcode = pd.Index(uniq).get_indexer(pid)
    prow = row_of[pcode]

    def cur(col: str, dtype) -> np.ndarray:
        return o[col].to_numpy(dtype=dtype)[prow]

    covered = np.zeros(n, dtype=bool)
    gap = np.zeros(n, dtype=bool)
    v_status = np.full(n, None, dtype=object)
    v_amount = np.full(n, np.nan)
    v_close, v_owner = nat.copy(), np.full(n, None, dtype=object)
    if len(v):
        # the version in force: the last one starting at or before t (after) / before t
        # (before), found with one sorted search over (deal, time rank) keys
        vcode = codes[len(o):]
        vf_all = v["valid_from"].to_numpy(dtype=_NS)
        times = np.unique(np.concatenate([vf_all, t]).astype(np.int64))
        width = len(times) + 1
        vkey = vcode.astype(np.int64) * width + np.searchsorted(times, vf_all.astype(np.int64))
        order = np.argsort(vkey, kind="stable")
        vkey = vkey[order]
        pkey = pcode.astype(np.int64) * width + np.searchsorted(times, t.astype(np.int64))
        j = np.where(after, np.searchsorted(vkey, pkey, side="right"),
                     np.searchsorted(vkey, pkey, side="left")) - 1
        jj = np.clip(j, 0, None)
        has = (j >= 0) & (vkey[jj] // width == pcode)
        pos = order[jj]
        vt = v["valid_to"].to_numpy(dtype=_NS)[pos]
        open_end = np.isnat(vt)
        inside = np.where(after, open_end | (vt > t), open_end | (vt >= t))
        covered = has & inside
        last = pd.Series(vf_all).groupby(vcode).max()
        later = np.full(len(uniq), np.datetime64("NaT"), _NS)
        later[last.index.to_numpy()] = last.to_numpy(dtype=_NS)
        later = later[pcode]
        gap = has & ~inside & ~np.isnat(later) & (later > t)  # deleted, restored later
        v_status = np.where(covered, v["status"].to_numpy(dtype=object)[pos], None)
        v_amount = np.where(covered, v["amount"].to_numpy(dtype=float)[pos], np.nan)
        v_close = np.where(covered, v["close_date"].to_numpy(dtype=_NS)[pos], nat)
        v_owner = np.where(covered, v["owner"].to_numpy(dtype=object)[pos], None)
    created = cur("created_at", _NS)
    closed = cur("closed_at", _NS)
    cur_status = cur("status", object)
    now_open = cur_status == "open"
    cur_amount = cur("amount", float)
    cur_exp = cur("expected_close_date", _NS)
    exists = np.where(after, created <= t, created < t)
    if "deleted_at" in o:
        d = cur("deleted_at", _NS)
        gone = ~np.isnat(d) & np.where(after, d <= t, d < t)
        exists &= ~gone
    still_open = np.isnat(closed) | np.where(after, closed > t, closed >= t)
    status_f = np.where(still_open, "open", cur_status)
    vstatus = v_status
    status = np.where(pd.notna(vstatus), vstatus, status_f).astype(object)
    amount = np.where(np.isnan(v_amount), np.where(now_open, cur_amount, np.nan), v_amount)
    v_exp = np.where(pd.isna(vstatus) | (vstatus == "open"), v_close, nat)
    exp = np.where(np.isnat(v_exp), np.where(now_open, cur_exp, nat), v_exp)
    owner = np.where(pd.notna(v_owner), v_owner, cur("owner", object))
    exists = (exists | covered) & ~gap
    is_open = exists & (status == "open")
    if close_by is None:
        later_close = np.zeros(n, dtype=bool)
    else:
        later_close = ~np.isnat(exp) & (exp >= np.datetime64(pd.Timestamp(close_by), "ns"))
    in_pipe = is_open & ~later_close
    why = np.select(
        [in_pipe, gap | (~exists & (created < t)), ~exists, status == "won", status == "lost",
         is_open],
        ["in", "deleted", "absent", "won", "lost", "later"], "lost")
    col = _by_column(by)
    if col is None:
        group = np.full(n, "all", dtype=object)
    elif col == "owner":
        group = owner
    else:
        group = cur(col, object)
    group = np.where(pd.notna(group), group, "(none)")
    return pd.DataFrame({
        "opportunity_id": pid, "t": t, "after": after, "k": p["k"].to_numpy(),
        "in": in_pipe, "why": why, "cents": _cents(amount), "amount": amount,
        "group": group, "owner": owner, "covered": covered,
    })


def _walk(opps: pd.DataFrame, versions: pd.DataFrame | None, start, end,
          close_by=None, by: str | None = None) -> tuple[pd.DataFrame, dict]:
    """The moves of every deal over ``[start, end)``: one row per (deal, instant, component)
    with its group, signed-free ``cents`` (0 where the amount is unknown) and ``known``; plus
    the ``start`` and ``end`` rows of the deals in the pipeline then."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end < start:
        raise ParamsError(f"pipeline movement: end {end} is before start {start}; "
                          "give the window as start, end with start <= end")
    o = opps.copy()
    for c in ("created_at", "closed_at", "expected_close_date", "deleted_at"):
        if c in o:
            o[c] = _ts(o[c])
    if "expected_close_date" not in o:
        o["expected_close_date"] = pd.Series(pd.NaT, index=o.index, dtype=_NS)
    v = versions if versions is not None else None
    if v is not None and len(v):
        v = v[v["opportunity_id"].isin(o["opportunity_id"])].copy()
        v["valid_from"] = _ts(v["valid_from"])
        v["valid_to"] = _ts(v["valid_to"])
        v["close_date"] = _ts(v["close_date"])
        v = v[(v["valid_from"] < end) & (v["valid_to"].isna() | (v["valid_to"] >= start))]
    else:
        v = pd.DataFrame(columns=["opportunity_id", "valid_from", "valid_to", "status",
                                  "amount", "close_date", "owner"])
    touched = (o["created_at"] < end) & (
        o["closed_at"].isna() | (o["closed_at"] >= start)
        | o["opportunity_id"].isin(v["opportunity_id"]))
    o = o[touched]
    v = v[v["opportunity_id"].isin(o["opportunity_id"])]
    s = _states(o, v, _points(o, v, start, end), close_by, by)
    info = {"deals": int(o["opportunity_id"].nunique()),
            "history_deals": int(v["opportunity_id"].nunique())}
    same = s["opportunity_id"].eq(s["opportunity_id"].shift(-1)).to_numpy()
    sid, st_, sg, so = (s[c].to_numpy() for c in ("opportunity_id", "t", "group", "owner"))
    ia, ib = np.flatnonzero(same), np.flatnonzero(same) + 1
    parts: list[tuple] = []  # (row positions in s, component, cents, time positions)

    def emit(mask, comp, rows, cents, at=None):
        if mask.any():
            parts.append((rows[mask], comp, np.asarray(cents)[mask],
                          (ib if at is None else at)[mask]))

    sin, why, cents = s["in"].to_numpy(), s["why"].to_numpy(), s["cents"].to_numpy()
    ina, inb, wa, wb = sin[ia], sin[ib], why[ia], why[ib]
    ca, cb = cents[ia], cents[ib]
    leave, enter, stay = ina & ~inb, ~ina & inb, ina & inb
    for comp, w in (("won", "won"), ("lost", "lost"), ("pushed_out", "later"),
                    ("deleted", "deleted"), ("deleted", "absent")):
        emit(leave & (wb == w), comp, ia, ca)
    for comp, w in (("created", "absent"), ("pulled_in", "later"), ("reopened", "won"),
                    ("reopened", "lost"), ("restored", "deleted")):
        emit(enter & (wa == w), comp, ib, cb)
    moved = stay & (sg[ia] != sg[ib])
    emit(moved, "transferred_out", ia, ca)
    emit(moved, "transferred_in", ib, ca)
    both = ~np.isnan(ca) & ~np.isnan(cb)
    diff = np.where(both, cb - ca, 0.0)
    emit(stay & both & (diff > 0), "increased", ib, diff)
    emit(stay & both & (diff < 0), "decreased", ib, -diff)
    emit(stay & np.isnan(ca) & ~np.isnan(cb), "amount_set", ib, cb)
    emit(stay & ~np.isnan(ca) & np.isnan(cb), "amount_cleared", ib, ca)
    k = s["k"].to_numpy()
    every = np.arange(len(s))
    for kk, comp in ((0, "start"), (2, "end")):
        emit((k == kk) & sin, comp, every, cents, at=every)
    if parts:
        rows = np.concatenate([p[0] for p in parts])
        c = np.concatenate([p[2] for p in parts])
        moves = pd.DataFrame({
            "opportunity_id": sid[rows], "at": st_[np.concatenate([p[3] for p in parts])],
            "group": sg[rows], "owner": so[rows],
            "component": np.concatenate([np.full(len(p[0]), p[1], dtype=object)
                                         for p in parts]),
            "cents": np.nan_to_num(c, nan=0.0).astype(np.int64), "known": ~np.isnan(c)})
    else:
        moves = pd.DataFrame({"opportunity_id": pd.Series(dtype=object),
                              "at": pd.Series(dtype=_NS), "group": pd.Series(dtype=object),
                              "owner": pd.Series(dtype=object),
                              "component": pd.Series(dtype=object),
                              "cents": pd.Series(dtype=np.int64),
                              "known": pd.Series(dtype=bool)})
    hist_ids = set(v["opportunity_id"])
    info["group_deals"] = s.groupby("group")["opportunity_id"].nunique().to_dict()
    info["group_history_deals"] = (
        s[s["opportunity_id"].isin(hist_ids)].groupby("group")["opportunity_id"]
        .nunique().to_dict())
    return moves, info


def movement_deals(opps: pd.DataFrame, versions: pd.DataFrame | None, start, end,
                   close_by=None) -> pd.DataFrame:
    """The deals behind each bar of :func:`pipeline_movement` (ungrouped): one row per deal
    and component, with the rep who owned the deal at that move. ``amount`` is the value the
    component counts for the deal (summed over its moves of that kind; NaN when every move had
    an unknown amount), ``moves`` how many times. ``start`` / ``end`` rows are the deals in the
    pipeline then. Columns: opportunity_id, owner, component, amount, moves, amount_known."""
    moves, _ = _walk(opps, versions, start, end, close_by, by=None)
    cols = ["opportunity_id", "owner", "component", "amount", "moves", "amount_known"]
    if not len(moves):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    g = moves.groupby(["opportunity_id", "owner", "component"], sort=False, dropna=False)
    out = g.agg(cents=("cents", "sum"), moves=("cents", "size"),
                amount_known=("known", "any")).reset_index()
    out["amount"] = (out["cents"] / 100.0).where(out["amount_known"])
    order = {c: i for i, c in enumerate(("start", *COMPONENTS, *EXTRAS, "end"))}
    out = out.sort_values(["component", "opportunity_id"], key=lambda s: s.map(order)
                          if s.name == "component" else s, kind="stable")
    return out[cols].reset_index(drop=True)


def pipeline_movement(opps: pd.DataFrame, versions: pd.DataFrame | None, start, end,
                      close_by=None, by: str | None = None) -> pd.DataFrame:
    """The pipeline's value at ``start`` and ``end`` and every movement between (module
    docstring), one row per group (``by``: "rep", "team", "region"; None: one row ``all``).

    Columns: group, start_value, created, pulled_in, increased, decreased, pushed_out, won,
    lost, end_value, then reopened, restored, deleted, transferred_in, transferred_out,
    amount_set, amount_cleared (values, in the amounts' currency, each a sum of whole cents;
    components are positive, their sign is in :data:`SIGN`), start_count, the ``*_count`` of
    each component (moves: a deal pushed out twice counts twice), end_count,
    start_unknown_count / end_unknown_count (deals in the pipeline with no known amount),
    unknown_moves (moves of a deal whose amount was unknown: counted, worth nothing),
    deals, history_deals (deals with versions in the window), history_known (every deal of
    the group has versions) and value_computable: False when more than half of the deals and
    moves of the group (start, end and every move) have no known amount (the rule of
    :func:`reporting.metrics.core.open_pipeline`); the value columns are then NaN (not
    computable, not 0) and only the counts tell the movement. ``attrs["notes"]`` says when the
    history is missing or partial.
    """
    moves, info = _walk(opps, versions, start, end, close_by, by)
    comps = ("start", *COMPONENTS, *EXTRAS, "end")
    grouped = moves.groupby(["group", "component"])["cents"]
    cents = grouped.sum().unstack() if len(moves) else pd.DataFrame()
    counts = grouped.size().unstack() if len(moves) else pd.DataFrame()
    groups = sorted(set(info["group_deals"]) | set(cents.index), key=str)
    if _by_column(by) is None:
        groups = ["all"]
    cents = cents.reindex(index=groups, columns=list(comps)).fillna(0).astype(np.int64)
    counts = counts.reindex(index=groups, columns=list(comps)).fillna(0).astype(np.int64)
    shown = ("start", *COMPONENTS, "end", *EXTRAS)
    cols: dict[str, np.ndarray] = {"group": np.array(groups, dtype=object)}
    cv, nv = cents.to_numpy(), counts.to_numpy()
    pos = {c: i for i, c in enumerate(comps)}
    for c in shown:
        cols[{"start": "start_value", "end": "end_value"}.get(c, c)] = cv[:, pos[c]] / 100.0
    for c in shown:
        cols[f"{c}_count"] = nv[:, pos[c]]
    unknown = moves[~moves["known"]]
    ucount = unknown.groupby(["group", "component"]).size().unstack().reindex(
        index=groups, columns=list(comps)).fillna(0).astype(int).to_numpy()
    cols["start_unknown_count"] = ucount[:, pos["start"]]
    cols["end_unknown_count"] = ucount[:, pos["end"]]
    cols["unknown_moves"] = ucount.sum(axis=1) - cols["start_unknown_count"] \
        - cols["end_unknown_count"]
    deals = np.array([info["group_deals"].get(g, 0) for g in groups], dtype=int)
    hist = np.array([info["group_history_deals"].get(g, 0) for g in groups], dtype=int)
    cols["deals"], cols["history_deals"] = deals, hist
    cols["history_known"] = (deals > 0) & (hist == deals)
    moved = nv.sum(axis=1)
    unknown_all = ucount.sum(axis=1)
    ok = unknown_all <= MAX_UNKNOWN_SHARE * moved
    cols["value_computable"] = ok
    for c in shown:
        name = {"start": "start_value", "end": "end_value"}.get(c, c)
        cols[name] = np.where(ok, cols[name], np.nan)
    out = pd.DataFrame(cols)
    notes = []
    if info["history_deals"] == 0:
        notes.append(NO_HISTORY_NOTE)
    elif info["history_deals"] < info["deals"]:
        notes.append(PARTIAL_HISTORY_NOTE.format(known=info["history_deals"],
                                                 total=info["deals"]))
    out.attrs["notes"] = notes
    out.attrs["history_known"] = info["deals"] > 0 and info["history_deals"] == info["deals"]
    return out


def residual_cents(row) -> int | None:
    """end - (start + the signed components), in whole cents: 0 when the row reconciles
    (None for a row whose value is not computable)."""
    if "value_computable" in row and not row["value_computable"]:
        return None

    def c(x) -> int:
        return int(round(float(x) * 100))
    total = c(row["start_value"]) + sum(SIGN[k] * c(row[k]) for k in SIGN)
    return c(row["end_value"]) - total


def residual_count(row) -> int:
    """end_count - (start_count + entering - leaving moves): 0 when the counts reconcile."""
    return int(row["end_count"] - row["start_count"] - sum(row[f"{k}_count"] for k in ENTERING)
               + sum(row[f"{k}_count"] for k in LEAVING))


# --------------------------------------------------------------------------- slippage


def _pushes(opps: pd.DataFrame, versions: pd.DataFrame | None, end) -> pd.DataFrame:
    """Every close-date push before ``end``: consecutive versions of a deal, both open, the
    expected close date later in the second. Columns: opportunity_id, at, old, new, amount
    (the amount before the push), owner (the owner before it)."""
    if versions is None or not len(versions):
        return pd.DataFrame({"opportunity_id": pd.Series(dtype=object),
                             "at": pd.Series(dtype=_NS), "old": pd.Series(dtype=_NS),
                             "new": pd.Series(dtype=_NS), "amount": pd.Series(dtype=float),
                             "owner": pd.Series(dtype=object)})
    v = versions[versions["opportunity_id"].isin(opps["opportunity_id"])
                 & (versions["valid_from"] < pd.Timestamp(end))]
    v = v.sort_values(["opportunity_id", "valid_from"], kind="stable")
    prev = v.shift(1)
    same = v["opportunity_id"].eq(prev["opportunity_id"])
    old, new = _ts(prev["close_date"]), _ts(v["close_date"])
    push = same & v["status"].eq("open") & prev["status"].eq("open") & (new > old)
    owner = prev["owner"].where(prev["owner"].notna(), v["opportunity_id"].map(
        opps.set_index("opportunity_id")["owner"]))
    out = pd.DataFrame({"opportunity_id": v["opportunity_id"], "at": _ts(v["valid_from"]),
                        "old": old, "new": new, "amount": prev["amount"].astype(float),
                        "owner": owner})
    return out[push.to_numpy()].reset_index(drop=True)


def slipped_deals(opps: pd.DataFrame, versions: pd.DataFrame | None, start, end) -> pd.DataFrame:
    """Per deal open at some time in ``[start, end)``: its close-date pushes in the window
    (``pushes``) and since its creation up to ``end`` (``pushes_total``; only as far back as
    the versions given reach), the expected close date it first had and the one it had at the
    end of the window (or its close), days slipped between them, whether it was pushed out of
    the period (from before ``end`` to on/after ``end``, in the window) and the value that
    left (its amount before that push). ``owner``: the owner in the last version in force in
    the window (the current owner without history). Without history the push columns are NaN
    (not known). Columns: opportunity_id, owner, team, region, amount, pushes, pushes_total,
    first_close_date, last_close_date, days_slipped, pushed_out_of_period,
    value_pushed_out, history_known."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    o = opps[(opps["created_at"] < end)
             & (opps["closed_at"].isna() | (opps["closed_at"] >= start))].copy()
    has_v = versions is not None and len(versions) > 0
    v = (versions[versions["opportunity_id"].isin(o["opportunity_id"])
                  & (versions["valid_from"] < end)]
         if has_v else pd.DataFrame(columns=["opportunity_id", "valid_from", "close_date",
                                             "status", "owner", "amount"]))
    v = v.sort_values(["opportunity_id", "valid_from"], kind="stable")
    known = o["opportunity_id"].isin(v["opportunity_id"])
    pushes = _pushes(o, v, end)
    inw = pushes[pushes["at"] >= start]
    out_p = inw[(inw["old"] < end) & (inw["new"] >= end)]
    ids = o["opportunity_id"]
    last = v.groupby("opportunity_id").last()
    openv = v[v["status"].eq("open")]
    first_exp = openv.groupby("opportunity_id")["close_date"].first()
    last_exp = openv.groupby("opportunity_id")["close_date"].last()
    out = pd.DataFrame({"opportunity_id": ids.to_numpy()})
    owner = ids.map(last["owner"]) if len(last) else pd.Series(None, index=ids.index)
    out["owner"] = np.where(owner.notna(), owner, o["owner"]).astype(object)
    for c in ("team", "region"):
        out[c] = o[c].to_numpy() if c in o else None
    amt = ids.map(last["amount"]) if len(last) else pd.Series(np.nan, index=ids.index)
    out["amount"] = np.where(known, amt.astype(float),
                             o["amount"].where(o["status"].eq("open")).astype(float))
    kn = known.to_numpy()
    out["pushes"] = np.where(kn, ids.map(inw.groupby("opportunity_id").size())
                             .fillna(0).to_numpy(dtype=float), np.nan)
    out["pushes_total"] = np.where(kn, ids.map(pushes.groupby("opportunity_id").size())
                                   .fillna(0).to_numpy(dtype=float), np.nan)
    crossed = inw[inw["new"].dt.to_period("Q") > inw["old"].dt.to_period("Q")]
    out["quarter_pushes"] = np.where(kn, ids.map(crossed.groupby("opportunity_id").size())
                                     .fillna(0).to_numpy(dtype=float), np.nan)
    cur_exp = (_ts(o["expected_close_date"]).where(o["status"].eq("open"))
               if "expected_close_date" in o else pd.Series(pd.NaT, index=o.index))
    out["first_close_date"] = _ts(ids.map(first_exp)).where(kn, pd.NaT).to_numpy()
    out["last_close_date"] = np.where(kn, _ts(ids.map(last_exp)).to_numpy(dtype=_NS),
                                      cur_exp.to_numpy(dtype=_NS))
    out["days_slipped"] = (pd.to_datetime(out["last_close_date"])
                           - pd.to_datetime(out["first_close_date"])) / pd.Timedelta(days=1)
    n_out = ids.map(out_p.groupby("opportunity_id").size()).fillna(0).to_numpy()
    out["pushed_out_of_period"] = np.where(kn, n_out > 0, np.nan).astype(object)
    # NaN: not known (no history, or pushed out with an unknown amount); 0: not pushed out
    pushed_value = ids.map(out_p.groupby("opportunity_id")["amount"].sum(min_count=1)
                           ).to_numpy(dtype=float)
    out["value_pushed_out"] = np.where(kn, np.where(n_out > 0, pushed_value, 0.0), np.nan)
    out["history_known"] = kn
    return out


def slippage(opps: pd.DataFrame, versions: pd.DataFrame | None, start, end,
             by: str = "owner", deals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Close-date slippage per group (``by``: "owner"/"rep", "team", "region"), from
    :func:`slipped_deals`. A push: the expected close date moved later between two
    consecutive versions of an open deal (not at a close or a reopening).

    Columns: group, deals (open at some time in ``[start, end)``), pushes (in the window),
    pushes_per_deal, pushed_deals (pushed at least once in the window), pushed_twice (deals
    pushed 2+ times since creation up to ``end``), share_pushed_twice (of ``deals``),
    value_pushed_out (pushed from before ``end`` to on/after ``end``, in the window, at the
    amount before the push; unknown amounts count as nothing), pushed_out_count,
    history_known (deals with history / deals; the push figures are over those deals only:
    NaN when none has history). Sorted by pushes_per_deal, highest first. ``deals``: the
    result of ``slipped_deals(opps, versions, start, end)`` when the caller has it (the
    report needs both; at 1M opportunities each call is ~4 s)."""
    d = slipped_deals(opps, versions, start, end) if deals is None else deals
    col = _by_column(by) or "owner"
    g = d[col].fillna("(none)")
    k = d["history_known"]
    agg = pd.DataFrame({
        "deals": d.groupby(g).size(),
        "known": k.groupby(g).sum(),
        "pushes": d["pushes"].groupby(g).sum(min_count=1),
        "quarter_pushes": d["quarter_pushes"].groupby(g).sum(min_count=1),
        "pushed_deals": (d["pushes"] > 0).groupby(g).sum(),
        "pushed_twice": (d["pushes_total"] >= 2).groupby(g).sum(),
        "value_pushed_out": d["value_pushed_out"].groupby(g).sum(min_count=1),
        "pushed_out_count": (d["pushed_out_of_period"] == True).groupby(g).sum(),  # noqa: E712
    })
    agg.index.name = "group"
    known = agg["known"].where(agg["known"] > 0)
    agg["pushes_per_deal"] = agg["pushes"] / known
    agg["quarter_pushes_per_deal"] = agg["quarter_pushes"] / known
    agg["share_pushed_twice"] = (agg["pushed_twice"] / known).where(known.notna())
    agg["history_known"] = agg["known"] / agg["deals"]
    for c in ("pushes", "quarter_pushes", "pushed_deals", "pushed_twice", "pushed_out_count"):
        agg[c] = agg[c].where(known.notna())
    agg["value_pushed_out"] = agg["value_pushed_out"].where(known.notna())
    agg = agg.drop(columns="known").reset_index()
    cols = ["group", "deals", "pushes", "pushes_per_deal", "quarter_pushes",
            "quarter_pushes_per_deal", "pushed_deals", "pushed_twice",
            "share_pushed_twice", "value_pushed_out", "pushed_out_count", "history_known"]
    return agg[cols].sort_values(["pushes_per_deal", "group"], ascending=[False, True],
                                 na_position="last", ignore_index=True)


DEFINITIONS: dict[str, str] = {
    "pipeline_movement": (
        N_("Pipeline movement: the open pipeline (deals open just before the instant whose expected "
        "close date then is before the forecast horizon; no known date counts as in) at the start "
        "and end of the window, and every change between, from each deal's versions: created, "
        "pulled in (close date moved into the horizon), amount increases and decreases, pushed "
        "out (close date moved past the horizon), won, lost, and, where they occur, reopened, "
        "restored or deleted deals, an amount becoming known or unknown, and, per rep, deals "
        "handed over between reps. A deal leaves at the amount it had in the pipeline. start + "
        "the movements = end, to the cent. Without deal history only creation and close dates "
        "are known: deals enter when created and leave when closed, with unknown amounts for "
        "deals closed since.")
    ),
    "slippage": (
        N_("Close-date slippage: a push is an open deal's expected close date moved later from one "
        "version to the next. Per rep: pushes in the period per deal open in it, the share of "
        "those deals pushed two or more times since creation, and the value pushed out of the "
        "period (close date moved from before the period end to after it, at the amount before "
        "the push). Needs deal history: without it, not computable.")
    ),
}
