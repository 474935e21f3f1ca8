"""A run's directory: records appended one by one, never overwritten, readable after any crash.

Layout of ``results/<run-id>/``:

- ``cases.jsonl``     one record per line, appended and fsynced as each case finishes
- ``run.json``        provenance: versions, machine, commit, argv, the suites' full text, state
- ``benchmarks.jsonl`` each case's pytest-benchmark entries, one line per case, appended before its record
- ``benchmarks.json`` pytest-benchmark's JSON layout (``pytest-benchmark compare`` reads it), merged
                      from ``benchmarks.jsonl`` once at the end of the run
- ``report.html``     the rendered report

``results/latest`` is a symlink to the newest run, replaced atomically.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.core.errors import NormbenchError
from bench.results.records import now, upgrade

CASES = "cases.jsonl"
RUN = "run.json"
BENCHMARKS = "benchmarks.json"
CASE_BENCHMARKS = "benchmarks.jsonl"
REPORT = "report.html"
LATEST = "latest"


@dataclass
class LoadedRecords:
    records: list[dict]
    problems: list[str] = field(default_factory=list)


class RunStore:
    """One run directory. Create with :meth:`create`, reopen (to resume or report) with :meth:`open`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.run_id = self.path.name
        self._newline_checked: set[str] = set()

    # -- creating and finding runs -------------------------------------------------------------

    @classmethod
    def create(cls, results_dir: str | Path, info: dict[str, Any]) -> "RunStore":
        results_dir = Path(results_dir)
        ensure_writable(results_dir)
        for _ in range(100):
            run_id = datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
            try:
                (results_dir / run_id).mkdir()
            except FileExistsError:
                continue
            store = cls(results_dir / run_id)
            store.write_info({**info, "run_id": run_id})
            store.mark_latest()
            return store
        raise NormbenchError(f"{results_dir}: could not create a unique run directory")

    @classmethod
    def open(cls, results_dir: str | Path, run: str) -> "RunStore":
        """Find a run by id, by path, or as ``latest``."""
        candidate = Path(run)
        path = candidate if (candidate / RUN).is_file() else Path(results_dir) / run
        if not (path / RUN).is_file():
            raise NormbenchError(f"{path}: not a normbench run (no {RUN}); "
                                 f"runs live under {results_dir}/<run-id>/")
        return cls(path.resolve())

    def mark_latest(self) -> None:
        link = self.path.parent / LATEST
        tmp = self.path.parent / f".{LATEST}-{secrets.token_hex(4)}"
        os.symlink(self.run_id, tmp)
        os.replace(tmp, link)

    # -- run.json ------------------------------------------------------------------------------

    def read_info(self) -> dict[str, Any]:
        try:
            return json.loads((self.path / RUN).read_text())
        except (OSError, ValueError) as exc:
            raise NormbenchError(f"{self.path / RUN}: unreadable ({exc})") from None

    def write_info(self, info: dict[str, Any]) -> None:
        atomic_write(self.path / RUN, json.dumps(clean(info), indent=2) + "\n")

    def finish(self, state: str) -> bool:
        """Mark the run ``complete`` or ``interrupted``; False when even that could not be written.

        On a full disk the atomic rewrite has no room for its temporary file, so the state is then
        written in place as compact JSON, which is shorter than the indented file it overwrites
        and so needs no new space.
        """
        info = {**self.read_info(), "state": state, "finished_at": now()}
        try:
            self.write_info(info)
            return True
        except OSError:
            pass
        compact = json.dumps(clean(info), separators=(",", ":")).encode("utf-8")
        try:
            with open(self.path / RUN, "r+b") as fh:
                if len(compact) > os.fstat(fh.fileno()).st_size:
                    return False
                fh.write(compact)
                fh.truncate()
                fh.flush()
                os.fsync(fh.fileno())
            return True
        except OSError:
            return False

    def update_info(self, **changes: Any) -> None:
        self.write_info({**self.read_info(), **changes})

    # -- cases.jsonl ---------------------------------------------------------------------------

    def save_case(self, record: dict[str, Any], benchmarks: list[dict]) -> None:
        """Store one finished case: its timing entries first, then its record, each fsynced.

        A case counts as done once its record is on disk, so a failure between the two (a full
        disk) leaves at most timing entries without a record: the case runs again on resume, and
        the merge keeps only entries of recorded cases. Record and timing are kept together or not
        at all. Raises :class:`ResultsUnwritable` when the disk refuses either line.
        """
        try:
            if benchmarks:
                self._append_line(CASE_BENCHMARKS, {"case_id": record["case_id"], "benchmarks": benchmarks})
            self._append_line(CASES, record)
        except OSError as exc:
            raise ResultsUnwritable(self, exc) from None

    def _append_line(self, name: str, value: dict[str, Any]) -> None:
        """A torn last line (a kill or a full disk mid-write) is ended with a newline first, so it
        cannot swallow the next line."""
        line = json.dumps(clean(value), ensure_ascii=False) + "\n"
        path = self.path / name
        with open(path, "ab") as fh, self._recheck_newline_on_error(name):
            if name not in self._newline_checked:
                self._newline_checked.add(name)
                if fh.tell() > 0 and _last_byte(path) != b"\n":
                    fh.write(b"\n")
            fh.write(line.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())

    @contextmanager
    def _recheck_newline_on_error(self, name: str):
        try:
            yield
        except OSError:
            self._newline_checked.discard(name)  # the failed write may have left a torn line
            raise

    def load(self) -> LoadedRecords:
        return load_records(self.path / CASES)

    def finished_case_ids(self) -> set[str]:
        return {r["case_id"] for r in self.load().records if r.get("case_id")}

    # -- benchmarks.json -----------------------------------------------------------------------

    def case_benchmarks(self) -> dict[str, list[dict]]:
        """Each case's pytest-benchmark entries, the last written per case; a run from before
        ``benchmarks.jsonl`` existed is read from its ``benchmarks.json``."""
        by_case: dict[str, list] = {}
        lines = _read_lines(self.path / CASE_BENCHMARKS)
        for line in lines:
            try:
                entry = json.loads(line)
                by_case[entry["case_id"]] = list(entry["benchmarks"])
            except (ValueError, KeyError, TypeError):
                continue  # a torn line: its case has no record either, and runs again on resume
        if not lines:
            try:
                document = json.loads((self.path / BENCHMARKS).read_text())
                for entry in document["benchmarks"]:
                    by_case.setdefault(entry["extra_info"]["case_id"], []).append(entry)
            except (OSError, ValueError, KeyError, TypeError):
                pass  # no timings (or unreadable ones): the report falls back to the records' medians
        return by_case

    def timing_rounds(self) -> dict[tuple[str, str], list[float]]:
        """Per (case_id, phase): the seconds of each timed round, as pytest-benchmark recorded them."""
        rounds = {}
        for case_id, entries in self.case_benchmarks().items():
            for entry in entries:
                try:
                    data = [float(t) for t in entry["stats"]["data"]]
                    rounds[(case_id, str(entry["extra_info"]["phase"]))] = data
                except (KeyError, TypeError, ValueError):
                    continue
        return rounds

    def merge_benchmarks(self, machine_info: dict, commit_info: dict) -> int:
        """Write ``benchmarks.json`` (pytest-benchmark's layout) from ``benchmarks.jsonl``: the last
        entries of every case that has a record. Done once per run, not per case (rewriting a
        growing JSON file after every case made a run quadratic). Returns the number of entries."""
        recorded = self.finished_case_ids()
        benchmarks = [b for case_id, entries in self.case_benchmarks().items() if case_id in recorded
                      for b in entries]
        if not benchmarks:
            return 0
        from pytest_benchmark import __version__ as pytest_benchmark_version

        document = {"machine_info": machine_info, "commit_info": commit_info, "benchmarks": benchmarks,
                    "datetime": datetime.now().astimezone().isoformat(), "version": pytest_benchmark_version}
        atomic_write(self.path / BENCHMARKS, json.dumps(clean(document), indent=1) + "\n")
        return len(benchmarks)


class ResultsUnwritable(NormbenchError):
    """The results directory refused a write (disk full, permissions): the run stops cleanly."""

    def __init__(self, store: "RunStore", exc: OSError):
        super().__init__(f"cannot write to {store.path} ({exc.strerror or exc}); finished cases are kept. "
                         f"Make room, then resume with: normbench run --resume {store.run_id}")


def _read_lines(path: Path) -> list[str]:
    try:
        return Path(path).read_bytes().decode("utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []


def load_records(path: Path) -> LoadedRecords:
    """Every intact record of a ``cases.jsonl``; broken lines are reported, not fatal.

    A later record for the same case id replaces an earlier one, so a file never yields duplicates.
    """
    loaded = LoadedRecords([])
    try:
        lines = _read_lines(path)
    except OSError as exc:
        raise NormbenchError(f"{path}: unreadable ({exc.strerror or exc})") from None
    by_id: dict[str, dict] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("case_id"), str):
                raise ValueError("not a record with a case_id")
            record = upgrade(record)
        except ValueError as exc:
            loaded.problems.append(f"{path}:{number}: skipped a broken line ({_short(str(exc))})")
            continue
        by_id[record["case_id"]] = record
    loaded.records = list(by_id.values())
    return loaded


def ensure_writable(results_dir: Path) -> None:
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=results_dir):
            pass
    except OSError as exc:
        raise NormbenchError(f"{results_dir}: results directory is not writable "
                             f"({exc.strerror or exc})") from None


def atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so readers see the old or the new file, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide reports from other users
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def clean(value: Any) -> Any:
    """JSON has no NaN or infinity: store them as null so every line stays strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return clean(value.item())
    return value


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1)


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."
