"""Open the period index and a report's HTML in a real headless browser (Debian's
chromium, driven by Playwright through its executable path): they load with no console
errors and make no network request at all."""

from __future__ import annotations

import shutil

import pytest

from reporting.batch import write_indexes
from reporting.runner import run_report

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium")
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def period_dir(demo_store, tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it as root)")
    out = tmp_path_factory.mktemp("browser")
    run_report("EMEA", "2026-09", store=demo_store, reports_dir=out)
    write_indexes(out, ["2026-09"])
    return out / "2026-09"


@pytest.mark.parametrize("page_path", ["index.html", "emea/report.html"])
def test_page_loads_without_errors_or_requests(period_dir, page_path):
    url = (period_dir / page_path).as_uri()
    console, failures, requests = [], [], []
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.on("console", lambda m: console.append((m.type, m.text)))
        page.on("pageerror", lambda e: failures.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(url, wait_until="load")
        title = page.title()
        text = page.inner_text("body")
        links = page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")
        browser.close()
    assert [c for c in console if c[0] in ("error", "warning")] == []
    assert failures == []
    assert requests == [url], f"unexpected requests: {requests[1:]}"
    assert title and "EMEA" in text
    if page_path == "index.html":
        assert "emea/report.html" in links and "emea/report.pdf" in links
