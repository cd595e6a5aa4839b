"""A big demo store is generated in chunks: small scales are the plain generator's data,
chunks add up to one company (distinct ids and people, summed team quotas)."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from reporting import demo
from reporting.store import replace_all_chunks

END = date(2026, 10, 31)


def test_one_chunk_is_the_plain_generator():
    (only,) = list(demo.generate_chunks(seed=3, scale=0.1, end=END, chunk_scale=0.2))
    plain = demo.generate(seed=3, scale=0.1, end=END)
    assert only.keys() == plain.keys()
    for name in plain:
        pd.testing.assert_frame_equal(only[name], plain[name])


def test_chunks_are_distinct_and_add_up(tmp_path):
    chunks = list(demo.generate_chunks(seed=3, scale=0.2, end=END, chunk_scale=0.1))
    assert len(chunks) == 2
    opps = pd.concat([c["opportunities"] for c in chunks])
    assert opps["opportunity_id"].is_unique
    reps = pd.concat([c["reps"] for c in chunks])
    assert reps["rep_id"].is_unique
    assert set(opps["owner"]) <= set(reps["rep_id"])
    assert "stages" in chunks[0] and "stages" not in chunks[1]
    accounts = pd.concat([c["accounts"] for c in chunks])
    assert accounts["account_id"].is_unique
    assert set(opps["account_id"].dropna()) <= set(accounts["account_id"])
    # team and region quotas are the sum over the chunks, once per scope and period
    q = pd.concat([c["quotas"] for c in chunks])
    groups = q[q["scope_type"] != "rep"]
    assert not groups.duplicated(["scope_type", "scope", "period"]).any()
    plain = [demo.generate(seed=3 + 7919 * i, scale=0.1, end=END)["quotas"] for i in range(2)]
    raw = pd.concat(plain)
    raw = raw[raw["scope_type"] != "rep"]
    assert groups["amount"].sum() == raw["amount"].sum()
    assert set(q.loc[q["scope_type"] == "rep", "scope"]) <= set(reps["rep_id"])

    path = tmp_path / "chunks.duckdb"
    counts = replace_all_chunks(path, iter(chunks))
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT COUNT(*) FROM opportunities").fetchone()[0] + \
            con.execute("SELECT COUNT(*) FROM opportunities_deleted").fetchone()[0] == \
            counts["opportunities"] == len(opps)
        assert con.execute("SELECT COUNT(*) FROM opportunity_history").fetchone()[0] > 0
    finally:
        con.close()
