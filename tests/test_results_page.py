"""docs/RESULTS.md: every table in it is what ``report`` writes from the committed run tables."""

import difflib
from pathlib import Path

from deap_nnprune.experiments.results_page import fill, render_block

PAGE = Path(__file__).resolve().parents[1] / "docs" / "RESULTS.md"


def test_results_page_tables_are_regenerated_from_docs_runs_unchanged():
    text = PAGE.read_text(encoding="utf-8")
    new = fill(text, lambda dirs, together=False: render_block(dirs, PAGE.parent, together))
    diff = "".join(difflib.unified_diff(text.splitlines(True), new.splitlines(True), "docs/RESULTS.md", "report"))
    assert new == text, f"run: python -m deap_nnprune report --update docs/RESULTS.md\n{diff[:4000]}"
