"""The report's PNG figures, drawn with matplotlib's Agg canvas (no display, no global backend switch).

Each function takes the loaded runs and a path, and writes one figure
atomically: final test L1 by configuration (box plot), validation L1 and
capacity over epochs (median line with an interquartile band), and final
test L1 against capacity (one point per trial: the pruning trade-off).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from ..atomic import atomic_open

__all__ = ["FIGURES", "draw_all"]


def _figure(width: float = 7.0, height: float = 4.5):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")  # makes room for outside legends
    return figure, figure.add_subplot(1, 1, 1)


def _save(figure, path: Path) -> None:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    with atomic_open(path, "wb") as handle:
        handle.write(buffer.getvalue())


_LINE_STYLES = ("-", "--", ":")
_MARKERS = ("o", "s", "^", "D", "v")


def _style(k: int) -> dict:
    """Colour and line style of the *k*-th configuration: distinct for up to 60 of them."""
    from matplotlib import colormaps

    return dict(color=colormaps["tab20"](k % 20), linestyle=_LINE_STYLES[(k // 20) % len(_LINE_STYLES)])


def _legend_below(figure, columns: int = 2) -> None:
    """One legend for the figure, under the axes, so that many long labels leave the plot its full width."""
    figure.legend(fontsize=7, loc="outside lower center", ncols=columns)


def boxplot_test_l1(runs: Sequence, path: Path) -> None:
    figure, axes = _figure(9.0, max(3.0, 0.38 * len(runs) + 1.8))
    positions = list(range(len(runs), 0, -1))  # the first configuration on top
    axes.boxplot([run.final.test_l1.to_numpy() for run in runs], positions=positions, orientation="horizontal")
    axes.set_yticks(positions)
    axes.set_yticklabels([run.label for run in runs], fontsize=8)
    axes.axvline(0.05, color="grey", linestyle=":", label="noise floor (5% flipped bits)")
    axes.set_title("Final test L1 by configuration (one value per trial)", fontsize=10)
    axes.set_ylabel("configuration")
    axes.set_xlabel("test L1 (mean absolute error per bit)")
    axes.set_xlim(0.0, max(0.55, axes.get_xlim()[1]))  # room beside a collapsed configuration at 0.5
    _legend_below(figure, columns=1)
    _save(figure, path)


def _over_epochs(runs: Sequence, column: str, path: Path, title: str, ylabel: str) -> None:
    figure, axes = _figure(10.0, 5.0 + 0.09 * len(runs))
    for k, run in enumerate(runs):
        by_epoch = run.epochs.groupby("epoch")[column]
        median, low, high = by_epoch.median(), by_epoch.quantile(0.25), by_epoch.quantile(0.75)
        style = _style(k)
        axes.plot(median.index, median.to_numpy(), label=f"{run.label} (median)", linewidth=1.2, **style)
        axes.fill_between(median.index, low.to_numpy(), high.to_numpy(), color=style["color"], alpha=0.15)
    axes.set_title(title + " (median over trials, band: interquartile range)", fontsize=10)
    axes.set_xlabel("epoch (generation)")
    axes.set_ylabel(ylabel)
    _legend_below(figure)
    _save(figure, path)


def validation_l1(runs: Sequence, path: Path) -> None:
    _over_epochs(
        runs, "validation_l1", path, "Validation L1 of the best pair", "validation L1 (mean absolute error per bit)"
    )


def capacity(runs: Sequence, path: Path) -> None:
    _over_epochs(runs, "capacity", path, "Capacity of the best pair", "capacity (fraction of weights alive)")


def l1_vs_capacity(runs: Sequence, path: Path) -> None:
    figure, axes = _figure(10.0, 5.0 + 0.09 * len(runs))
    for k, run in enumerate(runs):
        axes.scatter(
            run.final.capacity.to_numpy(),
            run.final.test_l1.to_numpy(),
            label=run.label,
            alpha=0.8,
            s=22,
            color=_style(k)["color"],
            marker=_MARKERS[(k // 20) % len(_MARKERS)],
        )
    axes.set_title("Pruning trade-off: final test L1 against capacity (one point per trial)", fontsize=10)
    axes.set_xlabel("capacity (fraction of weights alive)")
    axes.set_ylabel("test L1 (mean absolute error per bit)")
    _legend_below(figure)
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
