"""The report in a real headless browser: offline, figures render, the table sorts and filters,
injected markup stays text. Skips where Chromium or Playwright is missing (.ci/run installs both)."""

import re
import shutil

import pytest

from bench.results.store import RunStore
from report import write_report
from tests.conftest import FIXTURES

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


def test_the_first_screen_states_the_findings(page):
    """Answers first: the findings heading and its first sentences are inside the initial viewport,
    above the environment."""
    box = page.locator("#findings").bounding_box()
    assert box is not None and box["y"] < 900
    first = page.locator("section.finding li").first
    assert first.is_visible() and first.bounding_box()["y"] < 900
    assert first.text_content().startswith("Headline (best accuracy against the runner-up, per setting): ")
    overall = page.locator("p.headline")
    assert overall.bounding_box()["y"] < 900
    assert re.search(r"Headline comparisons .*: \d+ of \d+ decided", overall.text_content().replace("\n", " "))
    assert page.locator("#environment").bounding_box()["y"] > box["y"]
    # each suite's finding links to its section
    page.click("section.finding h3 a >> nth=0")
    assert page.evaluate("location.hash").startswith("#suite-")
