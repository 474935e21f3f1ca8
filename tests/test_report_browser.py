"""The report in a real headless browser: offline, figures render, the table sorts and filters,
injected markup stays text. Skips where Chromium or Playwright is missing (.ci/run installs both)."""

import json
import re
import shutil

import pytest

from bench.results.store import RunStore
from report import write_report
from tests.conftest import FIXTURES, ROOT

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The fixture run's report, rendered once; each test opens it in a fresh browser."""
    run = tmp_path_factory.mktemp("results") / "mixed"
    shutil.copytree(FIXTURES / "runs" / "mixed", run)
    return write_report([RunStore(run)])


@pytest.fixture
def page(report):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.requests, page.dialogs = [], []
        page.on("request", lambda request: page.requests.append(request.url))
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        yield page
        browser.close()


def test_no_network_request_is_made(page):
    assert page.requests and all(url.startswith(("file://", "data:")) for url in page.requests)


def test_every_figure_renders(page):
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert len(widths) >= 5 and all(width > 100 for width in widths)


def test_the_records_table_sorts_and_filters(page):
    column = "#records-table tbody tr td:nth-child(3)"  # accuracy, inference mode
    page.click("#records-table thead th:nth-child(3)")
    values = [float(v) for v in page.eval_on_selector_all(column, "tds => tds.map(td => td.textContent)") if v]
    assert len(values) > 10 and values == sorted(values)
    page.click("#records-table thead th:nth-child(3)")
    values = [float(v) for v in page.eval_on_selector_all(column, "tds => tds.map(td => td.textContent)") if v]
    assert values == sorted(values, reverse=True)

    page.fill("#records-filter", "failed")
    visible = page.eval_on_selector_all("#records-table tbody tr",
                                        "rows => rows.filter(r => r.style.display !== 'none').length")
    assert visible == 2
    assert page.text_content("#records-shown").startswith("2 of ")


def test_injected_markup_renders_as_text(page):
    assert page.dialogs == []
    assert page.locator("text=<script>alert(1)</script>").count() >= 1


def test_hundreds_of_records_are_paged(tmp_path):
    import json

    run = tmp_path / "big"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"run_id": "big", "suites": [{"name": "s"}]}))
    records = [{"case_id": f"s/n/i={i}/seed=0/cpu", "suite": "s", "normalizer": "n", "device": "cpu",
                "status": "failed" if i % 10 == 0 else "ok", "test_accuracy": i / 250} for i in range(250)]
    (run / "cases.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    report = write_report([RunStore(run)])
    visible = "rows => rows.filter(r => r.style.display !== 'none').length"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(report.as_uri())
        assert page.eval_on_selector_all("#records-table tbody tr", visible) == 100
        assert page.text_content("#records-page") == "page 1 of 3"
        page.click("#records-next")
        page.click("#records-next")
        assert page.eval_on_selector_all("#records-table tbody tr", visible) == 50
        page.fill("#records-filter", "failed")
        assert page.text_content("#records-page") == "page 1 of 1"
        assert page.eval_on_selector_all("#records-table tbody tr", visible) == 25
        browser.close()


def test_screenshot(page, tmp_path):
    path = tmp_path / "report.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 50_000


def test_the_findings_follow_the_figures(page):
    """Each suite's findings open with its one-sentence summary (the rest folded), after the
    figures at a glance and above the environment."""
    box = page.locator("#findings").bounding_box()
    assert box["y"] > page.locator(".forest-grid").bounding_box()["y"]
    first = page.locator("section.finding p.summary").first
    assert first.is_visible()
    assert first.text_content().startswith("Best accuracy against the runner-up, per setting: ")
    assert not page.locator("section.finding li").first.is_visible()  # the other sentences are folded
    overall = page.locator("p.headline")
    assert re.search(r"Headline comparisons .*: \d+ of \d+ decided", overall.text_content().replace("\n", " "))
    assert page.locator("#environment").bounding_box()["y"] > box["y"]
    # each suite's finding links to its section
    page.click("section.finding h3 a >> nth=0")
    assert page.evaluate("location.hash").startswith("#suite-")


DEFAULT_RUN = ROOT / "docs" / "runs" / "20261202-142220-ee30d3"  # a real default run (2-core VM, 2026-12-02)


@pytest.fixture(scope="module")
def default_report(tmp_path_factory):
    return write_report([RunStore(DEFAULT_RUN)], tmp_path_factory.mktemp("default") / "report.html")


def test_the_first_screen_shows_the_headline_figures_and_what_ran(default_report):
    """At 1400x900, the default run's report opens with what ran, what was decided and what could
    not run here, then at least three suites' headline forest plots, whole, each at least 300 px
    wide and shown at no less than half its drawn size (its 8.5 pt labels stay about 11 px)."""
    records = [json.loads(line) for line in (DEFAULT_RUN / "cases.jsonl").read_text().splitlines() if line.strip()]
    ran = sum(r.get("status") in ("ok", "nan") for r in records)
    skipped = sum(r.get("status") == "skipped" for r in records)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(default_report.as_uri())
        page.wait_for_load_state("load")
        lead = page.locator("p.lead")
        text = " ".join(lead.text_content().split())
        assert text.startswith(f"Ran {ran} case(s): ")
        assert re.search(r"; \d+ of \d+ headline comparisons decided in \d+ min \d+ s\.", text)
        not_run = " ".join(page.locator("details.note summary").first.text_content().split())
        assert not_run.startswith(f"Not run here: {skipped} case(s)") and skipped > 0
        for header in (lead, page.locator("details.note summary").first):
            box = header.bounding_box()
            assert 0 <= box["y"] and box["y"] + box["height"] <= 900
        figures = page.eval_on_selector_all(".forest-grid img", """imgs => imgs.map(i => {
            const r = i.getBoundingClientRect();
            return {top: r.top, bottom: r.bottom, width: r.width, natural: i.complete ? i.naturalWidth : 0,
                    alt: i.alt}; })""")
        suites = {r["suite"] for r in records if r.get("status") in ("ok", "nan") and r.get("workload") != "layer"}
        assert len(figures) == len(suites)  # every model suite (each compares something here) has its plot
        whole = [f for f in figures if f["top"] >= 0 and f["bottom"] <= 900]
        assert len(whole) >= 3, figures[:4]
        assert all(f["width"] >= 300 and f["natural"] > 0 and f["width"] / f["natural"] >= 0.45 for f in figures)
        assert all(f["alt"].startswith("Forest plot of ") for f in whole)
        captions = page.eval_on_selector_all(".forest-grid figcaption", "cs => cs.map(c => c.textContent.trim())")
        assert len(captions) >= len(figures)
        assert all(c.endswith(".") and ". " not in c for c in captions)  # one sentence each
        # the tables, the text alternative, follow the figures
        assert page.locator("table.findings").first.bounding_box()["y"] > max(f["bottom"] for f in figures)
        browser.close()
