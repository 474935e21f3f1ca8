"""The findings as a Markdown page, and the docs' findings page rendered from a committed run."""

import pytest

from bench.cli import main
from bench.results.store import RunStore
from report.markdown import findings_markdown
from report.render import load_run
from tests.conftest import FIXTURES, ROOT


def test_the_page_names_its_run_and_says_what_each_suite_decided(tmp_path, capsys):
    page = tmp_path / "findings.md"
    assert main(["report", str(FIXTURES / "runs" / "pitfalls"), "--markdown", str(page)]) == 0
    text = page.read_text()
    assert text.startswith("# What the shipped suites found\n")
    assert "Run `pitfalls` (records in `" in text and "commit ab1ce1d247fa" in text
    assert "**0 of 14 decided**" in text
    momentum = text.split("## momentum\n", 1)[1].split("\n## ", 1)[0]
    assert "- Headline (best accuracy against the runner-up, per setting): 0 of 2 comparison(s) decided." in momentum
    assert "| epochs=1 | batch (momentum=0.9) (0.678) | +0.318 over layer | one seed: no interval |" in momentum
    assert not (tmp_path / "report.html").exists()


@pytest.mark.parametrize("page, runs", [("findings.md", "runs"), ("literature-findings.md", "runs-literature")])
def test_the_docs_findings_pages_are_rendered_from_the_committed_runs(page, runs):
    """docs/findings.md is ``normbench report docs/runs/<id> --markdown docs/findings.md``, exactly
    (and the literature tier's page likewise): no number in them was typed by hand, and a change to
    the analysis that would change them shows here."""
    (run,) = [p for p in (ROOT / "docs" / runs).iterdir() if p.is_dir()]
    source = f"docs/{runs}/{run.name}"
    expected = findings_markdown([load_run(RunStore(run))], source)
    assert (ROOT / "docs" / page).read_text() == expected
