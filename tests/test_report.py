"""``report``: tables beside the paper's figures, Mann–Whitney U tests, figures that open as images."""

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from deap_nnprune.experiments.cli import main
from deap_nnprune.experiments.report import ReportError, find_runs, mann_whitney, write_report

TINY = ["--set", "data.n_dim=16", "data.n_samples=20", "data.n_clusters=4", "algorithm.cells=3",
        "--epochs", "2", "--trials", "3", "--quiet"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Tiny runs of two paper presets (3 trials, 2 epochs, 16 dims)."""
    root = tmp_path_factory.mktemp("runs")
    for preset in ("paper-coevolution-none", "paper-coevolution-random-exponential"):
        assert main(["run", "--preset", preset, *TINY, "--out", str(root / preset)]) == 0
    return root


def test_mann_whitney_matches_scipy_on_known_samples():
    a, b, c = [0.10, 0.12, 0.15, 0.11, 0.13], [0.20, 0.19, 0.12, 0.25, 0.30, 0.22], [0.5, 0.1, 0.3]
    table = mann_whitney({"a": a, "b": b, "c": c})
    assert list(zip(table.a, table.b)) == [("a", "b"), ("a", "c"), ("b", "c")]
    for row, (x, y) in zip(table.itertuples(), [(a, b), (a, c), (b, c)]):
        expected = mannwhitneyu(x, y, alternative="two-sided")
        assert row.U == expected.statistic and row.p_value == expected.pvalue
        assert (row.n_a, row.n_b) == (len(x), len(y))
        assert row.median_a == np.median(x)


def test_report_writes_markdown_with_the_papers_figures_and_the_tests(two_runs, tmp_path):
    out = tmp_path / "report"
    path = write_report([two_runs], out)
    text = path.read_text()
    assert path == out / "report.md"
    assert "| paper-coevolution-none |" in text and "0.145" in text
    assert "| paper-coevolution-random-exponential |" in text and "0.104" in text and "0.87" in text
    assert "Mann–Whitney U tests (coevolution, two-sided)" in text
    assert "test L1 median [IQR]" in text
    assert "paper L1 mean (median of trials)" in text and "paper capacity mean (median of trials)" in text


def test_report_puts_our_figure_of_the_papers_metric_beside_the_published_one(two_runs, tmp_path):
    run = find_runs([two_runs / "paper-coevolution-random-exponential"])[0]
    pooled = f"{run.final.paper_l1.mean():.4f} ({run.final.paper_l1.median():.4f})"
    capacity = f"{run.final.paper_capacity.mean():.4f} ({run.final.paper_capacity.median():.4f})"
    text = write_report([two_runs], tmp_path).read_text()
    row = next(line for line in text.splitlines() if line.startswith("| paper-coevolution-random-exponential |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    from scipy.stats import t
    x = run.final.paper_l1.to_numpy()
    low, high = t.interval(0.95, len(x) - 1, loc=x.mean(), scale=x.std(ddof=1) / np.sqrt(len(x)))
    assert cells[5:10] == ["0.104", pooled, f"[{low:.4f}, {high:.4f}]", "0.87", capacity]
    assert "| paper_l1 |" in text  # Mann–Whitney on the paper's metric too


def test_report_notes_the_changed_settings_of_a_run_instead_of_the_papers_note(two_runs):
    from dataclasses import replace

    from deap_nnprune.experiments.config import resolved, to_dict
    from deap_nnprune.experiments.presets import PAPER_RESULTS, get_preset
    from deap_nnprune.experiments.report import summary_table

    name = "paper-coevolution-random-exponential"
    tiny = find_runs([two_runs / name])[0]
    as_published = to_dict(resolved(get_preset(name)))
    as_published["run"].update(seed=3, trials=7, batch_trials=True, checkpoint_every=5)  # how, not what
    ablated = to_dict(resolved(get_preset(name)))
    ablated["network"]["persistent_masks"] = True
    runs = [tiny, replace(tiny, config=as_published), replace(tiny, config=ablated)]
    notes = summary_table(runs).note.tolist()
    assert notes[0] == (
        "changed: data.n_samples=20, data.n_dim=16, data.n_clusters=4, algorithm.epochs=2, algorithm.cells=3"
    )
    assert notes[1] == PAPER_RESULTS[name].note != ""
    assert notes[2] == "changed: network.persistent_masks=True"


def test_report_figures_open_as_images(two_runs, tmp_path):
    from matplotlib.image import imread

    write_report([two_runs], tmp_path)
    pngs = sorted(tmp_path.glob("*.png"))
    assert len(pngs) >= 4
    for png in pngs:
        image = imread(png)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_report_default_folder_is_inside_the_first_dir(two_runs):
    run = two_runs / "paper-coevolution-none"
    assert main(["report", str(run)]) == 0
    assert (run / "report" / "report.md").is_file()


def test_report_table_gives_median_and_iqr_over_trials(two_runs):
    run, = find_runs([two_runs / "paper-coevolution-none"])
    q = run.final.test_l1.quantile([0.25, 0.5, 0.75])
    text = write_report([run.folder], run.folder / "r2").read_text()
    assert f"{q[0.5]:.4f} [{q[0.25]:.4f}, {q[0.75]:.4f}]" in text


def test_report_on_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(ReportError, match="no such folder"):
        find_runs([tmp_path / "nothing"])


def test_report_on_a_folder_without_runs_is_refused(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds no finished run" in err
    assert list(tmp_path.iterdir()) == []


def test_report_pools_folders_of_one_configuration_run_with_different_seeds(tmp_path):
    for seed in (0, 1):
        assert main(["run", "--preset", "paper-coevolution-none", *TINY, "--trials", "2", "--seed", str(seed),
                     "--out", str(tmp_path / f"seed-{seed}")]) == 0
    runs = find_runs([tmp_path])
    assert len(runs) == 1
    run, = runs
    assert len(run.final) == 4 and sorted(run.final.trial) == [0, 1, 2, 3]
    assert run.final.seed.is_unique
    assert sorted(run.epochs.trial.unique()) == [0, 1, 2, 3]
    text = write_report([tmp_path], tmp_path / "report").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| paper-coevolution-none |"))
    assert "| 4 |" in row


def test_report_pools_folders_run_on_another_device_or_thread_count(tmp_path):
    """A folder made on a GPU machine (its config says so) holds more trials of the same configuration."""
    import json

    for seed in (0, 1):
        assert main(["run", "--preset", "paper-coevolution-none", *TINY, "--trials", "2", "--seed", str(seed),
                     "--out", str(tmp_path / f"seed-{seed}")]) == 0
    path = tmp_path / "seed-1" / "config.json"
    saved = json.loads(path.read_text())
    for block in (saved["config"], saved["identity"]):
        block["run"].update(device="cuda", threads=4)
    path.write_text(json.dumps(saved))
    run, = find_runs([tmp_path])
    assert len(run.final) == 4 and run.final.seed.is_unique
    saved["config"]["training"]["lr"] *= 2  # what a trial is: no longer the same configuration
    path.write_text(json.dumps(saved))
    assert len(find_runs([tmp_path])) == 2


def test_report_refuses_to_pool_the_same_trials_twice(tmp_path):
    for name in ("a", "b"):
        assert main(["run", "--preset", "paper-coevolution-none", *TINY, "--trials", "2", "--seed", "0",
                     "--out", str(tmp_path / name)]) == 0
    with pytest.raises(ReportError, match="share trial seeds"):
        find_runs([tmp_path])


def test_update_rewrites_the_report_blocks_of_a_page_from_the_run_tables(two_runs, tmp_path):
    import shutil

    shutil.copytree(two_runs, tmp_path / "runs")
    page = tmp_path / "RESULTS.md"
    page.write_text("# Results\n\nProse.\n\n<!-- report: runs/paper-coevolution-none -->\nstale\n<!-- end report -->\n"
                    "\nMore prose.\n")
    assert main(["report", "--update", str(page), "--check"]) == 1
    assert "stale" in page.read_text()  # --check changes nothing
    assert main(["report", "--update", str(page)]) == 0
    text = page.read_text()
    assert "stale" not in text and text.startswith("# Results\n\nProse.\n") and text.endswith("\nMore prose.\n")
    run, = find_runs([two_runs / "paper-coevolution-none"])
    q = run.final.test_l1.quantile([0.25, 0.5, 0.75])
    assert f"{q[0.5]:.4f} [{q[0.25]:.4f}, {q[0.75]:.4f}]" in text
    assert main(["report", "--update", str(page), "--check"]) == 0


def test_update_refuses_a_page_without_blocks_in_one_line(tmp_path, capsys):
    page = tmp_path / "RESULTS.md"
    page.write_text("# nothing to fill\n")
    assert main(["report", "--update", str(page)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no <!-- report: DIR ... --> block" in err


@pytest.mark.parametrize("missing", ["matplotlib", "scipy"])
def test_report_without_its_extra_names_the_extra_to_install(two_runs, tmp_path, missing, subprocess_env):
    import subprocess
    import sys

    # a child Python where importing the missing package fails, as on an install without the extra
    code = (f"import sys; sys.modules[{missing!r}] = None; from deap_nnprune.experiments.cli import main; "
            f"sys.exit(main(['report', {str(two_runs)!r}, '--out', {str(tmp_path / 'r')!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env=subprocess_env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and f"needs {missing}" in result.stderr
    assert 'pip install "deap_nnprune[report]"' in result.stderr
    assert not (tmp_path / "r").exists()


def test_vargha_delaney_a_is_the_probability_that_a_exceeds_b():
    a, b = [0.1, 0.2, 0.3, 0.3], [0.3, 0.4, 0.05]
    row = mann_whitney({"a": a, "b": b}).iloc[0]
    wins = sum((x > y) + 0.5 * (x == y) for x in a for y in b)
    assert row.A == pytest.approx(wins / (len(a) * len(b)))
    assert mann_whitney({"a": [1.0, 2.0], "b": [3.0, 4.0]}).iloc[0].A == 0.0


def test_summary_counts_compute_in_network_steps_and_wall_time_per_trial(two_runs):
    from deap_nnprune.experiments.report import summary_table
    import pandas as pd
    table = summary_table(find_runs([two_runs])).set_index("configuration")
    # 3 cells x 2 epochs x ceil(20 rows / 5 a batch) Adam steps
    assert set(table["network-steps per trial"]) == {"24"}
    for preset in ("paper-coevolution-none", "paper-coevolution-random-exponential"):
        timings = pd.read_csv(two_runs / preset / "timings.csv")
        assert float(table.loc[preset, "wall s per trial"]) == pytest.approx(timings.seconds.mean(), abs=0.51)


def test_a_together_block_tests_runs_of_different_algorithms_against_each_other(two_runs, tmp_path):
    import shutil

    shutil.copytree(two_runs, tmp_path / "runs")
    canonical = tmp_path / "runs" / "canonical"
    assert main(["run", "--preset", "paper-canonical-none", "--set", "data.n_dim=16", "data.n_samples=20",
                 "data.n_clusters=4", "--epochs", "2", "--trials", "3", "--quiet", "--out", str(canonical)]) == 0
    page = tmp_path / "RESULTS.md"
    blocks = ("<!-- report: runs/paper-coevolution-none runs/canonical -->\n<!-- end report -->\n"
              "<!-- report together: runs/paper-coevolution-none runs/canonical -->\n<!-- end report -->\n")
    page.write_text(blocks)
    assert main(["report", "--update", str(page)]) == 0
    apart, together = page.read_text().split("<!-- report together")
    assert "#### canonical" in apart and "#### coevolution" in apart and "| paper-coevolution-none | paper-canonical-none" not in apart
    assert "#### all" in together
    assert "| test_l1 | paper-coevolution-none | paper-canonical-none |" in together
