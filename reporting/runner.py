"""Run one report: execute the notebook with papermill, render HTML and PDF, write
``metrics.json``. Outputs are atomic: they are written to a temporary folder beside the
target and renamed into place only when complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill as pm

from .exceptions import ParamsError, RenderError
from .params import check_name, load_settings, slug
from .periods import parse_period
from .render import html_to_pdf, notebook_to_html
from .report import METRICS_MIME

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_NOTEBOOK = NOTEBOOKS / "monthly_sales_report.ipynb"

# One BLAS / OpenMP thread per kernel: parallel reports must not oversubscribe the cores.
_THREAD_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


@dataclass
class ReportResult:
    """The outcome of one report run."""

    region: str
    team: str
    period: str
    output_dir: Path
    pages: int
    seconds: float
    metrics: dict

    @property
    def pdf(self) -> Path:
        return self.output_dir / "report.pdf"

    @property
    def html(self) -> Path:
        return self.output_dir / "report.html"


def output_dir_for(reports_dir: Path, period: str, region: str, team: str = "all") -> Path:
    """``reports/<period>/<region>[/<team>]``, checked to stay inside ``reports_dir``."""
    base = Path(reports_dir).resolve()
    parts = [slug(period), slug(region)]
    if team and team.lower() != "all":
        parts.append(slug(team))
    target = base.joinpath(*parts).resolve()
    if not target.is_relative_to(base):
        raise ParamsError(f"report path {target} would leave {base}")
    return target


def _metrics_from(nb: nbformat.NotebookNode) -> dict:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if METRICS_MIME in data:
                return dict(data[METRICS_MIME])
    raise RenderError("the notebook did not emit its metrics (call rp.emit_metrics(ctx) last)")


def run_report(
    region: str,
    period: str,
    team: str = "all",
    store: str | Path | None = None,
    reports_dir: str | Path = "reports",
    params_dir: str | Path | None = None,
    notebook: str | Path = DEFAULT_NOTEBOOK,
    timeout: int = 600,
) -> ReportResult:
    """Execute the report notebook for one region / team / period and render it.

    Writes ``report.ipynb``, ``report.html``, ``report.pdf`` and ``metrics.json`` into
    ``reports/<period>/<region>/`` (``.../<team>/`` for a team report).
    """
    started = time.perf_counter()
    check_name("region", region)
    check_name("team", team)
    p = parse_period(period)
    settings = load_settings(params_dir)  # fail on bad params before a kernel starts
    store_path = str(Path(store).resolve()) if store else None
    target = output_dir_for(Path(reports_dir), p.label, region, team)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        parameters = {
            "region": region,
            "team": team,
            "period": p.label,
            "store": store_path or os.environ.get("CRM_REPORT_STORE", "data/crm.duckdb"),
            "params_dir": str(Path(params_dir).resolve()) if params_dir else str(ROOT / "params"),
        }
        env_backup = {k: os.environ.get(k) for k in _THREAD_ENV}
        os.environ.update(_THREAD_ENV)
        try:
            nb = pm.execute_notebook(
                str(notebook),
                str(tmp / "report.ipynb"),
                parameters=parameters,
                kernel_name="python3",
                progress_bar=False,
                log_output=False,
                execution_timeout=timeout,
                cwd=str(ROOT),
                # the kernel's own start-up and shutdown chatter is not the user's concern;
                # cell errors still reach the notebook and PapermillExecutionError
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
        except pm.PapermillExecutionError as exc:
            raise RenderError(
                f"{Path(notebook).name}: cell {exc.exec_count} failed with {exc.ename}: "
                f"{exc.evalue}"
            ) from exc
        finally:
            for k, v in env_backup.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        metrics = _metrics_from(nb)
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False),
                                          encoding="utf-8")
        title = f"{settings.title}: {metrics.get('region')} {p.title}"
        html = notebook_to_html(nb, title, settings.branding)
        (tmp / "report.html").write_text(html, encoding="utf-8")
        pages = html_to_pdf(html, tmp / "report.pdf")
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ReportResult(region, team, p.label, target, pages,
                        time.perf_counter() - started, metrics)
