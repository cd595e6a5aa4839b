#!/usr/bin/env python3
# ruff: noqa: T201 - a command-line tool: it prints its report
"""The report's gettext catalogue: extract, update, import translations, check.

    python scripts/i18n_catalogue.py extract      # reporting/locale/messages.pot from the code
    python scripts/i18n_catalogue.py update       # fa.po follows the .pot (new ids, no obsolete)
    python scripts/i18n_catalogue.py import FILE  # Persian from a Python file's FA dict
    python scripts/i18n_catalogue.py check        # what the tests check, as a report

``make i18n`` runs extract, then update, then check. Messages are marked in the code:
``tr("...")``, ``ctx.t("...")``, ``_("...")`` (Python and the Jinja2 templates), and
``N_("...")`` / ``N_p("context", "...")`` for text defined in tables and translated later
(see :mod:`reporting.i18n`).

``import`` reads the dicts ``FA = {...}``, ``FA.update({...})`` and ``FA_PARAMETERS``
(word -> Persian by parameter name, imported with the name as msgctxt; an FA key
``context:word`` is the word with that msgctxt too) of Python files
without importing them: the dict catalogue ``reporting/i18n.py`` had before gettext, or a
branch's version of it that added entries::

    git show persian:reporting/i18n.py > /tmp/fa_persian.py
    python scripts/i18n_catalogue.py extract
    python scripts/i18n_catalogue.py import /tmp/fa_persian.py

It writes their Persian into ``fa.po`` for every message of the .pot the .po does not
translate yet (``--overwrite`` replaces existing translations too), so it can be run again
on more entries. Entries whose English is no message of the .pot are listed: text the code
no longer writes, or text to mark in the code (then ``extract`` and import again).
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "reporting" / "locale"
POT = LOCALE / "messages.pot"
LANGUAGES = ("fa",)

# python sources and the Jinja2 templates of the package (the i18n extension's ``_`` and
# ``{% trans %}``); nothing else in the tree is report text
METHOD_MAP = [
    ("reporting/**.py", "python-ast"),  # extract_python below
    ("reporting/resources/templates/**.j2", "jinja2.ext:babel_extract"),
]
OPTIONS_MAP = {"reporting/resources/templates/**.j2": {"trimmed": "true", "trim_blocks": "true", "lstrip_blocks": "true"}}
KEYWORDS = {
    "_": None, "gettext": None, "tr": (1,), "t": (1,), "_t": None, "N_": None,
    "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_p": ((1, "c"), 2),
}
# placeholders of str.format: '{name}', '{value:,.0f}', '{0}' (not '{{')
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*|\d*)(?:[:!][^{}]*)?\}")
HEADER = dict(project="crm-reporting", version="1", copyright_holder="crm-reporting",
              msgid_bugs_address="", charset="utf-8")


ERRORS: list[str] = []


def extract_python(fileobj, keywords, comment_tags, options):
    """Babel's extraction method for our Python: the calls of a keyword whose message
    arguments are string literals, found on the syntax tree (Babel's own tokenizer also
    takes ``t["column"]`` for a call of ``t``). A marker called with an f-string is an
    error: mark a template, ``tr("Booked ({currency})").format(currency=cur)``."""
    import ast

    tree = ast.parse(fileobj.read())
    calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call)),
                   key=lambda n: (n.lineno, n.col_offset))
    for node in calls:
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        if name not in keywords:
            continue
        spec = KEYWORDS.get(name) or (1,)
        needed = [pos[0] if isinstance(pos, tuple) else pos for pos in spec]
        values = []
        for arg in node.args[:max(needed)]:
            if isinstance(arg, ast.JoinedStr):
                ERRORS.append(f"{getattr(fileobj, 'name', '?')}:{node.lineno}: {name}() of an "
                              "f-string cannot be extracted; mark a template with placeholders: "
                              'tr("Booked ({currency})").format(currency=cur)')
            values.append(arg.value if isinstance(arg, ast.Constant)
                          and isinstance(arg.value, str) else None)
        if len(values) < max(needed) or any(values[i - 1] is None for i in needed):
            continue  # a variable: its text is marked where it is defined
        yield node.lineno, name, tuple(values) if len(values) > 1 else values[0], []


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "messages.po"


def extract() -> Catalog:
    """The messages marked in the package's code and templates, as a catalogue."""
    cat = Catalog(**HEADER, fuzzy=False)
    ERRORS.clear()
    method_map = [(pattern, extract_python if method == "python-ast" else method)
                  for pattern, method in METHOD_MAP]
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT, method_map, OPTIONS_MAP, KEYWORDS, comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True):
        if not message or (isinstance(message, tuple) and not message[0]):
            continue
        if isinstance(message, str) and not message.strip():
            continue
        cat.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    if ERRORS:
        raise SyntaxError("\n".join(ERRORS))
    return cat


def keys(cat: Catalog) -> set[tuple[str | None, str]]:
    """(context, msgid) of every message of a catalogue but its header."""
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in cat if m.id}


def _dump(cat: Catalog, **kw) -> bytes:
    buf = io.BytesIO()
    # no line numbers: moving code does not change the .pot, only new or gone text does
    write_po(buf, cat, width=100, sort_output=True, include_lineno=False,
             omit_header=False, **kw)
    # the creation date would make every extract a change
    return re.sub(rb'"POT-Creation-Date: [^"]*"\n', b"", buf.getvalue())


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def write(cat: Catalog, path: Path, **kw) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_dump(cat, **kw))


def cmd_extract(_args) -> int:
    cat = extract()
    write(cat, POT)
    print(f"{POT.relative_to(ROOT)}: {len(keys(cat))} messages")
    return 0


def update(language: str) -> Catalog:
    """The language's .po following the .pot: new messages untranslated, gone ones dropped
    (never kept as obsolete, never guessed as fuzzy)."""
    template = read(POT)
    path = po_path(language)
    po = read(path, language) if path.exists() else Catalog(locale=language, **HEADER)
    po.update(template, no_fuzzy_matching=True, update_header_comment=False)
    po.obsolete.clear()
    po.fuzzy = False
    write(po, path, ignore_obsolete=True)
    return po


def cmd_update(args) -> int:
    for language in LANGUAGES:
        po = update(language)
        print(f"{po_path(language).relative_to(ROOT)}: {len(keys(po))} messages")
    return 0


def _literal_dicts(tree: ast.Module) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """FA = {...}, FA.update({...}) and FA_PARAMETERS = {...} of a module, evaluated as
    literals (adjacent string literals are already joined by the parser)."""
    fa: dict[str, str] = {}
    params: dict[str, dict[str, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            if node.value is None:
                continue
            if "FA" in names:
                fa.update(ast.literal_eval(node.value))
            if "FA_PARAMETERS" in names:
                params.update(ast.literal_eval(node.value))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "update" and isinstance(node.func.value, ast.Name)
              and node.func.value.id == "FA" and node.args):
            fa.update(ast.literal_eval(node.args[0]))
    return fa, params


def import_dict(sources: list[Path], language: str = "fa", overwrite: bool = False
                ) -> tuple[int, list[str]]:
    """Fill the .po from the FA dicts of ``sources``; (translations written, entries whose
    English is no message of the .pot)."""
    fa: dict[str, str] = {}
    params: dict[str, dict[str, str]] = {}
    for src in sources:
        f, p = _literal_dicts(ast.parse(src.read_text(encoding="utf-8")))
        fa.update(f)
        for k, words in p.items():
            params.setdefault(k, {}).update(words)
    po = update(language)
    written, used = 0, set()
    for m in po:
        if not m.id:
            continue
        msgid = m.id if isinstance(m.id, str) else m.id[0]
        # a message with a context: FA_PARAMETERS[context][word] (a word parameter), or a
        # 'context:word' key of FA ('profile:velocity')
        text = (params.get(m.context, {}).get(msgid, fa.get(f"{m.context}:{msgid}"))
                if m.context else fa.get(msgid))
        if text is None:
            continue
        used.add((m.context, msgid))
        if (m.string and not overwrite) or m.string == text:
            continue
        m.string = text
        m.flags.discard("fuzzy")
        written += 1
    write(po, po_path(language), ignore_obsolete=True)
    unused = sorted(k for k in fa if (None, k) not in used
                    and tuple(k.split(":", 1)) not in used)
    unused += sorted(f"{c}: {w}" for c, words in params.items() for w in words
                     if (c, w) not in used)
    return written, unused


def cmd_import(args) -> int:
    written, unused = import_dict([Path(s) for s in args.files], overwrite=args.overwrite)
    print(f"{written} translations written to {po_path('fa').relative_to(ROOT)}")
    if unused:
        print(f"{len(unused)} entries are no message of the .pot (mark them in the code, "
              "run extract, import again):")
        for k in unused:
            print("  ", k[:100].replace("\n", " "))
    return 0


def problems(language: str = "fa") -> list[str]:
    """What is wrong with the committed catalogue: the .pot is not what the code gives,
    a message without a (non-fuzzy) translation, placeholders that differ, obsolete or
    stray entries."""
    out = []
    extracted, committed = keys(extract()), keys(read(POT)) if POT.exists() else set()
    for k in sorted(extracted - committed, key=str):
        out.append(f"not in messages.pot: {k[1][:80]!r}" + (f" (context {k[0]})" if k[0] else ""))
    for k in sorted(committed - extracted, key=str):
        out.append(f"in messages.pot but no longer in the code: {k[1][:80]!r}")
    path = po_path(language)
    po = read(path, language) if path.exists() else Catalog(locale=language)
    translated = keys(po)
    for k in sorted(committed - translated, key=str):
        out.append(f"{language}.po lacks {k[1][:80]!r}")
    for k in sorted(translated - committed, key=str):
        out.append(f"{language}.po has {k[1][:80]!r}, not in messages.pot")
    if po.obsolete:
        out.append(f"{language}.po keeps {len(po.obsolete)} obsolete entries")
    for m in po:
        if not m.id:
            continue
        msgid = m.id if isinstance(m.id, str) else m.id[0]
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.fuzzy:
            out.append(f"{language}.po: fuzzy {msgid[:80]!r}")
        if not all(s and s.strip() for s in strings):
            out.append(f"{language}.po: no translation of {msgid[:80]!r}")
            continue
        want = sorted(PLACEHOLDER.findall(msgid))
        for s in strings:
            if sorted(PLACEHOLDER.findall(s)) != want:
                out.append(f"{language}.po: placeholders {want} of {msgid[:60]!r} differ "
                           f"in {s[:60]!r}")
    return out


def cmd_check(_args) -> int:
    found = problems()
    for p in found:
        print(p)
    if found:
        print(f"\n{len(found)} problems: run `make i18n` (extract, update), translate the "
              "new messages in reporting/locale/fa/LC_MESSAGES/messages.po", file=sys.stderr)
        return 1
    print("catalogue in order")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("extract").set_defaults(fn=cmd_extract)
    sub.add_parser("update").set_defaults(fn=cmd_update)
    sub.add_parser("check").set_defaults(fn=cmd_check)
    p = sub.add_parser("import")
    p.add_argument("files", nargs="+")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(fn=cmd_import)
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
