"""The command line: ``python -m deap_nnprune presets | show | run | report`` (also ``deap-nnprune``).

Examples::

    python -m deap_nnprune presets
    python -m deap_nnprune show paper-coevolution-random-exponential --format toml
    python -m deap_nnprune run --preset quick --out runs/quick
    python -m deap_nnprune run --preset paper-coevolution-random-exponential --trials 30 --out runs/coev-random
    python -m deap_nnprune report runs/quick runs/coev-random --out runs/report
    python -m scoop -n 2 $(which deap-nnprune) run --preset quick --out runs/quick-scoop

Bad input (an unknown preset or key, a bad value, a missing device, data
file or run folder) gets one line on stderr and exit status 2, and nothing
is written; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from .config import (
    EXPORT_FORMATS,
    LOGGERS,
    ConfigError,
    apply_overrides,
    changed_settings,
    dataset_names,
    resolved,
    to_json,
    to_toml,
)
from .config_file import read_config_file
from .executors import EXECUTORS
from .lock import FolderLocked
from .presets import PRESETS, get_preset

__all__ = ["main", "build_parser", "CLIError", "integer_at_least"]

PROG = "deap-nnprune"


class CLIError(ValueError):
    """A command-line mistake, reported as one line."""


class RunFailure(RuntimeError):
    """An error while the trials run (not bad input): exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (no usage block) and exit status 2."""

    def error(self, message: str):
        command = self.prog[len(PROG) :].strip() if self.prog.startswith(PROG) else self.prog
        raise CLIError(f"{command}: {message}" if command else message)


def integer_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an int >= *minimum* (argparse names the option in its error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    parser = _Parser(
        prog=PROG, description="Evolve and prune autoencoders: the paper's experiments and ours.", parents=[common]
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    presets = commands.add_parser("presets", parents=[common], help="list the presets, one line each")
    presets.set_defaults(func=_presets)

    show = commands.add_parser("show", parents=[common], help="print a preset's full configuration")
    show.add_argument("preset", metavar="PRESET", nargs="?", help="a preset from `presets` (or use --config)")
    show.add_argument("--config", type=Path, metavar="FILE", help="a .toml or .json config file instead of a preset")
    show.add_argument(
        "--set",
        action="extend",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. training.lr=1e-3 (dotted keys; repeatable)",
    )
    show.add_argument("--format", choices=("json", "toml"), default="json", help="output format (default json)")
    show.set_defaults(func=_show)

    run = commands.add_parser(
        "run",
        parents=[common],
        help="run the trials of a preset and write a run folder",
        description="Run N trials of a preset; see `show PRESET` for the settings --set changes.",
    )
    run.add_argument("--preset", metavar="NAME", help="a preset from `presets`")
    run.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="a .toml or .json config (as `show` writes, or a run folder's config.json) instead of "
        "--preset; --set and the flags override it",
    )
    run.add_argument(
        "--set",
        action="extend",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override settings, e.g. --set training.lr=1e-3 algorithm.cells=5",
    )
    run.add_argument("--trials", type=integer_at_least(1), help="number of independent trials (run.trials)")
    run.add_argument("--epochs", type=integer_at_least(0), help="epochs (generations) per trial (algorithm.epochs)")
    run.add_argument("--seed", type=integer_at_least(0), help="root seed; trial seeds are spawned from it (run.seed)")
    run.add_argument("--device", help="torch device: cpu, cuda, cuda:N (run.device)")
    run.add_argument(
        "--data",
        metavar="FILE|binary_clustering|digits|mnist1d",
        help="data: the paper's generator, scikit-learn's digits, MNIST-1D, or a .npy/.npz/.csv file",
    )
    run.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE, whose OPERATORS / DATASETS (deap_nnprune.registry specs) the config may "
        "then name (run.plugins; repeatable)",
    )
    run.add_argument("--out", type=Path, metavar="DIR", help="run folder (default runs/PRESET)")
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out: keep finished trials, restart others from their checkpoints",
    )
    run.add_argument("--overwrite", action="store_true", help="replace the run files in a non-empty --out")
    run.add_argument(
        "--batch-trials",
        action="store_true",
        help="coevolution: run all trials as one population (faster; the same bytes as one trial per task)",
    )
    run.add_argument(
        "--executor",
        choices=EXECUTORS,
        help="where trials run: serial, processes (a local pool), scoop (under python -m scoop), "
        "dask (a LocalCluster, or --scheduler); auto: scoop under SCOOP, else serial "
        "(run.executor). Every executor writes the serial run's bytes",
    )
    run.add_argument(
        "--workers",
        type=integer_at_least(0),
        metavar="N",
        help="worker processes for processes/dask (run.workers; 0: one per CPU)",
    )
    run.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="dask: join this scheduler (tcp://host:8786) instead of starting a local cluster (run.scheduler)",
    )
    run.add_argument(
        "--checkpoint-every",
        type=integer_at_least(1),
        metavar="N",
        help="write each trial's checkpoint every N epochs (run.checkpoint_every)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument(
        "--export",
        action="append",
        choices=EXPORT_FORMATS,
        default=[],
        help="also write each trial's model in this format (models/trial-K.onnx; run.export)",
    )
    run.add_argument(
        "--log",
        action="append",
        choices=LOGGERS,
        default=[],
        help="also log every epoch column to this logger (tensorboard/trial-K/; run.log)",
    )
    run.set_defaults(func=_run)

    report = commands.add_parser("report", parents=[common], help="tables, statistics and figures of run folders")
    report.add_argument("dirs", nargs="*", type=Path, metavar="DIR", help="run folders, or folders holding run folders")
    report.add_argument("--out", type=Path, metavar="REPORT_DIR", help="where to write (default: DIR/report)")
    report.add_argument(
        "--update",
        type=Path,
        metavar="PAGE",
        help="rewrite the <!-- report: DIR ... --> blocks of a markdown page from their run tables",
    )
    report.add_argument(
        "--check", action="store_true", help="with --update: change nothing, exit 1 if the page is out of date"
    )
    report.set_defaults(func=_report)
    return parser


# -- commands ------------------------------------------------------------------------
def _presets(args, argv) -> int:
    width = max(map(len, PRESETS))
    for name, config in PRESETS.items():
        print(f"{name:<{width}}  {config.description}")
    return 0


def _base_config(preset: str | None, config_file: Path | None, command: str):
    """The configuration a command starts from: a preset or a config file (exactly one)."""
    if (preset is None) == (config_file is None):
        raise CLIError(f"{command}: give a preset or --config FILE (one of them)")
    if config_file is not None:
        return read_config_file(config_file)
    assert preset is not None
    return get_preset(preset)


def _show(args, argv) -> int:
    config = resolved(apply_overrides(_base_config(args.preset, args.config, "show"), args.set))
    print(to_toml(config) if args.format == "toml" else to_json(config), end="")
    return 0


def _config_from_args(args):
    """The preset (or config file) with ``--set`` and flag overrides; the description lists what was changed."""
    preset = _base_config(args.preset, args.config, "run")
    if args.plugin:  # before --set, which may name what the plugins declare
        try:
            preset = replace(
                preset, run=replace(preset.run, plugins=tuple(dict.fromkeys((*preset.run.plugins, *args.plugin))))
            )
        except ConfigError as error:
            raise CLIError(str(error)) from None
    config = apply_overrides(preset, args.set)
    run, algorithm, data = config.run, config.algorithm, config.data
    try:
        if args.trials is not None:
            run = replace(run, trials=args.trials)
        if args.seed is not None:
            run = replace(run, seed=args.seed)
        if args.device is not None:
            run = replace(run, device=args.device)
        if args.batch_trials:
            run = replace(run, batch_trials=True)
        if args.executor is not None:
            run = replace(run, executor=args.executor)
        if args.workers is not None:
            run = replace(run, workers=args.workers)
        if args.scheduler is not None:
            run = replace(run, scheduler=args.scheduler, executor="dask" if args.executor is None else run.executor)
        if args.log:
            run = replace(run, log=tuple(dict.fromkeys((*run.log, *args.log))))
        if args.export:
            run = replace(run, export=tuple(dict.fromkeys((*run.export, *args.export))))
        if args.checkpoint_every is not None:
            run = replace(run, checkpoint_every=args.checkpoint_every)
        if args.epochs is not None:
            algorithm = replace(algorithm, epochs=args.epochs)
        if args.data is not None:
            named = dataset_names(run.plugins)
            source = args.data if args.data in named else str(Path(args.data).absolute())
            if source not in named and not Path(source).is_file():
                raise CLIError(f"--data {args.data}: no such file (or use {', '.join(named)})")
            data = replace(data, source=source)
        config = replace(config, run=run, algorithm=algorithm, data=data)
    except (TypeError, ConfigError) as error:
        raise CLIError(str(error)) from None
    changes = changed_settings(preset, config)
    if changes:
        config = replace(config, description=f"{preset.description} [changed: {', '.join(changes)}]")
    return config


def _summary(frames, out: Path, name: str) -> str:
    final = frames["final"]
    q = final.test_l1.quantile([0.25, 0.5, 0.75])
    return (
        f"{name}: {len(final)} trial(s), test L1 median {q[0.5]:.4f} (IQR {q[0.25]:.4f}-{q[0.75]:.4f}), "
        f"capacity median {final.capacity.median():.3f}; results in {out}"
    )


def _run(args, argv) -> int:
    from . import runner

    config = _config_from_args(args)
    out = args.out if args.out is not None else Path("runs") / config.name
    plan = runner.prepare(config, out, resume=args.resume, overwrite=args.overwrite, command=argv)
    try:
        frames = runner.execute(plan, quiet=args.quiet)
    except KeyboardInterrupt:
        print(
            f"{PROG}: interrupted; finished trials and checkpoints are kept in {plan.out}. Resume with:\n"
            f"  {runner.resume_command(argv)}",
            file=sys.stderr,
            flush=True,
        )
        return 130
    except FolderLocked:
        raise  # bad input (another run owns the folder), not a failure of the work
    except Exception as error:
        raise RunFailure(f"{type(error).__name__}: {error}") from error
    print(_summary(frames, plan.out, config.name))
    return 0


def _report(args, argv) -> int:
    from . import report, results_page

    if args.update is not None:
        if args.dirs or args.out is not None:
            raise CLIError("report --update PAGE takes its run folders from the page's blocks; give no DIR or --out")
        changed = results_page.update_page(args.update, check=args.check)
        if args.check:
            print(f"{args.update}: {'out of date with its run tables' if changed else 'up to date'}")
            return 1 if changed else 0
        print(f"{args.update}: {'updated' if changed else 'already up to date'}")
        return 0
    if args.check:
        raise CLIError("report --check goes with --update PAGE")
    if not args.dirs:
        raise CLIError("report needs a run folder (DIR) or --update PAGE")
    path = report.write_report(args.dirs, args.out)
    print(f"report written to {path}")
    return 0


# -- entry point ---------------------------------------------------------------------
def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure during a run, 2 bad input, 130 Ctrl-C).

    Under ``python -m scoop`` the root process ends here with ``os._exit``:
    SCOOP would otherwise print a traceback for the console script's
    ``SystemExit``. (SCOOP 0.7.2's launcher itself exits 0 whatever the root's
    status; the one-line error message is still printed.)
    """
    code = _main(argv)
    if _scoop_origin():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _scoop_origin() -> bool:
    scoop = sys.modules.get("scoop")
    return bool(scoop is not None and getattr(scoop, "IS_RUNNING", False) and getattr(scoop, "IS_ORIGIN", False))


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except CLIError as error:
        if debug:
            raise
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    from ..algorithms.checkpoint import CheckpointError

    bad_input = (CLIError, ConfigError, CheckpointError, ValueError, TypeError, FileNotFoundError, ImportError)
    try:
        return args.func(args, argv)
    except bad_input as error:
        if debug:
            raise
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # a failure during the work itself: one line, the traceback with --debug
        if debug:
            raise
        print(f"{PROG}: error: {_one_line(error)} (run again with --debug for the traceback)", file=sys.stderr)
        return 1
