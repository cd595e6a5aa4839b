"""History from the CRMs' plain exports: the Salesforce Opportunity History and Opportunity
Field History reports (and their Data Loader forms), HubSpot's ``Date entered`` columns
unpivoted from the deals export, Pipedrive's deal flow saved as JSON; and the mapping
features they use (``unpivot``, ``keep_rows`` / ``skip_rows``, canonical change values,
stage -> status changes, the JSON records reader).

Fixtures: tests/data/history_exports (hand-written after the CRMs' column labels, deals
D1-D8 of ../shared/data/crm_api/ids.json) and the API's own flow responses in
../shared/data/crm_api/pipedrive. Every expected row below is written by hand from the
fixture's text.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reporting.exceptions import DataValidationError, MappingError
from reporting.ingest import map_table
from reporting.ingest import read as read_mod
from reporting.ingest.load import map_file
from reporting.ingest.read import files_for_tables, iter_export
from reporting.ingest.steps import unpivot
from reporting.sources import SourceMapping, load_mapping
from tests.conftest import shared

DATA = Path(__file__).resolve().parents[1] / "data" / "history_exports"
SF = DATA / "salesforce"
AS_OF = pd.Timestamp("2024-05-01")
T = pd.Timestamp


def rows(frame: pd.DataFrame, cols: list[str]) -> list[tuple]:
    """The frame's rows as tuples (NaN / NaT / None -> None)."""
    out = []
    for rec in frame[cols].itertuples(index=False):
        out.append(tuple(None if (v is None or (not isinstance(v, str) and pd.isna(v)))
                         else v for v in rec))
    return out


# --------------------------------------------------------------------------- Salesforce


def test_salesforce_opportunity_history_report_gives_snapshots():
    m = map_file(SF / "opportunity_history.csv", "opportunity_snapshots",
                 load_mapping("salesforce_history"), as_of=AS_OF)
    assert (m.result.read, m.result.loaded, m.result.quarantined) == (32, 30, 2)
    cols = ["observed_at", "stage", "status", "amount", "close_date", "probability",
            "forecast_category", "owner", "origin"]
    d3 = m.frame[m.frame["opportunity_id"] == "006Hp00000Xb003IAB"]
    assert rows(d3, cols) == [
        (T("2024-02-01 08:30"), "Prospecting", "open", 30000.0, T("2024-05-31"), 0.10,
         "pipeline", None, "crm"),
        (T("2024-02-12 11:00"), "Qualification", "open", 30000.0, T("2024-05-31"), 0.10,
         "pipeline", None, "crm"),
        (T("2024-03-04 14:22"), "Proposal/Price Quote", "open", 30000.0, T("2024-05-31"), 0.75,
         "pipeline", None, "crm"),
        # "36000" and "75" without $ and %: the same values
        (T("2024-03-18 09:21"), "Proposal/Price Quote", "open", 36000.0, T("2024-05-31"), 0.75,
         "pipeline", None, "crm"),
        (T("2024-04-02 16:05"), "Proposal/Price Quote", "open", 36000.0, T("2024-06-28"), 0.75,
         "pipeline", None, "crm"),
    ]
    won = m.frame[m.frame["status"] == "won"]
    assert rows(won, ["opportunity_id", "observed_at", "probability", "forecast_category"]) == [
        ("006Hp00000Xb006IAB", T("2024-02-09 16:20"), 1.0, "closed"),
        ("006Hp00000Xb001IAB", T("2024-03-14 11:30"), 1.0, "closed"),
    ]
    d8_last = m.frame[m.frame["opportunity_id"] == "006Hp00000Xb008IAB"].iloc[-1]
    assert (d8_last["stage"], d8_last["forecast_category"]) == ("Negotiation/Review", "commit")
    d5 = m.frame[m.frame["opportunity_id"] == "006Hp00000Xb005IAB"].iloc[0]
    assert pd.isna(d5["amount"])  # no amount: not recorded
    # the owner is not taken from this report (its Opportunity Owner is today's owner)
    assert m.frame["owner"].isna().all()
    q = m.quarantine.sort_values("row")
    assert rows(q, ["file", "row", "column", "reason_code", "value"]) == [
        (str(SF / "opportunity_history.csv"), 32, "stage", "unknown_stage", "=cmd|' /C calc'!A0"),
        (str(SF / "opportunity_history.csv"), 33, "close_date", "bad_date", "2/30/2024"),
    ]


def test_salesforce_field_history_report_gives_canonical_changes():
    m = map_file(SF / "opportunity_field_history.csv", "opportunity_changes",
                 load_mapping("salesforce_field_history"), as_of=AS_OF)
    # 29 records: "Created." and "Next Step" are skipped; 4 stage changes also change the
    # status (two to Closed Won, two to Closed Lost): 27 + 4 = 31 rows, one quarantined
    assert (m.result.read, m.result.loaded, m.result.quarantined) == (31, 30, 1)
    assert m.result.notes == {"rows_skipped": 2}
    cols = ["opportunity_id", "changed_at", "field", "old_value", "new_value"]
    got = rows(m.frame, cols)
    assert ("006Hp00000Xb003IAB", T("2024-03-18 09:21"), "amount", "30000", "36000") in got
    assert ("006Hp00000Xb003IAB", T("2024-04-02 16:05"), "close_date", "2024-05-31",
            "2024-06-28") in got
    assert ("006Hp00000Xb008IAB", T("2024-04-15 11:00"), "probability", "0.75", "0.9") in got
    assert ("006Hp00000Xb008IAB", T("2024-04-15 11:00"), "forecast_category", "pipeline",
            "commit") in got
    assert ("006Hp00000Xb004IAB", T("2024-03-28 10:10"), "stage", "Proposal/Price Quote",
            "Qualification") in got  # backwards: a change like any other
    status = m.frame[m.frame["field"] == "status"]
    assert rows(status, cols) == [
        ("006Hp00000Xb006IAB", T("2024-02-09 16:20"), "status", "open", "won"),
        ("006Hp00000Xb002IAB", T("2024-02-20 15:02"), "status", "open", "lost"),
        ("006Hp00000Xb001IAB", T("2024-03-14 11:30"), "status", "open", "won"),
        ("006Hp00000Xb007IAB", T("2024-04-10 17:45"), "status", "open", "lost"),
    ]
    # right-to-left text is kept as written (an owner's name in Persian)
    owner = m.frame[m.frame["field"] == "owner"]
    assert rows(owner, ["old_value", "new_value"]) == [
        ("Ava Patel", "\u0622\u0648\u0627 \u067e\u0627\u062a\u0644"),
        ("\u0622\u0648\u0627 \u067e\u0627\u062a\u0644", "Ava Patel"),
    ]
    assert not m.frame["new_value"].astype(str).str.startswith("=").any()  # Next Step skipped
    q = m.quarantine.iloc[0]
    assert (q["file"], q["row"], q["column"], q["reason_code"], q["value"]) == (
        str(SF / "opportunity_field_history.csv"), 28, "old_value", "bad_date", "13/45/2024")
    assert "close_date" in q["reason"]
    assert json.loads(q["record"])["Old Value"] == "13/45/2024"


def test_salesforce_field_history_data_loader_keeps_the_names_of_an_owner_change():
    m = map_file(SF / "OpportunityFieldHistory_dataloader.csv", "opportunity_changes",
                 load_mapping("salesforce_field_history"), as_of=AS_OF)
    # the EntityId copy of the owner change and the NextStep change are skipped; one stage
    # change to Closed Lost adds its status change
    assert (m.result.read, m.result.loaded, m.result.quarantined) == (9, 9, 0)
    assert m.result.notes == {"rows_skipped": 2}
    assert rows(m.frame, ["opportunity_id", "changed_at", "field", "old_value", "new_value"]) == [
        ("006Hp00000Xb003IAB", T("2024-03-18 09:21:44"), "amount", "30000", "36000"),
        ("006Hp00000Xb003IAB", T("2024-04-02 16:05:09"), "close_date", "2024-05-31", "2024-06-28"),
        ("006Hp00000Xb004IAB", T("2024-03-28 10:10:10"), "stage", "Proposal/Price Quote",
         "Qualification"),
        ("006Hp00000Xb008IAB", T("2024-04-15 11:00:00"), "probability", "0.75", "0.9"),
        ("006Hp00000Xb008IAB", T("2024-04-15 11:00:00"), "forecast_category", "pipeline",
         "commit"),
        ("006Hp00000Xb007IAB", T("2024-04-10 17:45:00"), "stage", "Negotiation/Review",
         "Closed Lost"),
        ("006Hp00000Xb007IAB", T("2024-04-10 17:45:00"), "status", "open", "lost"),
        ("006Hp00000Xb004IAB", T("2024-04-20 08:00:00"), "owner", "Ben Okafor", "Chloe Martin"),
        ("006Hp00000Xb005IAB", T("2024-04-21 08:00:00"), "amount", None, "12500.5"),
    ]


def _changes_mapping(**extra) -> SourceMapping:
    table = {
        "columns": {"opportunity_id": "Id", "changed_at": "At", "field": "Field",
                    "old_value": "Old", "new_value": "New"},
        "values": {"field": {"Stage": "stage", "Amount": "amount", "Probability": "probability",
                             "Close": "close_date", "Status": "status"}},
        **extra,
    }
    return SourceMapping.model_validate({
        "name": "t", "date_formats": ["%m/%d/%Y", "ISO8601"],
        "tables": {"opportunity_changes": table},
    })


def _changes(*recs: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(list(recs), columns=["Id", "At", "Field", "Old", "New"], dtype=object)


def test_change_values_take_their_fields_canonical_form():
    raw = _changes(
        ("A", "2024-01-02", "Amount", "$36,000.00", "USD 36,000.50"),
        ("A", "2024-01-03", "Probability", "75%", "0.9"),
        ("A", "2024-01-04", "Close", "3/18/2024", "2024-04-01"),
        ("A", "2024-01-05", "Amount", "", "1e3"),
        ("A", "2024-01-06", "Amount", "lots", "5"),
        ("A", "2024-01-07", "Probability", "", "150%"),
        ("A", "2024-01-08", "Status", "open", "deleted"),
        ("A", "2024-01-09", "Status", "open", "Won"),
    )
    m = map_table(raw, "opportunity_changes", _changes_mapping(), "f.csv", as_of=AS_OF)
    assert rows(m.frame, ["field", "old_value", "new_value"]) == [
        ("amount", "36000", "36000.5"),
        ("probability", "0.75", "0.9"),  # no scale: 0.9 is a fraction already
        ("close_date", "2024-03-18", "2024-04-01"),
        ("amount", None, "1000"),
        ("deleted", None, "true"),  # a status change to "deleted" is the deal's deletion
    ]
    assert rows(m.quarantine, ["row", "column", "reason_code"]) == [
        (6, "old_value", "bad_number"),
        (7, "new_value", "out_of_range"),
        (9, "new_value", "invalid_value"),  # "Won" is not canonical: map it with values:
    ]


def test_scale_applies_to_probability_changes_without_a_percent_sign():
    m = map_table(_changes(("A", "2024-01-03", "Probability", "75", "90%")),
                  "opportunity_changes", _changes_mapping(scale={"probability": 0.01}), "f.csv",
                  as_of=AS_OF)
    assert rows(m.frame, ["old_value", "new_value"]) == [("0.75", "0.9")]


def test_stage_change_gives_a_status_change_and_an_unknown_stage_is_quarantined():
    mp = _changes_mapping(statuses={"Open 1": "open", "Open 2": "open", "Won": "won"},
                          values={"field": {"Stage": "stage"},
                                  "stage": {"Won": "Closed Won"}})
    raw = _changes(
        ("A", "2024-01-02", "Stage", "", "Open 1"),      # created in Open 1: null -> open
        ("A", "2024-01-03", "Stage", "Open 1", "Open 2"),  # open -> open: no status change
        ("A", "2024-01-04", "Stage", "Open 2", "Won"),
        ("A", "2024-01-05", "Stage", "Won", "=2+5"),
    )
    m = map_table(raw, "opportunity_changes", mp, "f.csv", as_of=AS_OF)
    assert rows(m.frame, ["changed_at", "field", "old_value", "new_value"]) == [
        (T("2024-01-02"), "stage", None, "Open 1"),
        (T("2024-01-02"), "status", None, "open"),
        (T("2024-01-03"), "stage", "Open 1", "Open 2"),
        (T("2024-01-04"), "stage", "Open 2", "Closed Won"),  # values: renames the stage
        (T("2024-01-04"), "status", "open", "won"),
        (T("2024-01-05"), "stage", "Closed Won", "=2+5"),  # untrusted text, kept as text
    ]
    # the status the unknown stage means is not known: that row is quarantined, once
    assert rows(m.quarantine, ["row", "column", "reason_code"]) == [
        (5, "new_value", "unknown_stage")]
    assert (m.result.read, m.result.loaded, m.result.quarantined) == (7, 6, 1)


def test_keep_rows_and_skip_rows_count_what_they_leave_out():
    mp = _changes_mapping(keep_rows={"field": ["stage", "amount"]},
                          skip_rows={"Kind": ["EntityId"]})
    raw = _changes(("A", "2024-01-02", "Stage", "", "X"), ("A", "2024-01-03", "Next Step", "",
                                                          "call"),
                   ("A", "2024-01-04", "Amount", "1", "2"), ("A", "2024-01-05", "Amount", "3",
                                                             "4"))
    raw["Kind"] = ["Text", "Text", "EntityId", ""]
    m = map_table(raw, "opportunity_changes", mp, "f.csv", as_of=AS_OF)
    assert rows(m.frame, ["changed_at", "field"]) == [(T("2024-01-02"), "stage"),
                                                      (T("2024-01-05"), "amount")]
    assert m.result.read == 2 and m.result.notes == {"rows_skipped": 2}
    # a skip_rows column the file lacks skips nothing
    m = map_table(raw.drop(columns="Kind"), "opportunity_changes", mp, "f.csv", as_of=AS_OF)
    assert m.result.loaded == 3


def test_percent_probability_in_a_number_column():
    mp = SourceMapping.model_validate({"name": "t", "tables": {"opportunity_snapshots": {
        "columns": {"opportunity_id": "Id", "observed_at": "At", "probability": "P"},
        "scale": {"probability": 0.01}}}})
    raw = pd.DataFrame({"Id": ["A", "A", "A"], "At": ["2024-01-01", "2024-01-02", "2024-01-03"],
                        "P": ["75%", "75", " 7.5 % "]}, dtype=object)
    m = map_table(raw, "opportunity_snapshots", mp, "f.csv", as_of=AS_OF)
    assert m.frame["probability"].tolist() == pytest.approx([0.75, 0.75, 0.075])


# --------------------------------------------------------------------------- HubSpot


def test_hubspot_deals_file_gives_opportunities_and_stage_history():
    mp = load_mapping("hubspot")
    f = DATA / "hubspot" / "deals.csv"
    assert [(p.table, p.path) for p in files_for_tables([f], mp)] == [
        ("opportunities", f), ("stage_history", f)]
    m = map_file(f, "stage_history", mp, as_of=AS_OF)
    # 27 filled Date entered cells (Date exited / Cumulative time in are not read)
    assert (m.result.read, m.result.loaded, m.result.quarantined) == (27, 26, 1)
    d4 = m.frame[m.frame["opportunity_id"] == "17593029812"]
    assert rows(d4, ["stage", "entered_at"]) == [
        ("Appointment scheduled", T("2024-02-05 10:00")),
        ("Qualified to buy", T("2024-03-28 10:10")),  # HubSpot keeps the latest entry
        ("Presentation scheduled", T("2024-03-07 15:45")),
    ]
    d5 = m.frame[m.frame["opportunity_id"] == "17593029949"]
    assert rows(d5, ["stage", "entered_at"]) == [("Appointment scheduled", T("2024-03-11 13:15"))]
    # stage names are the Deal Stage column's labels
    opps = map_file(f, "opportunities", mp, as_of=AS_OF).frame
    assert set(m.frame["stage"]) <= set(mp.tables["opportunities"].statuses)
    assert set(opps["stage"]) <= set(m.frame["stage"])
    q = m.quarantine.iloc[0]
    assert (q["row"], q["column"], q["reason_code"], q["value"]) == (
        9, 'Date entered "Contract sent (Sales Pipeline)"', "bad_date", "yesterday")


def test_unpivot_label_variants_and_files_without_the_columns():
    mp = load_mapping("hubspot")
    raw = pd.DataFrame({
        "Record ID": ["1", "2"],
        "Date entered \u201cContract sent (Sales Pipeline)\u201d": ["2024-01-02 10:00", ""],
        "Date entered Closed won (Renewals)": ["", "2024-01-03 11:00"],
        "Date entered 'Demo (EMEA) (Enterprise)'": ["2024-01-04", "2024-01-05"],
        "Date exited \"Contract sent (Sales Pipeline)\"": ["2024-01-03", ""],
    }, dtype=object)
    long = unpivot(raw, "stage_history", mp)
    assert long.attrs["lines"].tolist() == [2, 2, 3, 3]
    m = map_table(raw, "stage_history", mp, "deals.csv", as_of=AS_OF)
    assert rows(m.frame, ["opportunity_id", "stage", "entered_at"]) == [
        ("1", "Contract sent", T("2024-01-02 10:00")),
        ("1", "Demo (EMEA)", T("2024-01-04")),
        ("2", "Closed won", T("2024-01-03 11:00")),
        ("2", "Demo (EMEA)", T("2024-01-05")),
    ]
    # an older export without stage properties: no stage history, no error
    m = map_table(raw[["Record ID"]], "stage_history", mp, "deals.csv", as_of=AS_OF)
    assert (m.result.read, m.result.loaded) == (0, 0)


# --------------------------------------------------------------------------- Pipedrive


def test_pipedrive_flow_responses_give_changes():
    folder = shared("crm_api/pipedrive")
    mp = load_mapping("pipedrive_flow")
    pairs = files_for_tables([folder], mp)
    assert sorted(p.path.name for p in pairs) == [
        f"v1_deals_{i}_flow.json" for i in range(101, 109)]
    got = {}
    for p in pairs:
        m = map_file(p.path, "opportunity_changes", mp, as_of=AS_OF)
        assert m.result.quarantined == 0
        got[p.path.name] = rows(m.frame, ["opportunity_id", "changed_at", "field", "old_value",
                                          "new_value"])
    # D2: stage 1 -> 2, then lost (its lost_reason and the creation are skipped)
    assert got["v1_deals_102_flow.json"] == [
        ("102", T("2024-02-20 15:02:33"), "status", "open", "lost"),
        ("102", T("2024-01-30 13:45:10"), "stage", "Qualified", "Contact Made"),
    ]
    # D3: amount 30000 -> 36000 and the close date pushed
    assert got["v1_deals_103_flow.json"][:2] == [
        ("103", T("2024-04-02 16:05:09"), "close_date", "2024-05-31", "2024-06-28"),
        ("103", T("2024-03-18 09:21:44"), "amount", "30000", "36000"),
    ]
    # D4: moved backwards, by stage name (the formatted values, not the ids)
    assert got["v1_deals_104_flow.json"][0] == (
        "104", T("2024-03-28 10:10:10"), "stage", "Proposal Made", "Contact Made")
    assert got["v1_deals_105_flow.json"] == []  # only its creation
    # per deal 101..108: its dealChange items of tracked fields (status, stage, value,
    # expected_close_date); add_time and lost_reason are skipped
    assert sum(len(v) for v in got.values()) == 4 + 2 + 4 + 3 + 0 + 2 + 4 + 3


def test_pipedrive_deal_updates_as_json_lines_with_hostile_items():
    f = DATA / "pipedrive" / "deal_updates.jsonl"
    m = map_file(f, "opportunity_changes", load_mapping("pipedrive_flow"), as_of=AS_OF)
    assert rows(m.frame, ["opportunity_id", "changed_at", "field", "old_value", "new_value"]) == [
        ("103", T("2024-03-04 14:22:18"), "stage", "Contact Made", "Proposal Made"),
        ("103", T("2024-03-18 09:21:44"), "amount", "30000", "36000"),
        ("103", T("2024-04-02 16:05:09"), "close_date", "2024-05-31", "2024-06-28"),
        ("108", T("2024-04-06 08:00:00"), "owner", "Ava Patel",
         "\u0622\u0648\u0627 \u067e\u0627\u062a\u0644"),
        ("108", T("2024-04-07 08:00:00"), "probability", None, "0.75"),
        ("105", T("2024-04-20 08:00:00"), "deleted", None, "true"),
    ]
    # the activity (formula and HTML text) and the title change are skipped
    assert m.result.notes == {"rows_skipped": 2}
    # rows of JSON lines are line numbers (line 3 is blank)
    assert rows(m.quarantine, ["file", "row", "column", "reason_code"]) == [
        (str(f), 7, "old_value", "bad_date"),
        (str(f), 9, "", "invalid_value"),
    ]
    assert m.result.read == m.result.loaded + m.result.quarantined == 8


def test_json_reader_flattens_and_limits(tmp_path, monkeypatch):
    mp = load_mapping("pipedrive_flow")
    doc = tmp_path / "flow.json"
    doc.write_text(json.dumps({"success": True, "data": [
        {"object": "dealChange", "n": 1.0, "ok": False, "tags": [1, 2],
         "data": {"a": {"b": {"c": {"d": 1}}}}}]}))
    frame = next(iter_export(doc, mp))
    assert frame.iloc[0].to_dict() == {"object": "dealChange", "n": "1", "ok": "false",
                                       "tags": "[1, 2]", "data.a.b.c": '{"d": 1}'}
    assert frame.attrs["lines"].tolist() == [1]
    monkeypatch.setattr(read_mod, "MAX_JSON_BYTES", 10)
    with pytest.raises(DataValidationError, match="JSON lines"):
        next(iter_export(doc, mp))
    monkeypatch.undo()
    bad = tmp_path / "bad_flow.json"
    bad.write_text("42")
    with pytest.raises(DataValidationError, match="array of records"):
        next(iter_export(bad, mp))
    wide = tmp_path / "wide_flow.jsonl"
    monkeypatch.setattr(read_mod, "MAX_JSON_COLUMNS", 3)
    wide.write_text(json.dumps({f"k{i}": i for i in range(5)}) + "\n")
    with pytest.raises(DataValidationError, match="more than 3 distinct"):
        next(iter_export(wide, mp))


# --------------------------------------------------------------------------- the format


@pytest.mark.parametrize(("table", "problem"), [
    ({"columns": {"opportunity_id": "Id"},
      "unpivot": {"pattern": "Date entered (.+)", "value": "entered_at"}}, "no named group"),
    ({"columns": {"opportunity_id": "Id"},
      "unpivot": {"pattern": "(?P<stage>.+", "value": "entered_at"}}, "not a regular"),
    ({"columns": {"opportunity_id": "Id"},
      "unpivot": {"pattern": "(?P<stage>.+)", "value": "when"}}, "unpivot value 'when'"),
    ({"columns": {"opportunity_id": "Id", "entered_at": "At"}}, "required columns not mapped"),
])
def test_bad_unpivot_mappings_are_refused(tmp_path, table, problem):
    p = tmp_path / "m.yaml"
    p.write_text(json.dumps({"name": "m", "tables": {"stage_history": table}}))
    with pytest.raises(MappingError, match=problem):
        load_mapping(p)


def test_values_of_changed_fields_are_allowed_only_in_opportunity_changes(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(json.dumps({"name": "m", "tables": {"stage_history": {
        "columns": {"opportunity_id": "Id", "stage": "S", "entered_at": "At"},
        "values": {"owner": {"1": "Ann"}}}}}))
    with pytest.raises(MappingError, match="`values:` names unknown column 'owner'"):
        load_mapping(p)


def test_shipped_history_mappings_load():
    for name in ("salesforce_history", "salesforce_field_history", "pipedrive_flow", "hubspot"):
        assert load_mapping(name).tables
    assert np.isclose(load_mapping("salesforce").tables["opportunities"].scale["probability"],
                      0.01)


def test_hubspot_workbook_sheet_gives_both_tables_with_typed_date_cells(tmp_path):
    f = tmp_path / "deals.xlsx"
    pd.DataFrame({
        "Record ID": [1, 2], "Deal Stage": ["Contract sent", "Closed won"],
        "Deal owner": ["Ava Patel", "Ben Okafor"],
        "Create Date": [T("2024-01-02"), T("2024-01-03")],
        "Close Date": [T("2024-06-01"), T("2024-02-01 09:00")], "Amount": [10, 20],
        'Date entered "Contract sent (Sales Pipeline)"': [T("2024-01-05 10:30"), None],
        'Date entered "Closed won (Sales Pipeline)"': [None, T("2024-02-01 09:00")],
    }).to_excel(f, index=False, sheet_name="Deals")
    mp = load_mapping("hubspot")
    pairs = files_for_tables([f], mp)
    assert [(p.table, p.sheet) for p in pairs] == [("opportunities", "Deals"),
                                                   ("stage_history", "Deals")]
    m = map_file(f, "stage_history", mp, as_of=AS_OF, sheet="Deals")
    assert rows(m.frame, ["opportunity_id", "stage", "entered_at"]) == [
        ("1", "Contract sent", T("2024-01-05 10:30")), ("2", "Closed won", T("2024-02-01 09:00"))]


# --------------------------------------------------------------------------- end to end
# Each history export ingested with the matching current-state export; the store's as-of
# view at two past dates must be the state known by hand from ids.json's timeline.

SF_ID = "006Hp00000Xb00{}IAB".format
#: (stage, status, amount) of D1-D8 by hand from the timeline; absent: not created yet
SF_FEB15 = {
    SF_ID(1): ("Proposal/Price Quote", "open", 48000.0),   # S3 on 2024-02-05
    SF_ID(2): ("Qualification", "open", 22000.0),          # S2 on 01-30, lost on 02-20
    SF_ID(3): ("Qualification", "open", 30000.0),          # S2 on 02-12
    SF_ID(4): ("Prospecting", "open", 15000.0),            # S2 only on 02-16
    SF_ID(6): ("Closed Won", "won", 8500.0),               # won on 02-09
    SF_ID(7): ("Proposal/Price Quote", "open", 120000.0),  # S3 on 02-14 14:00
}
SF_MAR25 = {
    SF_ID(1): ("Closed Won", "won", 48000.0),
    SF_ID(2): ("Closed Lost", "lost", 22000.0),
    SF_ID(3): ("Proposal/Price Quote", "open", 36000.0),   # amount raised on 03-18
    SF_ID(4): ("Proposal/Price Quote", "open", 15000.0),   # back to S2 only on 03-28
    SF_ID(5): ("Prospecting", "open", None),               # created 03-11, no amount
    SF_ID(6): ("Closed Won", "won", 8500.0),
    SF_ID(7): ("Negotiation/Review", "open", 120000.0),    # S4 on 03-06, lost 04-10
    SF_ID(8): ("Proposal/Price Quote", "open", 64000.0),   # S3 on 03-20
}


def _core():
    from reporting import store

    if not hasattr(store, "opportunities_as_of"):
        pytest.skip("the history core (store.opportunities_as_of) is not on this branch yet")
    return store


def _state(store_mod, path: Path, when: str) -> dict[str, tuple]:
    frame = store_mod.opportunities_as_of(path, pd.Timestamp(when))
    return {r.opportunity_id: (r.stage, r.status, None if pd.isna(r.amount) else r.amount)
            for r in frame.itertuples()}


def _history_rows(path: Path) -> int:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT COUNT(*) FROM opportunity_history").fetchone()[0]


def test_salesforce_history_exports_give_the_past_states(tmp_path):
    from reporting.ingest import ingest_paths

    store_mod = _core()
    db = tmp_path / "crm.duckdb"
    ingest_paths([SF / "opportunities.csv"], "salesforce", db, as_of="2024-05-01")
    ingest_paths([SF / "opportunity_history.csv"], "salesforce_history", db, as_of="2024-05-01")
    ingest_paths([SF / "opportunity_field_history.csv"], "salesforce_field_history", db,
                 as_of="2024-05-01")
    assert _state(store_mod, db, "2024-02-15") == SF_FEB15
    assert _state(store_mod, db, "2024-03-25") == SF_MAR25
    before = _history_rows(db)
    assert before > 0
    ingest_paths([SF / "opportunity_history.csv"], "salesforce_history", db, as_of="2024-05-01")
    ingest_paths([SF / "opportunity_field_history.csv"], "salesforce_field_history", db,
                 as_of="2024-05-01")
    ingest_paths([SF / "opportunities.csv"], "salesforce", db, as_of="2024-05-01")
    assert _history_rows(db) == before  # re-ingesting the same exports adds no versions
    assert _state(store_mod, db, "2024-03-25") == SF_MAR25


#: (stage, status) of D1-D8 in Pipedrive by hand; amounts are checked only where the flow
#: records them (a value change): the flow has no record of a deal's value at creation
PD_FEB15 = {
    "101": ("Proposal Made", "open"),
    "102": ("Contact Made", "open"),
    "103": ("Contact Made", "open"),
    "104": ("Qualified", "open"),          # moved to stage 2 only on 02-16
    "106": ("Contact Made", "won"),        # Pipedrive: a won deal keeps its stage
    "107": ("Proposal Made", "open"),
}
PD_MAR25 = {
    "101": ("Negotiations Started", "won"),
    "102": ("Contact Made", "lost"),
    "103": ("Proposal Made", "open"),
    "104": ("Proposal Made", "open"),      # back to Contact Made only on 03-28
    "105": ("Qualified", "open"),
    "106": ("Contact Made", "won"),
    "107": ("Negotiations Started", "open"),
    "108": ("Proposal Made", "open"),
}


def _stages(state: dict[str, tuple]) -> dict[str, tuple]:
    return {k: v[:2] for k, v in state.items()}


def test_pipedrive_flow_gives_the_past_states(tmp_path):
    from reporting.ingest import ingest_paths

    store_mod = _core()
    flows = shared("crm_api/pipedrive")
    db = tmp_path / "crm.duckdb"
    ingest_paths([DATA / "pipedrive" / "deals.csv"], "pipedrive", db, as_of="2024-05-01")
    ingest_paths([flows], "pipedrive_flow", db, as_of="2024-05-01")
    feb, mar = _state(store_mod, db, "2024-02-15"), _state(store_mod, db, "2024-03-25")
    assert _stages(feb) == PD_FEB15
    assert _stages(mar) == PD_MAR25
    assert (feb["103"][2], mar["103"][2]) == (30000.0, 36000.0)  # raised on 03-18
    before = _history_rows(db)
    ingest_paths([flows], "pipedrive_flow", db, as_of="2024-05-01")
    ingest_paths([DATA / "pipedrive" / "deals.csv"], "pipedrive", db, as_of="2024-05-01")
    assert _history_rows(db) == before
    assert _stages(_state(store_mod, db, "2024-03-25")) == PD_MAR25


HS = {"D1": "17593029401", "D2": "17593029538", "D3": "17593029675", "D4": "17593029812",
      "D5": "17593029949", "D6": "17593030086", "D7": "17593030223", "D8": "17593030360"}
#: (stage, status) in HubSpot by hand: won and lost are stages there
HS_FEB15 = {
    HS["D1"]: ("Presentation scheduled", "open"),
    HS["D2"]: ("Qualified to buy", "open"),
    HS["D3"]: ("Qualified to buy", "open"),
    HS["D4"]: ("Appointment scheduled", "open"),
    HS["D6"]: ("Closed won", "won"),
    HS["D7"]: ("Presentation scheduled", "open"),
}
HS_MAR25 = {
    HS["D1"]: ("Closed won", "won"),
    HS["D2"]: ("Closed lost", "lost"),
    HS["D3"]: ("Presentation scheduled", "open"),
    # HubSpot keeps only the latest entry into a stage: D4's first Qualified to buy
    # (02-16) is gone, but its state on 03-25 (Presentation scheduled since 03-07) holds
    HS["D4"]: ("Presentation scheduled", "open"),
    HS["D5"]: ("Appointment scheduled", "open"),
    HS["D6"]: ("Closed won", "won"),
    HS["D7"]: ("Contract sent", "open"),
    HS["D8"]: ("Presentation scheduled", "open"),
}


def test_hubspot_date_entered_columns_give_the_past_stages(tmp_path):
    from reporting.ingest import ingest_paths

    store_mod = _core()
    db = tmp_path / "crm.duckdb"
    f = DATA / "hubspot" / "deals.csv"
    rep = ingest_paths([f], "hubspot", db, as_of="2024-05-01")
    assert [(r.table, r.loaded, r.quarantined) for r in rep.results] == [
        ("opportunities", 8, 0), ("stage_history", 26, 1)]
    assert _stages(_state(store_mod, db, "2024-02-15")) == HS_FEB15
    assert _stages(_state(store_mod, db, "2024-03-25")) == HS_MAR25
    before = _history_rows(db)
    ingest_paths([f], "hubspot", db, as_of="2024-05-01")
    assert _history_rows(db) == before


def test_salesforce_api_history_records_saved_as_json_give_the_same_past_states(tmp_path):
    """Public data: the REST query responses of OpportunityHistory and
    OpportunityFieldHistory (../shared/data/crm_api/salesforce) read by the JSON reader
    through the same mappings (API names are among their alternatives)."""
    from reporting.ingest import ingest_paths

    store_mod = _core()
    api = shared("crm_api/salesforce")
    m = map_file(api / "query_opportunityhistory.json", "opportunity_snapshots",
                 load_mapping("salesforce_history"), as_of=AS_OF)
    assert (m.result.read, m.result.loaded) == (30, 30)
    # ForecastCategory API values: Forecast is the Commit category
    assert m.frame.loc[m.frame["observed_at"] == T("2024-04-15 11:00"),
                       "forecast_category"].tolist() == ["commit"]
    c = map_file(api / "query_opportunityfieldhistory.json", "opportunity_changes",
                 load_mapping("salesforce_field_history"), as_of=AS_OF)
    # 22 changes, 4 of them to Closed Won / Closed Lost: 4 status changes more
    assert (c.result.read, c.result.loaded) == (26, 26)
    db = tmp_path / "crm.duckdb"
    ingest_paths([SF / "opportunities.csv"], "salesforce", db, as_of="2024-05-01")
    ingest_paths([api / "query_opportunityhistory.json"], "salesforce_history", db,
                 as_of="2024-05-01")
    ingest_paths([api / "query_opportunityfieldhistory.json"], "salesforce_field_history", db,
                 as_of="2024-05-01")
    assert _state(store_mod, db, "2024-02-15") == SF_FEB15
    assert _state(store_mod, db, "2024-03-25") == SF_MAR25


def test_the_ingest_summary_says_which_rows_the_mapping_left_out(tmp_path):
    """Rows a history mapping skips (untracked fields) are said apart from the rows kept
    with a data-quality note."""
    from typer.testing import CliRunner

    from reporting.cli import app

    f = tmp_path / "field_history.csv"
    f.write_text("Opportunity ID,Edit Date,Field / Event,Old Value,New Value\n"
                 "006A,3/18/2024 10:00 AM,Amount,30000,36000\n"
                 "006A,3/19/2024 10:00 AM,Next Step,call,visit\n")
    r = CliRunner().invoke(app, ["ingest", str(f), "--source", "salesforce_field_history",
                                 "--store", str(tmp_path / "crm.duckdb")],
                           env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "1 rows left out of opportunity_changes by the mapping" in r.output
    assert "rows kept with a data-quality note" not in r.output
