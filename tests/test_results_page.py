"""docs/RESULTS.md: every table in it is what ``report`` writes from the committed run tables."""

from pathlib import Path

from deap_nnprune.experiments.results_page import page_diff

PAGE = Path(__file__).resolve().parents[1] / "docs" / "RESULTS.md"


def test_results_page_tables_are_regenerated_from_docs_runs_unchanged():
    diff = page_diff(PAGE)
    assert not diff, f"run: python -m deap_nnprune report --update docs/RESULTS.md\n{diff[:4000]}"
