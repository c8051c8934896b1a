"""``report``: tables, Mann–Whitney U tests and figures of one or many run folders.

For every configuration (run folder) the report gives the median and
interquartile range over trials of the final test L1 and capacity, in the
paper's layout with the published figure beside ours
(:data:`~deap_nnprune.experiments.presets.PAPER_RESULTS`), and pairwise
two-sided Mann–Whitney U tests between the configurations of each algorithm
(the paper's statistic). Figures are described in :mod:`.figures`.

>>> table = mann_whitney({"a": [0.1, 0.2, 0.3], "b": [0.4, 0.5, 0.6]})
>>> table[["a", "b", "U", "p_value"]].round(3).to_dict("records")
[{'a': 'a', 'b': 'b', 'U': 0.0, 'p_value': 0.1}]
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from ..atomic import atomic_write_text
from .outputs import read_csv
from .presets import PAPER_RESULTS

__all__ = ["Run", "ReportError", "find_runs", "mann_whitney", "summary_table", "write_report"]


class ReportError(ValueError):
    """Nothing to report: a missing folder, or one without finished runs."""


@dataclass
class Run:
    """One finished run folder."""

    folder: Path
    label: str
    name: str
    algorithm: str
    operator: str
    schedule: str
    config: dict
    final: pd.DataFrame
    epochs: pd.DataFrame


def _is_run(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "final.csv").is_file()


def _load(folder: Path) -> Run:
    try:
        meta = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        config = meta["config"]
        final, epochs = read_csv(folder / "final.csv"), read_csv(folder / "epochs.csv")
    except (OSError, ValueError, KeyError) as error:
        raise ReportError(f"report: {folder} cannot be read ({error})") from None
    return Run(folder, config["name"], config["name"], config["algorithm"]["name"], config["pruning"]["operator"],
               config["pruning"]["schedule"], config, final, epochs)


def find_runs(dirs: Sequence[Path]) -> list[Run]:
    """The finished runs in *dirs*: each a run folder, or a folder holding run folders (two levels deep)."""
    runs = []
    for folder in map(Path, dirs):
        if not folder.exists():
            raise ReportError(f"report: {folder}: no such folder")
        if not folder.is_dir():
            raise ReportError(f"report: {folder}: not a folder")
        if _is_run(folder):
            found = [folder]
        else:
            found = sorted({p.parent for pattern in ("*/final.csv", "*/*/final.csv") for p in folder.glob(pattern)
                            if _is_run(p.parent)})
        if not found:
            raise ReportError(f"report: {folder} holds no finished run (no config.json with final.csv in it "
                              "or its subfolders)")
        runs.extend(_load(f) for f in found)
    counts = pd.Series([run.name for run in runs]).value_counts()
    for run in runs:
        if counts[run.name] > 1:
            run.label = f"{run.name} [{run.folder.name}]"
    return runs


def mann_whitney(groups: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """Two-sided Mann–Whitney U test of every pair of *groups* (``scipy.stats.mannwhitneyu``).

    One row per pair ``(a, b)`` in the order given: sample sizes, medians,
    ``U`` (the statistic of sample *a*) and ``p_value``.
    """
    from scipy.stats import mannwhitneyu

    rows = []
    for (a, x), (b, y) in itertools.combinations(groups.items(), 2):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if len(x) and len(y):
            result = mannwhitneyu(x, y, alternative="two-sided")
            u, p = float(result.statistic), float(result.pvalue)
        else:
            u = p = float("nan")
        rows.append(dict(a=a, b=b, n_a=len(x), n_b=len(y), median_a=float(np.median(x)) if len(x) else np.nan,
                         median_b=float(np.median(y)) if len(y) else np.nan, U=u, p_value=p))
    return pd.DataFrame(rows, columns=["a", "b", "n_a", "n_b", "median_a", "median_b", "U", "p_value"])


def _median_iqr(values: pd.Series) -> str:
    q = values.quantile([0.25, 0.5, 0.75])
    return f"{q[0.5]:.4f} [{q[0.25]:.4f}, {q[0.75]:.4f}]"


def _published(value: Optional[float], digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def summary_table(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run: median [IQR] of test L1 and capacity over trials, and the paper's figures."""
    rows = []
    for run in runs:
        paper = PAPER_RESULTS.get(run.name)
        rows.append({
            "configuration": run.label, "operator": run.operator,
            "schedule": "—" if run.operator == "none" else run.schedule, "trials": len(run.final),
            "epochs": int(run.epochs.epoch.max()) if len(run.epochs) else 0,
            "test L1 median [IQR]": _median_iqr(run.final.test_l1),
            "paper test L1": _published(paper.test_l1 if paper else None, 3),
            "capacity median [IQR]": _median_iqr(run.final.capacity),
            "paper capacity": _published(paper.capacity if paper else None, 2),
            "note": paper.note if paper else "",
        })
    return pd.DataFrame(rows)


def _markdown(frame: pd.DataFrame) -> str:
    """A GitHub-style markdown table (no extra dependency)."""
    def cell(value) -> str:
        if isinstance(value, float):
            return "—" if np.isnan(value) else f"{value:.4g}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _tests(runs: Sequence[Run], metric: str) -> pd.DataFrame:
    table = mann_whitney({run.label: run.final[metric].to_numpy() for run in runs})
    table.insert(0, "metric", metric)
    table["significant (p < 0.05)"] = ["yes" if p < 0.05 else "no" for p in table.p_value]
    return table


def render(runs: Sequence[Run], figures: Sequence[str]) -> str:
    """The text of report.md."""
    parts = ["# deap_nnprune report", "",
             "Median over trials, with the interquartile range in brackets; the paper's published medians "
             "(GECCO 2025, 30 trials, 400 epochs, read off its figures) beside ours. Test L1 is the mean absolute "
             "reconstruction error of the best pair by validation L1; capacity is the fraction of weights alive. "
             "The 5% bit noise of the data makes 0.05 the floor.", ""]
    for algorithm in sorted({run.algorithm for run in runs}):
        mine = [run for run in runs if run.algorithm == algorithm]
        parts += [f"## {algorithm}", "", _markdown(summary_table(mine)), ""]
        if len(mine) > 1:
            tests = pd.concat([_tests(mine, "test_l1"), _tests(mine, "capacity")], ignore_index=True)
            parts += [f"### Mann–Whitney U tests ({algorithm}, two-sided)", "", _markdown(tests), ""]
    parts += ["## Figures", ""] + [f"![{name}]({name})" for name in figures] + [""]
    parts += ["## Runs", "", _markdown(pd.DataFrame([{
        "configuration": run.label, "folder": str(run.folder), "trials": len(run.final),
        "seed": run.config["run"]["seed"], "description": run.config.get("description", ""),
    } for run in runs])), ""]
    return "\n".join(parts)


def write_report(dirs: Sequence[Path], out: Optional[Path] = None) -> Path:
    """Write report.md and the figures for the runs in *dirs*; returns report.md's path."""
    from .figures import draw_all

    runs = find_runs(dirs)
    out = Path(out) if out is not None else Path(dirs[0]) / "report"
    if out.exists() and not out.is_dir():
        raise ReportError(f"report --out {out}: is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    figures = [path.name for path in draw_all(runs, out)]
    atomic_write_text(out / "report.md", render(runs, figures))
    return out / "report.md"
