"""``normbench run | check | report | compare | fidelity``: parse arguments, call the library, turn errors into one line.

Bad input exits 2 with one ``normbench: error: ...`` line and no traceback. Nothing heavy is
imported here: TensorFlow loads only when ``run`` reaches a case that trains.
"""

from __future__ import annotations

import argparse
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
    run.add_argument("--settle", type=_positive_int, metavar="MAX_SEEDS",
                     help="after the run, add seeds where a headline comparison is still open, up to the "
                          "seeds the observed spread says would settle it, at most MAX_SEEDS per candidate")

    check = commands.add_parser("check", help="validate suite files without running them")
    check.add_argument("suites", nargs="*", help=f"suite files or folders of them (default: every {DEFAULT_SUITES}/*.yaml)")
    check.add_argument("--quick", action="store_true", help="count the quick variant's cases")

    report = commands.add_parser("report", help="render the HTML report of one or more runs")
    report.add_argument("runs", nargs="*", help="run ids or directories (default: latest)")
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

    with _sigterm_as_interrupt():
        result = execute.run_cases(store, suites, quick, execution=execution)
        if args.settle and not (result.interrupted or result.error):
            result = _settle(store, suites, quick, args.settle, execution, result)
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


def _settle(store, suites, quick: bool, max_seeds: int, execution, first):
    """One round of seeds where verdicts are open (bench.analysis.settle); the counts add up."""
    from bench import execute
    from bench.execute.settle import settle_cases

    cases = settle_cases(store.load().records, suites, quick, max_seeds)
    added = execute.plan_extra_cases(store, cases)
    print(f"normbench: settle: {added} more case(s) for the headline comparisons still open (at most "
          f"{max_seeds} seeds per candidate)", file=sys.stderr)
    if not added:
        return first
    result = execute.run_cases(store, suites, quick, execution=execution)
    result.counts.update(first.counts)
    return result


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

    stores = [RunStore.open(args.results, run) for run in (args.runs or ["latest"])]
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
    found = cmp.regressions(table, rules)
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


COMMANDS = {"run": cmd_run, "check": cmd_check, "report": cmd_report, "compare": cmd_compare,
            "fidelity": cmd_fidelity}
