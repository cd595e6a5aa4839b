"""Executed notebook -> self-contained HTML (nbconvert, our template) -> PDF (WeasyPrint).

:func:`render_report` runs both steps in a forked child process that is killed at a
deadline (the render timeout), so one pathological report can never hang a batch: it fails
with :class:`RenderTimeout` naming the step that ran over, and the batch goes on. The
child inherits the warmed-up exporter, so the bound costs ~0.15 s a report (measured:
3.05 s in-process, 3.20 s in the child for a 13-page demo report).

WeasyPrint gets a URL fetcher that serves only ``data:`` URIs and files inside
``templates/assets``: untrusted CRM text that slipped into markup still could not make the
renderer read a local file or call a host.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

from .exceptions import RenderError
from .params import Branding
from .resources import templates_dir

TEMPLATES = templates_dir()  # shipped in the package (reporting/resources/templates)
ASSETS = TEMPLATES / "assets"

# Seconds allowed to render one report (HTML export + PDF layout). The 13-page demo report
# renders in ~3 s and an 80-page table in ~20 s; a report still laying out after five
# minutes is stuck (a Persian report with a bad character reference ran for 20+ minutes).
DEFAULT_RENDER_TIMEOUT = 300.0

STEP_HTML = "HTML export (nbconvert)"
STEP_PDF = "PDF layout (WeasyPrint)"


class RenderTimeout(RenderError):
    """A rendering step ran past the render timeout; the process doing it was killed."""

    def __init__(self, step: str, seconds: float) -> None:
        self.step = step
        self.seconds = seconds
        super().__init__(
            f"rendering timed out: the {step} step was still running after the render "
            f"timeout of {seconds:g} s and was stopped. The executed notebook is kept in the "
            "failure folder; if the report is legitimately this large, raise the render "
            "timeout (render_timeout_seconds in schedule.yaml, or the run's render timeout "
            "option)."
        )


def _fetcher_class() -> type:
    """:class:`AssetsOnlyFetcher`, defined on first use (WeasyPrint is imported then)."""
    global _FETCHER
    if _FETCHER is None:
        from weasyprint.urls import URLFetcher

        class AssetsOnlyFetcher(URLFetcher):
            """Serve ``data:`` URIs and files under ``templates/assets``; refuse everything
            else."""

            def __init__(self, assets: Path = ASSETS, **kwargs) -> None:
                super().__init__(allowed_protocols=("data", "file"), allow_redirects=False,
                                 **kwargs)
                self.assets = assets.resolve()
                self.refused: list[str] = []

            def fetch(self, url, headers=None):
                scheme = url.split(":", 1)[0].lower()
                if scheme == "file":
                    path = Path(unquote(urlsplit(url).path)).resolve()
                    if not path.is_relative_to(self.assets):
                        self.refused.append(url)
                        raise ValueError(f"refused to read {url}: outside the template assets")
                elif scheme != "data":
                    self.refused.append(url)
                    raise ValueError(f"refused to fetch {url}: only data: and template assets")
                return super().fetch(url, headers)

        AssetsOnlyFetcher.__module__ = __name__
        _FETCHER = AssetsOnlyFetcher
    return _FETCHER


_FETCHER: type | None = None


def __getattr__(name: str):
    # nbconvert and WeasyPrint (~0.8 s) are imported when a report is rendered, or by
    # prepare_render() in a thread while its notebook runs, not when the CLI starts
    if name == "AssetsOnlyFetcher":
        return _fetcher_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_FA_PAGE = """
@page { @bottom-right { content: "صفحه‌ی " counter(page, persian) " از " counter(pages, persian); }
        @bottom-left { content: string(company); } }
@page cover { @bottom-right { content: none; } @bottom-left { content: none; } }
"""


def _css(branding: Branding | None, language: str = "en") -> str:
    css = (ASSETS / "report.css").read_text(encoding="utf-8")
    if branding is not None:
        css += f"\n:root {{ --primary: {branding.primary}; --accent: {branding.accent}; }}\n"
    if language == "fa":
        css += _FA_PAGE
    return css


def notebook_to_html(
    nb: nbformat.NotebookNode, title: str, branding: Branding | None = None,
    language: str = "en",
) -> str:
    """Render an executed notebook to one self-contained HTML string (no code cells)."""
    from .i18n import N_, tr

    exporter = _exporter()
    resources = {
        "report": {
            "title": title,
            "css": _css(branding, language),
            "language": language,
            "dir": "rtl" if language == "fa" else "ltr",
            "chart_alt": tr(N_("chart"), language),  # a chart image's alt text
            "show_text": False,
        }
    }
    try:
        html, _ = exporter.from_notebook_node(nb, resources=resources)
    except Exception as exc:  # nbconvert / jinja raise many types
        raise RenderError(f"HTML export failed: {exc}") from exc
    return html


_exporter_lock = threading.Lock()
_exporter_instance = None


def _exporter():
    """One nbconvert ``HTMLExporter`` per process: its compiled template is reused (and
    inherited by the render child, which then skips ~0.4 s of template compilation)."""
    global _exporter_instance
    with _exporter_lock:
        if _exporter_instance is None:
            from nbconvert import HTMLExporter

            _exporter_instance = HTMLExporter(template_name="crm_report",
                                              extra_template_basedirs=[str(TEMPLATES)])
        return _exporter_instance


_warm_lock = threading.Lock()
_warmed = False
_start_lock = threading.Lock()
_warming: threading.Thread | None = None


def _warm_up() -> None:
    """Import nbconvert and WeasyPrint, compile the template and lay out one trusted
    two-cell notebook to PDF once in this process (the first document WeasyPrint lays out
    in a process also loads its fonts), so that every forked render child starts warm.
    While :func:`prepare_render`'s thread is doing it, this waits for it."""
    global _warmed
    with _warm_lock:
        if _warmed:
            return
        nb = nbformat.v4.new_notebook()
        code = nbformat.v4.new_code_cell("")
        code.outputs = [nbformat.v4.new_output("display_data",
                                               data={"text/html": "<p>x</p>"})]
        nb.cells = [nbformat.v4.new_markdown_cell("# x\n\n*y*"), code]
        html = notebook_to_html(nb, "warm-up")
        from weasyprint import HTML

        HTML(string=html, base_url=str(ASSETS) + "/", url_fetcher=_fetcher_class()()
             ).write_pdf()
        _warmed = True


def _warm_quietly() -> None:
    from .handoff import settle

    # after this process's shared artifacts (the run's first report computes them in a
    # thread beside its kernel): the warm-up's imports and layout held the GIL they
    # needed, and the kernel waits for them while the render is needed only after it
    settle()
    with contextlib.suppress(Exception):  # a real failure shows when the report renders
        _warm_up()


def prepare_render() -> None:
    """Start :func:`_warm_up` in a background thread, once per process: the runner calls
    this before it executes a notebook, so the imports and the warm-up overlap with the
    kernel's work instead of following it (the runner's process only waits for the kernel
    meanwhile). :func:`render_report` waits for the thread before it forks."""
    global _warming
    with _start_lock:
        if _warmed or _warming is not None:
            return
        _warming = threading.Thread(target=_warm_quietly, name="render-warm-up", daemon=True)
        _warming.start()


def _warm_and_wait() -> None:
    """:func:`_warm_up`, and no warm-up thread left running: a fork must not happen in
    the middle of an import or of a WeasyPrint call in another thread (nor of the shared
    artifacts' work, :func:`reporting.handoff.settle`)."""
    from .handoff import settle

    settle()
    _warm_up()
    with _start_lock:
        thread = _warming
    if thread is not None:
        thread.join()


def _empty_screen_only(root) -> int:
    """Empty the elements the PDF never shows (class ``screen-only``: ``display: none``
    in print, as report.css says): their content (the deal lists behind every rep-table
    row, ~15k cells a region) goes, the element itself stays, so no sibling selector
    (``.cell + .cell``, ``:first-child``) or text after it changes. WeasyPrint computes the
    style of every element, shown or not: this cuts the PDF's layout by about a third
    (5.95 -> 3.68 CPU-s for the 23 pages of the demo's EMEA report) and the PDF is
    byte-identical. Returns the number of elements emptied."""
    if root is None:
        return 0
    hidden = [el for el in root.iter()
              if "screen-only" in (el.get("class") or "").split() and (len(el) or el.text)]
    for el in hidden:
        for child in list(el):
            el.remove(child)
        el.text = None
    return len(hidden)


def html_to_pdf(html: str, target: Path) -> int:
    """Write ``html`` as an A4 PDF at ``target``; return the number of pages."""
    from weasyprint import HTML

    fetcher = _fetcher_class()()
    try:
        page = HTML(string=html, base_url=str(ASSETS) + "/", url_fetcher=fetcher)
        _empty_screen_only(getattr(page, "etree_element", None))
        doc = page.render()
        doc.write_pdf(target)
    except Exception as exc:
        raise RenderError(f"PDF rendering failed: {exc}") from exc
    return len(doc.pages)


# --------------------------------------------------------------------------- bounded render


def _send(fd: int, msg: tuple) -> None:
    data = pickle.dumps(msg)
    data = struct.pack("!I", len(data)) + data
    while data:
        data = data[os.write(fd, data):]


def _render_steps(nb, title, branding, language, out_dir: Path, to_html, to_pdf,
                  report: Callable[[tuple], None]) -> tuple[int, dict[str, float]]:
    """The two rendering steps, writing ``report.html`` and ``report.pdf`` in ``out_dir``;
    ``report`` is told each step before it starts."""
    timings: dict[str, float] = {}
    report(("step", STEP_HTML))
    t = time.perf_counter()
    html = to_html(nb, title, branding, language)
    (out_dir / "report.html").write_text(html, encoding="utf-8")
    timings["html"] = time.perf_counter() - t
    report(("step", STEP_PDF))
    t = time.perf_counter()
    pages = to_pdf(html, out_dir / "report.pdf")
    timings["pdf"] = time.perf_counter() - t
    return pages, timings


def _failure_message(step: str, exc: BaseException) -> str:
    if isinstance(exc, RenderError):
        return str(exc)
    return f"{step} failed: {type(exc).__name__}: {exc}"


def _child(w: int, parent: int, args: tuple) -> None:  # pragma: no cover - forked child
    from .lifeline import die_with_parent

    step = STEP_HTML
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):  # the parent's handlers are not ours
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, signal.SIG_DFL)
        die_with_parent(parent)

        def report(msg: tuple) -> None:
            nonlocal step
            step = msg[1]
            _send(w, msg)

        pages, timings = _render_steps(*args, report=report)
        _send(w, ("ok", pages, timings))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        try:
            _send(w, ("error", step, _failure_message(step, exc),
                      "".join(traceback.format_exception(exc))))
        except BaseException:  # noqa: BLE001, S110 - the parent sees EOF instead
            pass
    finally:
        os._exit(0)


def render_report(
    nb: nbformat.NotebookNode, title: str, branding: Branding | None, language: str,
    out_dir: Path, timeout: float | None = DEFAULT_RENDER_TIMEOUT,
    to_html: Callable = notebook_to_html, to_pdf: Callable = html_to_pdf,
    beside: Callable[[], object] | None = None,
) -> tuple[int, dict[str, float]]:
    """Render an executed notebook to ``out_dir/report.html`` and ``out_dir/report.pdf``;
    return the page count and the seconds of each step (``html``, ``pdf``).

    With a ``timeout`` (seconds, for both steps together) the work runs in a forked child
    that dies with this process and is killed at the deadline: :class:`RenderTimeout`
    names the step that was running. ``timeout=None`` (or no ``fork``) renders in-process,
    unbounded. ``to_html`` / ``to_pdf`` are the two steps (tests substitute them).

    ``beside``: other work of this process (the runner's report.xlsx), run in a thread
    while the child renders (started after the fork, so the child never inherits a running
    thread) and waited for before this returns or raises; its exception, if any, is
    raised when the render itself succeeded. In-process, it runs after the render.
    """
    args = (nb, title, branding, language, Path(out_dir), to_html, to_pdf)
    if timeout is None or not hasattr(os, "fork"):
        out = _render_steps(*args, report=lambda msg: None)
        if beside is not None:
            beside()
        return out
    if timeout <= 0:
        raise RenderError(f"render timeout {timeout!r}: give a number of seconds above 0")
    from .lifeline import track_child, untrack_child

    _warm_and_wait()
    r, w = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(r)
        _child(w, parent, args)
    os.close(w)
    track_child(pid)
    side = _Beside(beside) if beside is not None else None
    try:
        done = _wait_render(r, pid, timeout)
    finally:
        untrack_child(pid)
        side_error = side.join() if side is not None else None
    if done[0] == "error":
        err = RenderError(done[2])
        err.add_note(f"in the render process:\n{done[3]}")
        raise err
    if side_error is not None:
        raise side_error
    return done[1], done[2]


class _Beside:
    """``work`` in a thread of its own; :meth:`join` waits for it and returns its exception
    (None when it returned)."""

    def __init__(self, work: Callable[[], object]) -> None:
        import threading

        self.error: BaseException | None = None

        def run() -> None:
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - handed to the joining thread
                self.error = exc

        self.thread = threading.Thread(target=run, name="render-beside", daemon=True)
        self.thread.start()

    def join(self) -> BaseException | None:
        self.thread.join()
        return self.error


def _wait_render(r: int, pid: int, timeout: float) -> tuple:
    """The render child's last message (``("ok", pages, timings)`` or ``("error", ...)``),
    read from the pipe ``r`` with the steps it reports; the child is killed at the
    deadline (:class:`RenderTimeout`) and reaped in every case."""
    step, buf, done = STEP_HTML, b"", None
    deadline = time.monotonic() + timeout
    poller = select.poll()  # not select(): a long-lived worker may hold fds above 1024
    poller.register(r, select.POLLIN | select.POLLHUP)
    try:
        while done is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RenderTimeout(step, timeout)
            if not poller.poll(max(1, int(left * 1000))):
                continue
            chunk = os.read(r, 1 << 16)
            if not chunk:  # the child is gone without a word: killed or crashed
                try:
                    _, status = os.waitpid(pid, 0)
                    how = (f"was killed by signal {os.WTERMSIG(status)}"
                           if os.WIFSIGNALED(status)
                           else f"exited with status {os.waitstatus_to_exitcode(status)}")
                except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored)
                    how = "ended"
                pid = 0
                raise RenderError(f"{step} failed: the render process {how} "
                                  "(out of memory?)")
            buf += chunk
            while len(buf) >= 4 and len(buf) >= 4 + struct.unpack("!I", buf[:4])[0]:
                n = struct.unpack("!I", buf[:4])[0]
                msg, buf = pickle.loads(buf[4:4 + n]), buf[4 + n:]  # noqa: S301 - our child
                if msg[0] == "step":
                    step = msg[1]
                else:
                    done = msg
    finally:
        os.close(r)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
    return done


def write_index(period_dir: Path, company: str, title: str, period_title: str,
                primary: str = "#1f3a5f") -> Path:
    """Write ``reports/<period>/index.html``: every report of the period with its headline
    figures and links (relative, so the folder can be moved or shared as is), one table per
    report kind (the monthly reports, then the scorecards, the roll-up and the trend, see
    :mod:`reporting.kinds`)."""
    import json
    from datetime import UTC, datetime
    from urllib.parse import quote

    from jinja2 import Environment, FileSystemLoader, select_autoescape

    def fmt(v, spec):
        return "–" if v is None else format(v, spec)

    def folders(base: Path, depth: int = 2):
        """Report folders: regions, and the team folders inside them (no links, no hidden
        or ``_`` folders)."""
        for p in sorted(base.iterdir()):
            if p.is_symlink() or not p.is_dir() or p.name.startswith((".", "_")):
                continue
            yield p
            if depth > 1 and not p.name.endswith(".failed"):
                yield from folders(p, depth - 1)

    from .kinds import KINDS

    by_folder = {k.folder: k for k in KINDS.values() if k.folder}
    rows = []
    for d in folders(period_dir):
        rel = d.relative_to(period_dir).as_posix()
        top = rel.split("/", 1)[0]
        kind = by_folder[top] if top in by_folder else KINDS["monthly"]
        if d.name.endswith(".failed"):
            err = (d / "error.txt").read_text(encoding="utf-8").strip().splitlines() \
                if (d / "error.txt").is_file() else []
            rows.append({"name": rel[: -len(".failed")], "failed": True, "kind": kind.name,
                         "error": err[-1][:300] if err else "see error.txt",
                         "notebook": quote(f"{rel}/report.ipynb")
                         if (d / "report.ipynb").exists() else None})
            continue
        mfile = d / "metrics.json"
        if not mfile.is_file():
            continue
        m = json.loads(mfile.read_text(encoding="utf-8"))
        h = {k: (v or {}).get("value") for k, v in m.get("headline", {}).items()}
        rating = m.get("ratings", {}).get("win_rate")
        team = m.get("team")
        region = m.get("region", d.name)
        rows.append({
            "name": ("All regions" if kind.company_wide or str(region).lower() == "all"
                     else str(region))
            + (f" / {team}" if team and team != "all" else ""),
            "failed": False, "kind": kind.name,
            "win_rate": fmt(h.get("win_rate"), ".0%"),
            "rating": rating, "rating_class": rating if rating in ("good", "watch", "bad") else "",
            "cycle": fmt(h.get("median_cycle_days_won"), ".0f"),
            "deal": fmt(h.get("avg_won_amount"), ",.0f"),
            "open": fmt(h.get("open_per_rep"), ".1f"),
            "html": quote(f"{rel}/report.html"), "pdf": quote(f"{rel}/report.pdf"),
        })
    env = Environment(loader=FileSystemLoader(TEMPLATES / "fragments"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    groups = [(k.name, k.title if k.name != "monthly" else title,
               [r for r in rows if r["kind"] == k.name]) for k in KINDS.values()]
    html = env.get_template("index.html.j2").render(
        company=company, title=title, period_title=period_title, primary=primary, rows=rows,
        groups=[g for g in groups if g[2]],
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    target = period_dir / "index.html"
    tmp = period_dir / ".index.html.tmp"
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    return target
