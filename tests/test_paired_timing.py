"""Speed verdicts from interleaved timing rounds, on planted timings (a fixed-seed model of a drifting
machine, never this machine's clock), and the interleaved timer itself on plain Python callables."""

import math
import time

import numpy as np
import pytest

from bench.analysis import comparisons
from bench.analysis.frame import records_frame
from bench.analysis.headlines import DEFAULTS
from bench.analysis.paired_timing import paired_log_speed
from bench.analysis.verdicts import labelled
from bench.measure.throughput import Member, time_interleaved

BATCH = 32
STEP = 0.004  # seconds per training step of the baseline
CANDIDATES = ("layer", "rms")
KINDS = {"throughput": comparisons.fastest_against_runner_up, "baseline_speed": comparisons.speed_against_baseline}


def drifting_machine(rng, slots: int, spell: int = 40, spell_sd: float = 0.15, noise_sd: float = 0.03):
    """The log slowdown of the machine at each round slot: slow spells (another level every ``spell``
    slots, sd 15%: the 15-40% swings of issue 24) plus 3% noise per round."""
    levels = rng.normal(0, spell_sd, slots // spell + 2)
    offset = rng.integers(spell)
    return np.array([levels[(t + offset) // spell] for t in range(slots)]) + rng.normal(0, noise_sd, slots)


def planted_run(rng, slowdown: float, interleaved: bool, seeds: int = 3, rounds: int = 10, drift=None):
    """Records and timing rounds of ``rms`` (``slowdown`` x the steps of ``layer``) on one drifting
    machine: interleaved (each seed's two cases in one worker, round by round, ABBA) or as before
    (each case alone, in its own process and stretch of the run, cases in shuffled order)."""
    drift = drifting_machine(rng, seeds * len(CANDIDATES) * rounds) if drift is None else drift
    factor = {"layer": 1.0, "rms": slowdown}
    seconds: dict[tuple, list] = {}
    if interleaved:
        for seed in range(seeds):
            process = rng.normal(0, 0.1)
            for r in range(rounds):
                for k, name in enumerate(CANDIDATES if r % 2 == 0 else CANDIDATES[::-1]):
                    slot = (seed * rounds + r) * len(CANDIDATES) + k
                    seconds.setdefault((name, seed), []).append(STEP * factor[name] * math.exp(drift[slot] + process))
    else:
        cases = [(name, seed) for seed in range(seeds) for name in CANDIDATES]
        for position, i in enumerate(rng.permutation(len(cases))):
            process = rng.normal(0, 0.1)
            seconds[cases[i]] = [STEP * factor[cases[i][0]] * math.exp(drift[position * rounds + r] + process)
                                 for r in range(rounds)]
    records, timing_rounds = [], {}
    for (name, seed), values in seconds.items():
        case_id = f"sim/{name}/seed={seed}/cpu"
        records.append({"case_id": case_id, "suite": "sim", "normalizer": name, "device": "cpu", "status": "ok",
                        "seed": seed, "batch_size": BATCH, "axes": {}, "not_applicable": [],
                        "test_accuracy": 0.9, "train_samples_per_sec": BATCH / float(np.median(values)),
                        "timing_group": f"sim/seed={seed}/cpu" if interleaved else None})
        timing_rounds[(case_id, "train")] = values
    return records, timing_rounds


def verdict(records, rounds, kind):
    options = {**DEFAULTS, "baseline": "layer"}
    frame, _ = labelled(records_frame(records), options)
    (found,) = KINDS[kind](kind, {"device": "cpu"}, frame, options, rounds)
    return found


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_planted_slowdown_is_clear_and_identical_candidates_equivalent_when_paired(kind):
    rng = np.random.default_rng(24)
    slower = verdict(*planted_run(rng, 1.2, interleaved=True), kind)
    assert slower.decision.outcome == "winner" and slower.verdict_text() == "clear"
    assert slower.diff.paired and 1.1 < math.exp(abs(slower.diff.mean)) < 1.3
    same = verdict(*planted_run(rng, 1.0, interleaved=True), kind)
    assert same.verdict_text() == "equivalent (within ±5%)"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_pairing_decides_what_the_unpaired_analysis_of_the_same_drifting_machine_cannot(kind):
    """20 planted runs per case, each twice on one drift series: interleaved (paired analysis) and
    timed apart as before (unpaired). Observed with this seed, both kinds: a 1.2x slowdown clear in 20/20
    paired, 4/20 apart; identical candidates equivalent in 18/20 paired (2 open), 0/20 apart (19 open and
    one false "clear")."""
    rng = np.random.default_rng(2026)
    decided = {(slowdown, schedule): [] for slowdown in (1.2, 1.0) for schedule in ("paired", "apart")}
    for _ in range(20):
        for slowdown in (1.2, 1.0):
            drift = drifting_machine(rng, 3 * 2 * 10)
            for schedule in ("paired", "apart"):
                found = verdict(*planted_run(rng, slowdown, schedule == "paired", drift=drift), kind)
                decided[slowdown, schedule].append(found.decision.outcome)
    assert decided[1.2, "paired"].count("winner") >= 19
    assert decided[1.0, "paired"].count("tie") >= 15 and "winner" not in decided[1.0, "paired"]
    assert decided[1.2, "apart"].count("winner") <= 10
    assert decided[1.0, "apart"].count("tie") <= 2


def test_runs_without_timing_groups_keep_the_unpaired_analysis():
    rng = np.random.default_rng(7)
    records, rounds = planted_run(rng, 1.2, interleaved=True)
    frame, _ = labelled(records_frame(records), {**DEFAULTS})
    assert paired_log_speed(frame, "rms", "layer", rounds) is not None
    unlabelled = [{key: value for key, value in r.items() if key != "timing_group"} for r in records]
    frame, _ = labelled(records_frame(unlabelled), {**DEFAULTS})
    assert paired_log_speed(frame, "rms", "layer", rounds) is None
    assert paired_log_speed(frame.drop(columns="timing_group"), "rms", "layer", rounds) is None


def test_paired_rounds_are_round_r_against_round_r():
    """Literal numbers: two groups, each candidate's rounds exactly 2x the other's whatever the drift."""
    records = []
    rounds = {}
    for seed, drift in ((0, [1.0, 3.0, 0.5]), (1, [2.0, 0.7, 1.1])):
        for name, factor in (("a", 1.0), ("b", 2.0)):
            case_id = f"s/{name}/{seed}"
            records.append({"case_id": case_id, "suite": "s", "normalizer": name, "device": "cpu", "status": "ok",
                            "seed": seed, "batch_size": 8, "axes": {}, "not_applicable": [],
                            "timing_group": f"g{seed}"})
            rounds[(case_id, "train")] = [0.01 * factor * d for d in drift]
    frame, _ = labelled(records_frame(records), {**DEFAULTS})
    diff, samples = paired_log_speed(frame, "a", "b", rounds)
    assert samples == "rounds" and diff.n == 6 and diff.paired
    assert diff.mean == pytest.approx(math.log(2)) and diff.sd == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_budgeted_runs_looks_widen_the_paired_speed_interval(kind):
    """A budgeted run's verdicts are Bonferroni-widened over its looks (bench.analysis.stats); the paired
    speed interval too, by the ratio of the t quantiles: same rounds, same mean, 4 looks."""
    from scipy import stats

    records, rounds = planted_run(np.random.default_rng(5), 1.02, interleaved=True)
    one = verdict(records, rounds, kind)
    options = {**DEFAULTS, "baseline": "layer", "looks": 4}
    frame, _ = labelled(records_frame(records), options)
    (four,) = KINDS[kind](kind, {"device": "cpu"}, frame, options, rounds)
    assert one.diff.paired and four.diff.paired and (one.diff.looks, four.diff.looks) == (1, 4)
    assert four.diff.mean == pytest.approx(one.diff.mean) and four.diff.n == one.diff.n
    widened = (four.diff.high95 - four.diff.low95) / (one.diff.high95 - one.diff.low95)
    df = one.diff.n - 1  # a paired t-interval (over rounds, or over the groups' means): the quantiles' ratio
    assert widened == pytest.approx(stats.t.ppf(1 - 0.025 / 4, df) / stats.t.ppf(0.975, df)) and widened > 1.1
    direct = paired_log_speed(frame, one.best, one.runner_up, rounds, looks=4)[0]
    assert (direct.low95, direct.high95) == pytest.approx((four.diff.low95, four.diff.high95))


def test_the_interleaved_timer_alternates_members_round_by_round():
    calls: list[str] = []
    entered: list[str] = []

    def member(name: str, seconds: float) -> Member:
        class Context:
            def __enter__(self):
                entered.append(name)

            def __exit__(self, *exc):
                return False

        return Member(lambda: (calls.append(name), time.sleep(seconds)), name=name, fullname=f"t::{name}",
                      group="g", extra_info={"phase": "train", "case_id": name}, context=Context)

    timings = time_interleaved([member("a", 0.001), member("b", 0.002)], timing_group="G", min_rounds=6,
                               max_time=0.001, warmup_rounds=2)
    a, b = (t.benchmark for t in timings)
    assert timings[0].rounds == timings[1].rounds >= 6 and timings[0].iterations == timings[1].iterations == 1
    assert a["extra_info"]["timing_group"] == b["extra_info"]["timing_group"] == "G"
    assert len(a["stats"]["data"]) == len(a["extra_info"]["round_starts"]) == timings[0].rounds
    # the rounds' start times interleave: a b | b a | a b ...
    starts = sorted([(t, "a") for t in a["extra_info"]["round_starts"]] + [(t, "b") for t in b["extra_info"]["round_starts"]])
    order = "".join(name for _, name in starts)
    assert order == "abba" * (timings[0].rounds // 2) + "ab" * (timings[0].rounds % 2)
    assert calls[:2] == ["a", "a"]  # warm-up calls, untimed, before anything of b ran
    assert entered.count("a") == entered.count("b")  # every round of each ran in its own context


@pytest.mark.tensorflow
@pytest.mark.slow
def test_a_settings_candidates_are_timed_interleaved_in_one_worker(tmp_path):
    """The tiny suite, serially: the four candidates of each batch size (BatchNorm at two momenta,
    GroupNorm, LayerNorm) share a timing group, and their train-step rounds ran in turn, each round
    once per candidate (the order, not the speed, is checked)."""
    from bench.cli import main
    from tests.conftest import FIXTURES

    results = tmp_path / "results"
    assert main(["run", str(FIXTURES / "suites" / "tiny.yaml"), "--results", str(results), "--no-report"]) == 0
    assert_tiny_timed_in_groups(results / "latest")


def assert_tiny_timed_in_groups(run) -> None:
    """The tiny suite's CPU cases in ``run``: two timing groups of four, one per batch size, each
    group's train-step rounds in turn (every round: each candidate once)."""
    import json

    records = [json.loads(line) for line in (run / "cases.jsonl").read_text().splitlines()]
    cpu = [r for r in records if r["device"] == "cpu" and r["status"] == "ok"]
    groups: dict[str, list] = {}
    for record in cpu:
        groups.setdefault(record["timing_group"], []).append(record)
    assert sorted(len(members) for members in groups.values()) == [4, 4]
    assert all(len({r["batch_size"] for r in members}) == 1 for members in groups.values())
    entries = [b for b in json.loads((run / "benchmarks.json").read_text())["benchmarks"]
               if b["extra_info"]["phase"] == "train"]
    for group, members in groups.items():
        timed = [b for b in entries if b["extra_info"].get("timing_group") == group]
        assert len(timed) == 4 and len({len(b["stats"]["data"]) for b in timed}) == 1
        starts = sorted((t, b["extra_info"]["case_id"]) for b in timed for t in b["extra_info"]["round_starts"])
        turns = [case for _, case in starts]
        assert len(turns) == 4 * len(timed[0]["stats"]["data"]) >= 12
        for r in range(0, len(turns), 4):  # each round: every candidate once
            assert sorted(turns[r:r + 4]) == sorted(m["case_id"] for m in members)
