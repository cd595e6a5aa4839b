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


_SMALLEST_TEXT = """() => {
  let min = Infinity, who = null;
  for (const el of document.querySelectorAll('body *')) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden') continue;
    const size = parseFloat(cs.fontSize);
    if (size < min) { min = size; who = el.tagName + '.' + el.className + ': '
                                        + el.textContent.trim().slice(0, 40); }
  }
  return [min, who];
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_report_reflows_on_a_phone_and_a_screen(period_dir, width, tmp_path):
    """Issue 16: at 390 px (a phone) and 1280 px the report has no horizontal page
    scroll (wide tables scroll in their own box), no console error, no text below 12 px
    and charts no wider than the page; full-page screenshots are saved for a person to
    look at ($CRM_SCREENSHOT_DIR, else the test's temporary folder)."""
    import os
    from pathlib import Path

    shots = Path(os.environ.get("CRM_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    console, failures = [], []
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": width, "height": 844})
        page.on("console", lambda m: console.append((m.type, m.text)))
        page.on("pageerror", lambda e: failures.append(str(e)))
        page.goto((period_dir / "emea/report.html").as_uri(), wait_until="load")
        scroll, inner = page.evaluate(
            "() => [document.scrollingElement.scrollWidth, window.innerWidth]")
        smallest, where = page.evaluate(_SMALLEST_TEXT)
        images = page.eval_on_selector_all(
            "figure.chart img", "els => els.map(e => e.getBoundingClientRect().right)")
        boxes = page.eval_on_selector_all(
            "figure.table", "els => els.map(e => getComputedStyle(e).overflowX)")
        page.screenshot(path=str(shots / f"emea-{width}.png"), full_page=True)
        browser.close()
    assert [c for c in console if c[0] in ("error", "warning")] == [] and failures == []
    assert scroll <= inner, f"the page scrolls sideways at {width} px: {scroll} > {inner}"
    assert smallest >= 12, f"text of {smallest} px at {width} px: {where}"
    assert len(images) >= 5 and max(images) <= inner
    assert boxes and set(boxes) == {"auto"}
    assert (shots / f"emea-{width}.png").stat().st_size > 10_000
