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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._optional import require
from ..atomic import atomic_write_text
from .config import NO_RESULT_RUN_KEYS, changed_settings, from_dict, identity_of_dict, resolved, to_dict
from .outputs import read_csv
from .presets import PAPER_RESULTS, PRESETS

__all__ = ["Run", "ReportError", "find_runs", "pool", "mann_whitney", "summary_table", "write_report"]


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
    folders: list[Path] | None = None  # the run folders pooled into this one, when several
    seconds: float | None = None  # wall-clock seconds of all its trials (timings.csv), when recorded


def _is_run(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "final.csv").is_file()


def _load(folder: Path) -> Run:
    try:
        meta = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        config = meta["config"]
        final, epochs = read_csv(folder / "final.csv"), read_csv(folder / "epochs.csv")
    except (OSError, ValueError, KeyError) as error:
        raise ReportError(f"report: {folder} cannot be read ({error})") from None
    return Run(
        folder,
        config["name"],
        config["name"],
        config["algorithm"]["name"],
        config["pruning"]["operator"],
        config["pruning"]["schedule"],
        config,
        final,
        epochs,
        seconds=_wall_seconds(folder),
    )


def _wall_seconds(folder: Path) -> float | None:
    """Seconds the run's trials took (a batched task's seconds, written on each of its trials' rows, once)."""
    try:
        timings = read_csv(folder / "timings.csv")
    except (OSError, ValueError):
        return None
    if not {"seconds", "batched_trials"} <= set(timings.columns):
        return None
    batched = timings.batched_trials.astype(str) == "True"
    return float(timings.seconds[~batched].sum() + timings.seconds[batched].drop_duplicates().sum())


#: Run settings that say how many trials ran and how, not what a trial is: folders differing only here pool.
#: The engine, the device and the thread count change results only by floating-point rounding.
HOW_TRIALS_RAN = ("seed", "batch_trials", "engine", "trials", "device", "threads")


def _same_but_seed(config: dict) -> str:
    """The settings that define a configuration, without the root seed and how the trials were run.

    Settings added to the library after a run was made take their defaults, which that run used.
    """
    try:
        config = to_dict(from_dict(config))
    except (KeyError, TypeError, ValueError):
        pass
    settings = identity_of_dict(config)
    for key in HOW_TRIALS_RAN:
        settings["run"].pop(key, None)
    return json.dumps(settings, sort_keys=True)


def _note(run: Run) -> str:
    """The paper's note on the run's preset, or, for a run that changed what a trial is, the changed settings.

    A run of a preset with some settings changed (an ablation, a smaller
    test) is not the protocol the published figures and notes describe;
    the note then lists what was changed, ``changed: section.key=value, …``.
    """
    preset = PRESETS.get(run.name)
    try:
        changes = [] if preset is None else changed_settings(resolved(preset), from_dict(run.config))
    except (KeyError, TypeError, ValueError):  # a table from an older library: no note
        return ""
    ignored = {f"run.{key}" for key in (*HOW_TRIALS_RAN, *NO_RESULT_RUN_KEYS)}
    changes = [change for change in changes if change.split("=", 1)[0] not in ignored]
    if changes:
        return "changed: " + ", ".join(changes)
    paper = PAPER_RESULTS.get(run.name)
    return paper.note if paper else ""


def pool(runs: Sequence[Run]) -> list[Run]:
    """Merge run folders of one configuration run with different root seeds into one :class:`Run`.

    Folders whose settings are equal except ``run.seed`` (and how many trials
    ran, and how: :data:`HOW_TRIALS_RAN`), and whose tables have the same columns (written by the
    same version of the library's tables), hold independent trials of the
    same configuration: their trials are taken together, in the order given,
    renumbered from 0. A trial seed seen twice is refused: it would count one
    trial twice.
    """
    groups: dict[tuple, list[Run]] = {}
    for run in runs:
        groups.setdefault((_same_but_seed(run.config), tuple(run.final.columns)), []).append(run)
    pooled = []
    for members in groups.values():
        if len(members) == 1:
            pooled.append(members[0])
            continue
        finals, epochs, offset = [], [], 0
        for member in members:
            renumber = {old: offset + rank for rank, old in enumerate(sorted(member.final.trial))}
            finals.append(member.final.assign(trial=member.final.trial.map(renumber)))
            epochs.append(member.epochs.assign(trial=member.epochs.trial.map(renumber)))
            offset += len(member.final)
        final = pd.concat(finals, ignore_index=True)
        if final.seed.duplicated().any():
            raise ReportError(
                f"report: {', '.join(str(m.folder) for m in members)} share trial seeds; each trial may be counted once"
            )
        first = members[0]
        pooled.append(
            Run(
                first.folder.parent if len({m.folder.parent for m in members}) == 1 else first.folder,
                first.label,
                first.name,
                first.algorithm,
                first.operator,
                first.schedule,
                first.config,
                final,
                pd.concat(epochs, ignore_index=True),
                [m.folder for m in members],
                None if any(m.seconds is None for m in members) else sum(m.seconds for m in members),  # type: ignore[misc]
            )
        )
    return pooled


def find_runs(dirs: Sequence[Path]) -> list[Run]:
    """The finished runs in *dirs*: each a run folder, or a folder holding run folders (two levels deep).

    Folders of one configuration run with different seeds are pooled (see :func:`pool`).
    """
    runs: list = []
    for folder in map(Path, dirs):
        if not folder.exists():
            raise ReportError(f"report: {folder}: no such folder")
        if not folder.is_dir():
            raise ReportError(f"report: {folder}: not a folder")
        if _is_run(folder):
            found = [folder]
        else:
            found = sorted(
                {
                    p.parent
                    for pattern in ("*/final.csv", "*/*/final.csv")
                    for p in folder.glob(pattern)
                    if _is_run(p.parent)
                }
            )
        if not found:
            raise ReportError(
                f"report: {folder} holds no finished run (no config.json with final.csv in it or its subfolders)"
            )
        runs.extend(_load(f) for f in found)
    runs = pool(runs)
    counts = pd.Series([run.name for run in runs]).value_counts()
    for run in runs:
        if counts[run.name] > 1:
            run.label = f"{run.name} [{run.folder.name}]"
    return runs


def mann_whitney(groups: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """Two-sided Mann–Whitney U test of every pair of *groups* (``scipy.stats.mannwhitneyu``).

    One row per pair ``(a, b)`` in the order given: sample sizes, medians,
    ``U`` (the statistic of sample *a*), ``p_value`` and the Vargha–Delaney
    effect size ``A = U / (n_a n_b)``, the probability that a value of *a*
    exceeds one of *b* (ties count half): 0.5 is no effect; for a loss,
    ``A < 0.5`` means *a* tends to be lower. By the usual thresholds
    ``|A - 0.5|`` of 0.06, 0.14 and 0.21 are small, medium and large.
    When both samples hold one and the same value, ``p_value`` is 1 and
    ``A`` is 0.5, whatever the scipy version (scipy 1.18 gives nan there).

    >>> mann_whitney({"a": [1.0, 1.0], "b": [1.0]})[["U", "p_value", "A"]].iloc[0].tolist()
    [1.0, 1.0, 0.5]
    """
    mannwhitneyu = require("scipy.stats", "report", "the Mann–Whitney U test").mannwhitneyu

    rows = []
    for (a, values_a), (b, values_b) in itertools.combinations(groups.items(), 2):
        x, y = np.asarray(values_a, dtype=float), np.asarray(values_b, dtype=float)
        if not (len(x) and len(y)):
            u = p = float("nan")
        elif np.ptp(np.concatenate([x, y])) == 0:
            u, p = len(x) * len(y) / 2, 1.0  # one value in both: no evidence of a difference (newer scipy says nan)
        else:
            result = mannwhitneyu(x, y, alternative="two-sided")
            u, p = float(result.statistic), float(result.pvalue)
        rows.append(
            dict(
                a=a,
                b=b,
                n_a=len(x),
                n_b=len(y),
                median_a=float(np.median(x)) if len(x) else np.nan,
                median_b=float(np.median(y)) if len(y) else np.nan,
                U=u,
                p_value=p,
                A=u / (len(x) * len(y)) if len(x) and len(y) else float("nan"),
            )
        )
    return pd.DataFrame(rows, columns=["a", "b", "n_a", "n_b", "median_a", "median_b", "U", "p_value", "A"])


def _median_iqr(values: pd.Series) -> str:
    q = values.quantile([0.25, 0.5, 0.75])
    return f"{q[0.5]:.4f} [{q[0.25]:.4f}, {q[0.75]:.4f}]"


def _published(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _pooled(final: pd.DataFrame, column: str) -> str:
    """Mean (median) over trials of a per-trial mean over cells; — if not recorded.

    With equal cells per trial the mean is the mean over all cells and trials, the paper's figure. The
    median is the median of the trials' means, not of all cells (the tables keep the per-trial means only).
    """
    if column not in final or final[column].isna().all():
        return "—"
    return f"{final[column].mean():.4f} ({final[column].median():.4f})"


def network_steps(config: dict) -> int | None:
    """Compute of one trial of a run's *config* in network-steps (see
    :func:`~deap_nnprune.experiments.toolboxes.network_steps`); None when its data cannot be loaded here.

    >>> from deap_nnprune.experiments.presets import get_preset
    >>> network_steps(to_dict(get_preset("quick")))  # 3 cells x 10 epochs x 40 batches (200 rows, 5 a batch)
    1200
    """
    from .toolboxes import load_data
    from .toolboxes import network_steps as steps

    try:
        settings = from_dict(config)
        return steps(settings, load_data(settings.data, settings.run.plugins).train.shape[0])
    except (OSError, ValueError, KeyError, TypeError, ImportError):
        return None


def _mean_ci(final: pd.DataFrame, column: str) -> str:
    """95 % confidence interval of the mean over trials (Student's t); — with fewer than two trials."""
    if column not in final or final[column].notna().sum() < 2:
        return "—"
    t = require("scipy.stats", "report", "confidence intervals").t
    values = final[column].dropna().to_numpy(dtype=float)
    low, high = t.interval(0.95, len(values) - 1, loc=values.mean(), scale=values.std(ddof=1) / np.sqrt(len(values)))
    return f"[{low:.4f}, {high:.4f}]"


def summary_table(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run: the paper's published figures beside ours of the same metric, then our own metrics.

    ``paper L1`` is the mean (median) over trials of ``paper_l1``, the mean
    training L1 of a trial's centre pairs at the last epoch, so with equal
    cells per trial it is the mean over all cells and trials, the figure the
    paper reports; ``paper capacity`` likewise of ``paper_capacity``, the
    authors' counter; the t interval of the mean paper L1 says whether
    the published figure is within our trials' noise. Then our main metric, the test L1 of the pair chosen
    by validation L1, and its true alive fraction (median [IQR]), and, for a
    run with a ``finish`` step, the same pair's test L1 and capacity before
    that step (medians); last, the
    compute of one trial in network-steps and the wall-clock seconds per
    trial (from ``timings.csv``; trials batched together share theirs); the
    note is the paper's on the preset, or the settings the run changed.
    """
    rows = []
    for run in runs:
        paper = PAPER_RESULTS.get(run.name)
        rows.append(
            {
                "configuration": run.label,
                "operator": run.operator,
                "schedule": "—" if run.operator == "none" else run.schedule,
                "trials": len(run.final),
                "epochs": int(run.epochs.epoch.max()) if len(run.epochs) else 0,
                "published L1": _published(paper.test_l1 if paper else None, 3),
                "paper L1 mean (median of trials)": _pooled(run.final, "paper_l1"),
                "paper L1 mean 95% CI": _mean_ci(run.final, "paper_l1"),
                "published capacity": _published(paper.capacity if paper else None, 2),
                "paper capacity mean (median of trials)": _pooled(run.final, "paper_capacity"),
                "test L1 median [IQR]": _median_iqr(run.final.test_l1),
                "capacity median [IQR]": _median_iqr(run.final.capacity),
                "before the finish step: test L1, capacity (medians)": _before_finish(run.final),
                "network-steps per trial": _steps(network_steps(run.config)),
                "wall s per trial": "—" if run.seconds is None else f"{run.seconds / len(run.final):.0f}",
                "note": _note(run),
            }
        )
    return pd.DataFrame(rows)


def _before_finish(final: pd.DataFrame) -> str:
    """``test L1, capacity`` medians before the finishing step (``unfinished_…`` columns), or — without one."""
    if "unfinished_test_l1" not in final:
        return "—"
    return f"{final.unfinished_test_l1.median():.4f}, {final.unfinished_capacity.median():.3f}"


def _steps(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1e6:.2f} M" if value >= 1e6 else f"{value / 1e3:.0f} k" if value >= 1e4 else str(value)


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


def tables(runs: Sequence[Run], heading: str = "####", together: bool = False) -> str:
    """Per algorithm: the summary table and, with several runs, the Mann–Whitney U tests (markdown).

    *heading* is the markdown level of each algorithm's heading; the tests' heading is one level below.
    With *together*, all runs share one table and every pair is tested, whatever its algorithm (to set
    baselines of one algorithm beside rows of another at equal compute).
    """
    parts = []
    groups = (
        {"all": list(runs)}
        if together
        else {a: [r for r in runs if r.algorithm == a] for a in sorted({r.algorithm for r in runs})}
    )
    for algorithm, mine in groups.items():
        parts += [f"{heading} {algorithm}", "", _markdown(summary_table(mine)), ""]
        if len(mine) > 1:
            metrics = ["test_l1", "capacity"] + [m for m in ("paper_l1",) if all(m in run.final for run in mine)]
            tests = pd.concat([_tests(mine, metric) for metric in metrics], ignore_index=True)
            parts += [f"{heading}# Mann–Whitney U tests ({algorithm}, two-sided)", "", _markdown(tests), ""]
    return "\n".join(parts)


def render(runs: Sequence[Run], figures: Sequence[str]) -> str:
    """The text of report.md."""
    parts = [
        "# deap_nnprune report",
        "",
        "The paper's published figures (GECCO 2025, 30 trials, 400 epochs, read off its figures) stand beside "
        "ours of the same metric: *paper L1* is the training-set L1 of every cell's centre pair at the last "
        "epoch, pooled over cells and trials (mean; in brackets the median of the trials' means), and "
        "*paper capacity* the authors' "
        "counter of pruned weights (counted after each prune, never recounted after regrowth). Our own "
        "metrics follow: test L1 of the pair chosen by validation L1 and capacity, its true fraction of "
        "weights alive (median over trials, interquartile range in brackets). The 5% bit noise of the data "
        "makes 0.05 the floor.",
        "",
    ]
    parts += [tables(runs, "##")]
    parts += ["## Figures", ""] + [f"![{name}]({name})" for name in figures] + [""]
    parts += [
        "## Runs",
        "",
        _markdown(
            pd.DataFrame(
                [
                    {
                        "configuration": run.label,
                        "folder": ", ".join(str(f) for f in run.folders) if run.folders else str(run.folder),
                        "trials": len(run.final),
                        "seed": ", ".join(str(json.loads((f / "config.json").read_text())["seed"]) for f in run.folders)
                        if run.folders
                        else run.config["run"]["seed"],
                        "description": run.config.get("description", ""),
                    }
                    for run in runs
                ]
            )
        ),
        "",
    ]
    return "\n".join(parts)


def write_report(dirs: Sequence[Path], out: Path | None = None) -> Path:
    """Write report.md and the figures for the runs in *dirs*; returns report.md's path."""
    from .figures import draw_all

    for module in ("matplotlib", "scipy"):  # before any work: the report needs both
        require(module, "report", "report")
    runs = find_runs(dirs)
    out = Path(out) if out is not None else Path(dirs[0]) / "report"
    if out.exists() and not out.is_dir():
        raise ReportError(f"report --out {out}: is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    figures = [path.name for path in draw_all(runs, out)]
    atomic_write_text(out / "report.md", render(runs, figures))
    return out / "report.md"
