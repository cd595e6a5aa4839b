"""The gettext catalogue (reporting/locale): what the code marks is what messages.pot
holds, every message has a Persian translation with the same placeholders, nothing
obsolete; the loader prefers a fresh compiled .mo; the migration script fills a .po from a
Python dict of translations."""

from __future__ import annotations

import importlib.util
import io
import os
import textwrap

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from reporting import i18n

from .conftest import ROOT

_spec = importlib.util.spec_from_file_location("i18n_catalogue",
                                               ROOT / "scripts" / "i18n_catalogue.py")
cat = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cat)

HOW = ("run `make i18n` (scripts/i18n_catalogue.py extract + update), translate the new "
       "messages in reporting/locale/fa/LC_MESSAGES/messages.po and commit both files")


def test_committed_pot_is_what_the_code_marks():
    extracted, committed = cat.keys(cat.extract()), cat.keys(cat.read(cat.POT))
    new = sorted(m for _, m in extracted - committed)
    gone = sorted(m for _, m in committed - extracted)
    assert not new and not gone, f"messages.pot is stale ({HOW}): new {new}, gone {gone}"


def test_every_message_has_a_persian_translation_with_its_placeholders():
    found = cat.problems("fa")
    assert found == [], f"{len(found)} problems ({HOW}):\n" + "\n".join(found)


def test_po_has_no_obsolete_or_fuzzy_entries():
    text = cat.po_path("fa").read_text(encoding="utf-8")
    assert "\n#~ " not in text and "#, fuzzy" not in text


def test_placeholders_are_compared():
    assert sorted(cat.PLACEHOLDER.findall("{rep} booked {won:,.0f} ({attainment:.0%}) {{x}}")) \
        == ["attainment", "rep", "won"]


def _po(tmp_path, strings: dict[str, str], name="messages.po"):
    c = Catalog(locale="fa")
    for k, v in strings.items():
        c.add(k, v)
    buf = io.BytesIO()
    write_po(buf, c)
    path = tmp_path / "fa" / "LC_MESSAGES" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path


def test_loader_uses_the_compiled_mo_unless_the_po_is_newer(tmp_path, monkeypatch):
    po = _po(tmp_path, {"Win rate": "از po"})
    mo = po.with_suffix(".mo")
    mo.write_bytes(i18n.compile_po(_po(tmp_path, {"Win rate": "از mo"}, "other.po")))
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        os.utime(po, (1_000, 1_000))
        os.utime(mo, (2_000, 2_000))
        assert i18n.tr("Win rate", "fa") == "از mo"  # as a wheel ships it
        i18n.translations.cache_clear()
        os.utime(po, (3_000, 3_000))
        assert i18n.tr("Win rate", "fa") == "از po"  # the .po edited since the build
        i18n.translations.cache_clear()
        mo.unlink()
        assert i18n.tr("Win rate", "fa") == "از po"  # a source checkout
        i18n.MISSING.clear()
        assert i18n.tr("Lose rate", "fa") == "Lose rate"
        assert i18n.MISSING == {"Lose rate"}
    finally:
        i18n.MISSING.clear()
        i18n.translations.cache_clear()


def test_extractor_reads_markers_not_subscripts_and_refuses_f_strings(tmp_path):
    src = textwrap.dedent('''
        t = frame[t["_y"].isna()]
        label = ctx.t("Win rate") + tr("Deals", "fa") + N_("a" "b")
        word = N_p("direction", "rose")
        ''').encode()
    got = list(cat.extract_python(io.BytesIO(src), cat.KEYWORDS, [], {}))
    assert [m for _, _, m, _ in got] == ["Win rate", "Deals", "ab", ("direction", "rose")]
    cat.ERRORS.clear()
    list(cat.extract_python(io.BytesIO(b'x = ctx.t(f"Booked ({cur})")\n'), cat.KEYWORDS,
                            [], {}))
    assert len(cat.ERRORS) == 1 and "f-string" in cat.ERRORS[0]
    cat.ERRORS.clear()


def test_import_fills_untranslated_messages_from_a_dict_file(tmp_path, monkeypatch):
    """The migration script on another branch's FA entries: it fills what the .po does not
    translate yet, keeps what it does, and lists entries that are no message."""
    locale = tmp_path / "locale"
    monkeypatch.setattr(cat, "LOCALE", locale)
    monkeypatch.setattr(cat, "POT", locale / "messages.pot")
    pot = Catalog()
    for msgid in ("Win rate", "Deals"):
        pot.add(msgid)
    pot.add("rose", context="direction")
    cat.write(pot, cat.POT)
    po = Catalog(locale="fa")
    po.add("Deals", "معاملات")
    cat.write(po, cat.po_path("fa"))
    extra = tmp_path / "extra.py"
    extra.write_text(textwrap.dedent('''
        FA = {"Win rate": "نرخ " "برد"}
        FA.update({"Deals": "دیگر", "Gone": "رفته"})
        FA_PARAMETERS = {"direction": {"rose": "افزایش یافت"}}
        '''), encoding="utf-8")
    written, unused = cat.import_dict([extra])
    assert (written, unused) == (2, ["Gone"])
    got = {(m.context, m.id): m.string for m in cat.read(cat.po_path("fa")) if m.id}
    assert got == {(None, "Win rate"): "نرخ برد", (None, "Deals"): "معاملات",
                   ("direction", "rose"): "افزایش یافت"}
    assert cat.import_dict([extra]) == (0, ["Gone"])  # re-runnable


@pytest.mark.parametrize("language", ["fa"])
def test_every_word_parameter_context_is_translated(language):
    """The words the code passes as template parameters (N_p) are in the catalogue."""
    for context, word in (("direction", "rose"), ("direction", "fell"), ("method", "linear"),
                          ("method", "seasonal"), ("factor", "win rate")):
        assert i18n.translations(language).pgettext(context, word) != word
