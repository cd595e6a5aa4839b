"""The store's text columns share one Python object per distinct value
(:func:`reporting.store._shared_text`): the values, their order, the dtype and the missing
values are those DuckDB gave; only the copies are gone."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.store import _shared_text

TEXT = st.one_of(st.none(), st.sampled_from(["Closed Won", "Prospecting", "", "é", "0"]),
                 st.text(max_size=3))


@settings(max_examples=60, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=40), st.integers(1000, 1300), st.integers(0, 5),
       st.lists(TEXT, max_size=800))
def test_same_values_one_object_each(values, n, offset, tail):
    # copies of equal strings, as DuckDB makes them (not the interned literals)
    copies = [None if v is None else "".join(list(v)) for v in (values * n)[:n] + tail]
    col = pd.Series(np.array(copies, dtype=object), index=np.arange(len(copies)) + offset,
                    name="stage")
    out = _shared_text(col)
    assert out.dtype == object and out.name == "stage" and out.index.equals(col.index)
    assert [None if v is None else v for v in out] == copies  # None stays None, not NaN
    assert all((a is None) == (b is None) for a, b in zip(out, copies, strict=True))
    distinct = {v for v in copies if v is not None}
    if 2 * (len(distinct) + (None in copies)) <= len(copies):
        assert len({id(v) for v in out if v is not None}) == len(distinct)


def test_mostly_distinct_and_short_columns_are_left_alone():
    ids = pd.Series([f"OPP-{i}" for i in range(5000)], dtype=object)
    assert _shared_text(ids) is ids
    short = pd.Series(["a", "a", "a"], dtype=object)
    assert _shared_text(short) is short


def test_loaded_tables_come_in_their_keys_order(demo_store):
    """A parallel scan returns a filtered table in a different order from one read to the
    next (and sums over it then differ in their last digit): the history, the accounts
    and the revenue are read in their keys' order, the same on every read."""
    from reporting import store
    from reporting.periods import parse_period
    from reporting.schema import TABLES

    p = parse_period("2026-10")
    d = store.load(demo_store, region="EMEA", since=p.start - pd.DateOffset(months=13),
                   until=p.end)
    acc, rev = store.load_customers(demo_store, region="EMEA", until=p.end)
    for name, frame in (("opportunity_history", d.opportunity_history),
                        ("stage_history", d.stage_history), ("accounts", d.accounts),
                        ("revenue", d.revenue), ("accounts", acc), ("revenue", rev)):
        key = list(TABLES[name].key)
        assert len(frame), name
        assert frame[key].equals(frame.sort_values(key, kind="stable")[key]), name


def test_a_read_a_chunk_at_a_time_gives_the_whole_result(demo_store, monkeypatch):
    """``store._frame`` turns a result into pandas ~65k rows at a time (the Python strings
    of one chunk at once): the same frame as ``.df()`` of the whole result, dtypes, index
    and missing values included, for every table and for an empty result; and equal
    strings are one object across chunks, not one per chunk."""
    import duckdb

    from reporting import store
    monkeypatch.setattr(store, "FETCH_VECTORS", 1)  # 2,048 rows a chunk: many chunks
    con = duckdb.connect(str(demo_store), read_only=True)
    try:
        for name in ("opportunities", "opportunity_history", "stage_history", "leads",
                     "accounts", "revenue", "reps"):
            for where in ("TRUE", "FALSE"):
                sql = f'SELECT * FROM "{name}" t WHERE {where}{store._order(name, "t")}'
                whole = store._coerce(con.execute(sql).df(), name)
                chunked = store._frame(con, sql, [], name)
                pd.testing.assert_frame_equal(chunked, whole, check_exact=True)
                assert chunked.dtypes.equals(whole.dtypes), (name, where)
        versions = store._frame(con, "SELECT * FROM opportunity_history t"
                                + store._order("opportunity_history", "t"), [],
                                "opportunity_history")
    finally:
        con.close()
    assert len(versions) > 4 * 2048
    stages = versions["stage"].dropna()
    assert len({id(v) for v in stages}) == stages.nunique()
