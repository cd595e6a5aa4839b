"""Summarise a ``py-spy record --subprocesses -f raw`` profile: samples per process and per
step of a report (``python -m benchmarks.spy_summary spy.txt RATE``; see NOTES.md)."""

from __future__ import annotations

import re
import sys
from collections import Counter

# (label, pattern on one frame); a sample goes to the first label whose pattern matches any
# of its frames, scanning the labels in this order
STEPS = [
    ("import of modules", r"_find_and_load "),
    ("shared artifacts: CLV backtest + refit", r"clv_reference"),
    ("shared artifacts: bands", r"band_reference|band_drift"),
    ("scopes and data checks (DuckDB)", r"known_scopes|has_data|activity \(reporting/scope"),
    ("WeasyPrint: layout", r"layout_document|weasyprint/layout/"),
    ("WeasyPrint: draw + write PDF", r"weasyprint/(draw|pdf)/|write_pdf"),
    ("WeasyPrint: parse HTML + CSS, fonts", r"weasyprint/(css|html|text|images)|HTML\.__init__"),
    ("nbconvert HTML export", r"nbconvert/"),
    ("charts: savefig (draw + PNG encode)", r"savefig|print_png|print_figure"),
    ("charts: building figures (seaborn / matplotlib calls)", r"reporting/plots\.py"),
    ("report context: load + analyse + models", r"^build \(reporting/report"),
    ("tables, sections, HTML of the report", r"reporting/report\.py|jinja2/"),
    ("metrics / models (other)", r"reporting/(metrics|models)/"),
    ("nbformat: validation (fastjsonschema) and writing", r"nbformat/|fastjsonschema/"),
    ("papermill / nbclient / kernel protocol", r"papermill/|nbclient/|jupyter_client/|zmq/|ipykernel/"),
    ("store (DuckDB)", r"reporting/store\.py|duckdb"),
]


def kind(cmd: str) -> str:
    if "ipykernel_launcher" in cmd:
        return "kernel"
    return "cli / render child"


def main() -> None:
    path, rate = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 100.0
    by_proc: Counter = Counter()
    by_step: dict[str, Counter] = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        stack, _, n = line.rstrip("\n").rpartition(" ")
        if not n.isdigit():
            continue
        frames = stack.split(";")
        procs = [f for f in frames if f.startswith("process ")]
        proc = kind(procs[-1]) if procs else "?"
        # the render child is a fork of the CLI: py-spy names it like its parent
        if any("_child (reporting/render.py" in f for f in frames):
            proc = "render child"
        elif proc == "cli / render child":
            proc = "cli"
        frames = [f for f in frames if not f.startswith("process ")]
        if proc == "kernel" and not any("run_code (IPython/" in f for f in frames):
            proc = "kernel, other threads (heartbeat, I/O, idle polling)"
        by_proc[proc] += int(n)
        label = next((lab for lab, pat in STEPS if any(re.search(pat, f) for f in frames)),
                     "other")
        by_step.setdefault(proc, Counter())[label] += int(n)
    for proc, n in by_proc.most_common():
        print(f"{proc}: {n / rate:.2f} s of samples")
        for label, k in by_step[proc].most_common():
            print(f"    {label}: {k / rate:.2f} s")


if __name__ == "__main__":
    main()
