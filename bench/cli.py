"""``normbench run | check | report | compare | fidelity | export``: parse arguments, call the library, turn errors into one line.

Bad input exits 2 with one ``normbench: error: ...`` line and no traceback. Nothing heavy is
imported here: TensorFlow loads only when ``run`` reaches a case that trains.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

from bench.core.errors import NormbenchError

DEFAULT_SUITES = Path("suites")
DEFAULT_RESULTS = Path("results")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="normbench", description="Benchmark normalization layers in Keras.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run suites and write records and a report")
    run.add_argument("suites", nargs="*", help=f"suite files or folders of them (default: every {DEFAULT_SUITES}/*.yaml)")
    run.add_argument("--quick", action="store_true", help="one seed, short timing, the suites' quick overrides")
    run.add_argument("--resume", metavar="RUN", help="finish an earlier run (its id, its path, or 'latest')")
    run.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="results directory (default: results)")
    run.add_argument("--no-report", action="store_true", help="skip rendering the HTML report")
    run.add_argument("--workers", type=_workers, metavar="N|auto",
                     help="cases side by side: 1 runs them one by one in one worker; N or 'auto' (one per "
                          "core) starts an embedded Ray cluster; with --address, the slots to use. Default: "
                          "$NORMBENCH_WORKERS, else 1 (with --address: one per CPU of the cluster)")
    run.add_argument("--address", default=os.environ.get("RAY_ADDRESS") or None, metavar="ADDRESS",
                     help="run on an existing Ray cluster (host:port; default: $RAY_ADDRESS); "
                          "results stay on this machine")
    run.add_argument("--threads", type=_positive_int, metavar="N",
                     help="TensorFlow threads per worker (default: the CPUs its slot holds; serially, all cores)")
    run.add_argument("--verbose", action="store_true",
                     help="show the frameworks' own output (CUDA probing, XLA notices) on the terminal "
                          "instead of the run's worker.log")
    run.add_argument("--budget", type=_duration, metavar="DURATION",
                     help="keep adding seeds where a headline comparison is still open (the most informative "
                          "per CPU-second first, judged again as cases finish) until every one is decided, the "
                          "seed cap is reached, or DURATION of wall clock (e.g. 15m, 900s, 1h, or 'none') "
                          "has passed since the run started")
    run.add_argument("--max-seeds", type=_positive_int, metavar="N",
                     help="with --budget: the most seeds any comparison may take (default 48)")
    run.add_argument("--settle", type=_positive_int, help=argparse.SUPPRESS)  # replaced by --budget

    check = commands.add_parser("check", help="validate suite files without running them")
    check.add_argument("suites", nargs="*", help=f"suite files or folders of them (default: every {DEFAULT_SUITES}/*.yaml)")
    check.add_argument("--quick", action="store_true", help="count the quick variant's cases")

    report = commands.add_parser("report", help="render the HTML report of one or more runs")
    report.add_argument("runs", nargs="*", help="run ids or directories, or a folder of runs (each run in it: "
                                                "history per machine, machines side by side; default: latest)")
    report.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="results directory (default: results)")
    report.add_argument("-o", "--output", type=Path, help="where to write the HTML (default: the first run's report.html)")
    report.add_argument("--markdown", type=Path, metavar="PAGE",
                        help="write the findings as a Markdown page instead of the HTML report (the docs' "
                             "findings page: normbench report docs/runs/RUN --markdown docs/findings.md)")

    compare = commands.add_parser("compare", help="per-case changes between two runs; fail on regressions")
    compare.add_argument("before", help="the baseline run (id, directory, or 'latest')")
    compare.add_argument("after", help="the run to check against it")
    compare.add_argument("--fail-on", action="append", default=[], metavar="METRIC:N%",
                         help="exit 1 on a change for the worse beyond N%% and beyond noise: throughput, train_throughput, "
                              "infer_throughput, layer_throughput (relative), accuracy (percentage points) or "
                              "any compared record field by name; repeatable")
    compare.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="results directory (default: results)")

    fidelity = commands.add_parser("fidelity", help="check that normbench's timing adds no cost: "
                                                    "its samples/s over a bare tf.function loop's")
    fidelity.add_argument("--trials", type=_positive_int, default=7, help="alternations of the two timings (default 7)")
    fidelity.add_argument("--strict", action="store_true", help="exit 1 when the ratio is outside 0.95-1.05")

    export = commands.add_parser("export", help="a run's records into MLflow or a Parquet table (extra: export)")
    export.add_argument("run", help="the run (id, directory, or 'latest')")
    export.add_argument("--to", required=True, metavar="mlflow|parquet",
                        help="mlflow: one MLflow run per case under a parent run per suite; parquet: one table")
    export.add_argument("--tracking-uri", metavar="URI",
                        help="mlflow: the tracking store (default: $MLFLOW_TRACKING_URI, else MLflow's default)")
    export.add_argument("--experiment", default="normbench", help="mlflow: the experiment (default: normbench)")
    export.add_argument("--out", type=Path, metavar="PATH",
                        help="parquet: the file to write (default: the run's records.parquet)")
    export.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="results directory (default: results)")
    return parser


def _default_workers(address: str | None) -> int:
    """``$NORMBENCH_WORKERS`` (tox -e bench sets it), else every CPU of a cluster, else serial."""
    text = os.environ.get("NORMBENCH_WORKERS")
    if text is None:
        return 0 if address else 1
    try:
        return _workers(text)
    except argparse.ArgumentTypeError as exc:
        raise NormbenchError(f"NORMBENCH_WORKERS: {exc}") from None


def _workers(text: str) -> int:
    """``auto`` (0: one per core) or a whole number >= 1."""
    if text == "auto":
        return 0
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be 'auto' or a whole number >= 1, got {text!r}") from None


def _duration(text: str) -> float | None:
    """Seconds from ``90``, ``90s``, ``15m`` or ``1h``; None from ``none`` (no time limit)."""
    if text.strip().lower() in ("none", "unlimited"):
        return None
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], units[text[-1]]) if text and text[-1] in units else (text, 1)
    try:
        seconds = float(number) * unit
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be a duration such as 15m, 900s or 1h (or 'none'), got {text!r}")
    return seconds


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            return COMMANDS[args.command](args)
    except NormbenchError as exc:
        print(f"normbench: error: {exc}", file=sys.stderr)
        return 2


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings (a suite key that was renamed, say) as one ``normbench: warning:`` line each."""
    print(f"normbench: warning: {message}", file=sys.stderr)


def cmd_check(args) -> int:
    from bench.suite import expand, load_suites
    from bench.measure.build_check import check_builds

    suites = load_suites(_suite_paths(args.suites))
    for suite in suites:
        cases = expand(suite, args.quick)
        print(f"{suite.source}: ok: suite {suite.name!r}, {len(cases)} cases"
              f"{' (quick)' if args.quick else ''}")
        for line in _setting_warnings(suite, cases):
            print(line)
        check_builds(suite, cases)
    return 0


def _setting_warnings(suite, cases) -> list[str]:
    """One line per setting (normalizer and grid values, all seeds and devices) that cannot take effect."""
    from bench.suite.effects import case_warnings

    lines = {}
    for case in cases:
        settings = ", ".join(f"{k}={v}" for k, v in case.axes.items()) or "every setting"
        for warning in case_warnings(case):
            lines.setdefault(f"{suite.source}: warning: {case.normalizer} at {settings}: {warning}", None)
    return list(lines)


def cmd_run(args) -> int:
    from bench import execute
    from bench.results import records
    from bench.results.store import RunStore
    from bench.suite import load_suites
    from bench.suite.loader import suite_from_document

    if args.settle:
        raise NormbenchError("--settle is replaced by --budget DURATION [--max-seeds N]: seeds are added round "
                             "by round until the headline comparisons are decided or the budget is spent")
    workers = args.workers if args.workers is not None else _default_workers(args.address)
    execution = execute.Execution(workers=workers, address=args.address, threads=args.threads,
                                  verbose=args.verbose)
    if args.resume:
        if args.suites or args.quick:
            raise NormbenchError("--resume runs the suites the run was started with; give no suite files or --quick")
        store = RunStore.open(args.results, args.resume)
        for problem in store.load().problems:  # e.g. a line torn by a kill mid-write: said once
            print(f"normbench: warning: {problem}", file=sys.stderr)
        info = store.read_info()
        suites = [suite_from_document(s["document"], s["source"], s["sha256"]) for s in info["suites"]]
        quick = bool(info.get("quick"))
        store.update_info(state="running", resumed_at=records.now())
    else:
        suites = load_suites(_suite_paths(args.suites))
        quick = args.quick
        from bench.suite import expand

        for suite in suites:  # said before anything runs, as normbench check does
            for line in _setting_warnings(suite, expand(suite, quick)):
                print(line, file=sys.stderr)
        store = RunStore.create(args.results, execute.run_info(suites, quick))

    planner = _planner(args, store, suites, quick, workers, execution.uses_ray)
    with _sigterm_as_interrupt():
        result = execute.run_cases(store, suites, quick, execution=execution, planner=planner)
    if planner is not None:
        _say_budget(store, planner)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(result.counts.items())) or "nothing new"
    if result.error:
        print(f"normbench: error: {result.error}", file=sys.stderr)
        return 1
    if result.interrupted:
        print(f"normbench: interrupted; finished cases are kept in {store.path} ({summary}).\n"
              f"normbench: resume with: normbench run --resume {store.run_id}", file=sys.stderr)
        return 130
    print(f"normbench: run {store.run_id} finished: {summary}", file=sys.stderr)
    if not args.no_report:
        from report import write_report

        print(f"report: {write_report([store])}")
    return 0


def _planner(args, store, suites, quick: bool, workers: int, uses_ray: bool = False):
    """The budgeted run's seed planner (None without --budget): its budget and each suite's looks are
    kept in run.json, so the report widens the intervals to match and a resume keeps the plan."""
    from bench.execute.settle import Budget, SeedPlanner

    kept = store.read_info().get("budget")
    if args.budget is None and not (args.resume and kept):
        if args.max_seeds:
            raise NormbenchError("--max-seeds caps the seeds of a budgeted run: give --budget as well")
        return None
    seconds = args.budget if args.budget is not None or not kept else kept.get("seconds")
    max_seeds = args.max_seeds or (kept or {}).get("max_seeds") or Budget(None).max_seeds
    slots = workers or os.cpu_count() or 1
    planner = SeedPlanner(store, suites, quick, Budget(seconds, max_seeds), slots, across_apart=uses_ray)
    info = store.read_info()
    for entry, suite in zip(info["suites"], suites):
        entry["verdicts"] = {**entry.get("verdicts", {}), "looks": len(planner.schedule(suite)), "max_seeds": max_seeds}
    info["budget"] = {"seconds": seconds, "max_seeds": max_seeds, "spent": False}
    store.write_info(info)
    return planner


def _say_budget(store, planner) -> None:
    info = store.read_info()
    store.update_info(budget={**info.get("budget", {}), "spent": planner.budget_spent, "rounds": planner.rounds})
    why = "the budget ran out before every open comparison was fed" if planner.budget_spent else \
        "every headline comparison decided, at its seed cap, or beyond what the cap can show"
    print(f"normbench: budget: {planner.rounds} round(s) of added seeds; stopped because {why}", file=sys.stderr)
    if planner.budget_spent:
        count, seconds = planner.wanted()
        if count:
            minutes = max(1, math.ceil(seconds / 60))
            print(f"normbench: budget: about {minutes} min more at this run's pace would take the {count} open "
                  f"comparison(s) to their next look: normbench run --resume {store.path} --budget {minutes}m",
                  file=sys.stderr)


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (sent by ``timeout``, CI cancel, systemd, cluster schedulers) stops a run as Ctrl-C
    does: finished cases kept, workers stopped, run.json marked interrupted. SIGINT gets Python's
    own handler even where the run was started with it ignored (a shell's background job, ``cmd &``,
    inherits SIGINT ignored, and Python then never installs its handler): ``kill -INT`` still stops it.
    Only the first signal interrupts: ``timeout`` signals both the process and its group, and a second
    Ctrl-C must not break the clean stop the first one started."""
    interrupted = []

    def interrupt(signum, frame):
        if not interrupted:
            interrupted.append(signum)
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    previous_int = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def cmd_report(args) -> int:
    from bench.results.store import RunStore
    from report import write_report

    stores = [store for run in (args.runs or ["latest"]) for store in _open_runs(args.results, run)]
    for store in stores:
        for problem in store.load().problems:
            print(f"normbench: warning: {problem}", file=sys.stderr)
    if args.markdown:
        from report.markdown import findings_markdown
        from report.render import load_run
        from bench.results.store import atomic_write

        source = " ".join(args.runs) or "latest"
        atomic_write(args.markdown, findings_markdown([load_run(store) for store in stores], source))
        print(f"findings: {args.markdown}")
        return 0
    print(f"report: {write_report(stores, args.output)}")
    return 0


def _open_runs(results: Path, run: str) -> list:
    """A run (id, directory or 'latest'), or a folder of runs: every run in it, oldest first."""
    from bench.results.store import RUN, RunStore

    folder = Path(run)
    if folder.is_dir() and not (folder / RUN).is_file() and not (results / run / RUN).is_file():
        found = sorted(p for p in folder.iterdir() if not p.is_symlink() and (p / RUN).is_file())
        if found:
            return [RunStore(p.resolve()) for p in found]
    return [RunStore.open(results, run)]


def _drift(before, after):
    """The machine's run-to-run drift from the runs beside ``after`` (same machine, earlier, sharing
    configurations), or the default bound."""
    from bench.analysis.compare import DEFAULT_DRIFT
    from bench.analysis import history
    from bench.results.store import RUN, RunStore

    def as_run(store):
        return history.as_run({**store.read_info(), "run_id": store.run_id}, store.load().records)

    folder = after.path.parent
    stores = {p.resolve() for p in folder.iterdir() if not p.is_symlink() and (p / RUN).is_file()}
    runs = []
    for path in sorted(stores | {before.path}):
        try:
            runs.append(as_run(RunStore(path)))
        except NormbenchError as exc:  # an unreadable run beside them only leaves the history shorter
            print(f"normbench: warning: history: {exc}", file=sys.stderr)
    earlier = history.history_for(as_run(after), runs)
    return history.machine_drift(earlier) if len(earlier) > history.MIN_SHIFTS else DEFAULT_DRIFT


def cmd_compare(args) -> int:
    from bench.analysis import compare as cmp
    from bench.results.fields import FIELDS
    from bench.results.store import RunStore

    rules = [cmp.parse_rule(text) for text in args.fail_on]
    before, after = (RunStore.open(args.results, run) for run in (args.before, args.after))
    old, new = before.load().records, after.load().records
    table = cmp.compare(old, new, before.timing_rounds(), after.timing_rounds())
    matched, changed = cmp.pairs(old, new)
    changed = sorted(changed, key=lambda case_id: case_id.endswith("/gpu"))  # measured cases first
    only_before, only_after = cmp.unmatched(old, new)
    print(f"{before.run_id} -> {after.run_id}: {len(table)} cases compared (same configuration), "
          f"{len(changed)} with a changed configuration, {only_before} only in the first, "
          f"{only_after} only in the second")
    for line in cmp.environment_warnings(before.read_info(), after.read_info()) + cmp.execution_warnings(matched):
        print(f"warning: {line}")
    if changed:
        print(f"{len(changed)} case(s) with a changed configuration (config_hash differs; not compared): "
              + ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else ""))
    if len(table):
        relative = int(table["machine_relative"].sum())
        print(f"throughput changes are relative to each case's machine-speed reference kernel "
              f"({relative} of {len(table)} cases have it; the others are raw)")
        table = table.sort_values("train_samples_per_sec_machine_change", na_position="last")
        columns = [c for c in cmp.compared_fields() if table[[f"{c}_before", f"{c}_after"]].notna().any().any()]
        print(f"{'case':<60} " + " ".join(f"{FIELDS[c].title:>26}" for c in columns))
        for _, row in table.iterrows():
            print(f"{row['case_id'][:60]:<60} " + " ".join(f"{_change(row, c):>26}" for c in columns))
    judged = cmp.judge(table, rules, _drift(before, after) if rules else cmp.DEFAULT_DRIFT)
    for line in judged.notes:
        print(line)
    found = judged.regressions
    for line in found:
        print(f"REGRESSION {line}")
    if rules:
        print(f"{len(found)} regression(s) beyond {', '.join(map(str, rules))} and beyond noise")
    return 1 if found else 0


def _change(row, column: str) -> str:
    """``before -> after (change)``: rates relative to the machine's speed, other fields absolute."""
    from bench.results.fields import FIELDS

    old, new = row[f"{column}_before"], row[f"{column}_after"]
    if FIELDS[column].is_rate:
        change = row[f"{column}_machine_change"]
        return f"{old:,.0f} -> {new:,.0f} ({change:+.1%})" if change == change else "n/a"
    change = row[f"{column}_change"]
    return f"{old:.3f} -> {new:.3f}" if change == change else "n/a"


def _suite_paths(given: Sequence[str]) -> list[Path]:
    """Suite files as given; a folder stands for its own *.yaml files (not its subfolders), so
    ``suites suites/extended`` runs the default suites and the extended ones."""
    if not given:
        if not DEFAULT_SUITES.is_dir():
            raise NormbenchError(f"no suite files given and ./{DEFAULT_SUITES} does not exist")
        return _folder_suites(DEFAULT_SUITES, "no suite files given and ./")
    paths = []
    for item in map(Path, given):
        paths.extend(_folder_suites(item, "") if item.is_dir() else [item])
    return paths


def _folder_suites(folder: Path, prefix: str) -> list[Path]:
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not paths:
        raise NormbenchError(f"{prefix}{folder} has no *.yaml files")
    return paths


def cmd_fidelity(args) -> int:
    from bench.measure.fidelity import BOUNDS, run_fidelity

    ratio = run_fidelity(args.trials)
    return 1 if args.strict and not BOUNDS[0] <= ratio <= BOUNDS[1] else 0


def cmd_export(args) -> int:
    from bench.results.store import RunStore

    if args.to not in ("mlflow", "parquet"):
        raise NormbenchError(f"--to must be mlflow or parquet, got {args.to!r}")
    store = RunStore.open(args.results, args.run)
    if args.to == "parquet":
        from bench.export.to_parquet import export_parquet

        path, rows, problems = export_parquet(store, args.out)
        summary = f"parquet: {rows} records of {store.path} in {path}"
    else:
        from bench.export.to_mlflow import export_mlflow

        done = export_mlflow(store, args.tracking_uri, args.experiment)
        problems = done.problems
        summary = (f"mlflow: {done.created} case run(s) logged, {done.existing} already there, under "
                   f"{done.suites} suite run(s) of experiment {done.experiment!r} at {done.tracking_uri}")
    for problem in problems:
        print(f"normbench: warning: {problem}", file=sys.stderr)
    print(summary)
    return 0


COMMANDS = {"run": cmd_run, "check": cmd_check, "report": cmd_report, "compare": cmd_compare,
            "fidelity": cmd_fidelity, "export": cmd_export}
