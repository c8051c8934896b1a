"""The report's PNG figures, drawn with matplotlib's Agg canvas (no display, no global backend switch).

Each function takes the loaded runs and a path, and writes one figure
atomically: final test L1 by configuration (box plot), validation L1 and
capacity over epochs (median line with an interquartile band), and final
test L1 against capacity (one point per trial: the pruning trade-off).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

from ..atomic import atomic_open

__all__ = ["FIGURES", "draw_all"]


def _figure(width: float = 7.0, height: float = 4.5):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    return figure, figure.add_subplot(1, 1, 1)


def _save(figure, path: Path) -> None:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    with atomic_open(path, "wb") as handle:
        handle.write(buffer.getvalue())


def boxplot_test_l1(runs: Sequence, path: Path) -> None:
    figure, axes = _figure(max(7.0, 1.1 * len(runs) + 2), 5.0)
    axes.boxplot([run.final.test_l1.to_numpy() for run in runs], showmeans=False)
    axes.set_xticks(range(1, len(runs) + 1))
    axes.set_xticklabels([run.label for run in runs], rotation=30, ha="right", fontsize=8)
    axes.axhline(0.05, color="grey", linestyle=":", label="noise floor (5% flipped bits)")
    axes.set_title("Final test L1 by configuration (one value per trial)", fontsize=10)
    axes.set_xlabel("configuration")
    axes.set_ylabel("test L1 (mean absolute error per bit)")
    axes.set_ylim(0.0, max(0.55, axes.get_ylim()[1]))  # room above a collapsed configuration at 0.5
    axes.legend(loc="lower left", fontsize=8)  # the floor line is at the bottom, boxes sit above it
    _save(figure, path)


def _over_epochs(runs: Sequence, column: str, path: Path, title: str, ylabel: str) -> None:
    figure, axes = _figure()
    for run in runs:
        by_epoch = run.epochs.groupby("epoch")[column]
        median, low, high = by_epoch.median(), by_epoch.quantile(0.25), by_epoch.quantile(0.75)
        line, = axes.plot(median.index, median.to_numpy(), label=f"{run.label} (median)")
        axes.fill_between(median.index, low.to_numpy(), high.to_numpy(), color=line.get_color(), alpha=0.2)
    axes.set_title(title + " (median over trials, band: interquartile range)", fontsize=10)
    axes.set_xlabel("epoch (generation)")
    axes.set_ylabel(ylabel)
    axes.legend(fontsize=7)
    _save(figure, path)


def validation_l1(runs: Sequence, path: Path) -> None:
    _over_epochs(runs, "validation_l1", path, "Validation L1 of the best pair",
                 "validation L1 (mean absolute error per bit)")


def capacity(runs: Sequence, path: Path) -> None:
    _over_epochs(runs, "capacity", path, "Capacity of the best pair", "capacity (fraction of weights alive)")


def l1_vs_capacity(runs: Sequence, path: Path) -> None:
    figure, axes = _figure()
    for run in runs:
        axes.scatter(run.final.capacity.to_numpy(), run.final.test_l1.to_numpy(), label=run.label, alpha=0.7, s=18)
    axes.set_title("Pruning trade-off: final test L1 against capacity (one point per trial)", fontsize=10)
    axes.set_xlabel("capacity (fraction of weights alive)")
    axes.set_ylabel("test L1 (mean absolute error per bit)")
    axes.legend(fontsize=7)
    _save(figure, path)


#: File name and drawing function of every figure.
FIGURES = {
    "test_l1_boxplot.png": boxplot_test_l1,
    "validation_l1_over_epochs.png": validation_l1,
    "capacity_over_epochs.png": capacity,
    "l1_vs_capacity.png": l1_vs_capacity,
}


def draw_all(runs: Sequence, folder: Path) -> list[Path]:
    """Draw every figure of :data:`FIGURES` into *folder*; returns their paths."""
    paths = []
    for name, draw in FIGURES.items():
        draw(runs, Path(folder) / name)
        paths.append(Path(folder) / name)
    return paths
