"""Results pages whose tables ``report`` writes: marked blocks in a markdown file, regenerated from run tables.

A page such as ``docs/RESULTS.md`` holds prose and blocks like::

    <!-- report: runs/paper-coevolution-none runs/paper-coevolution-random-exponential -->
    (tables written by report)
    <!-- end report -->

(``<!-- report together: … -->`` puts all the block's runs in one table, with every pair tested,
whatever their algorithms.)

The paths after ``report:`` are run folders (or folders of run folders),
relative to the page's own folder. :func:`update_page` replaces the body of
every block by the summary tables and Mann–Whitney tests of those runs, so
no figure in a block is typed by hand; ``report --update PAGE --check``
(and a test) says whether a page is out of date with its run tables.

>>> fill("a\\n<!-- report: x -->\\nold\\n<!-- end report -->\\nb\\n", lambda dirs: "new " + dirs[0])
'a\\n<!-- report: x -->\\nnew x\\n<!-- end report -->\\nb\\n'
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from ..atomic import atomic_write_text
from .report import ReportError, find_runs, tables

__all__ = ["fill", "render_block", "update_page", "page_diff"]

_BLOCK = re.compile(
    r"(<!-- report(?P<together> together)?: (?P<dirs>[^>]*?) -->\n)(?P<body>.*?)(<!-- end report -->)", re.DOTALL
)


def fill(text: str, render: Callable[..., str]) -> str:
    """*text* with the body of every report block replaced by ``render(dirs)`` (``render(dirs, together=True)``
    for a ``report together`` block)."""

    def replace(match: re.Match) -> str:
        dirs = match.group("dirs").split()
        body = render(dirs, together=True) if match.group("together") else render(dirs)
        return match.group(1) + body.rstrip("\n") + "\n" + match.group(5)

    return _BLOCK.sub(replace, text)


def render_block(dirs: Sequence[str], base: Path, together: bool = False) -> str:
    """The tables of the runs in *dirs* (relative to *base*), as markdown (one table with *together*)."""
    if not dirs:
        raise ReportError("report block names no run folder")
    return tables(find_runs([base / d for d in dirs]), together=together)


def _regenerated(page: Path) -> tuple[str, str]:
    """*page*'s text, and the same text with every report block regenerated."""
    try:
        text = page.read_text(encoding="utf-8")
    except OSError as error:
        raise ReportError(f"report --update {page}: cannot be read ({error.strerror or error})") from None
    if not _BLOCK.search(text):
        raise ReportError(f"report --update {page}: has no <!-- report: DIR ... --> block")
    return text, fill(text, lambda dirs, together=False: render_block(dirs, page.parent, together))


def update_page(page: Path, check: bool = False) -> bool:
    """Regenerate the report blocks of *page*; returns whether the page was (or, with *check*, would be) changed."""
    page = Path(page)
    text, new = _regenerated(page)
    if new != text and not check:
        atomic_write_text(page, new)
    return new != text


def page_diff(page: Path) -> str:
    """What :func:`update_page` would change in *page*, as a unified diff (empty when it is up to date).

    >>> import tempfile
    >>> from pathlib import Path
    >>> from deap_nnprune.experiments.cli import main
    >>> folder = Path(tempfile.mkdtemp())
    >>> main(["run", "--preset", "quick", "--trials", "1", "--epochs", "1", "--quiet", "--out", str(folder / "run")])
    ... # doctest: +ELLIPSIS
    quick: 1 trial(s), test L1 median ...
    0
    >>> page = folder / "page.md"
    >>> _ = page.write_text("<!-- report: run -->\\n<!-- end report -->\\n")
    >>> page_diff(page).startswith("--- ")
    True
    >>> update_page(page), page_diff(page)
    (True, '')
    """
    page = Path(page)
    text, new = _regenerated(page)
    return "".join(difflib.unified_diff(text.splitlines(True), new.splitlines(True), str(page), "report"))
