import math

import numpy as np
import pytest

from bench.core.errors import NormbenchError
from bench.analysis.compare import (DEFAULT_BOUND, Drift, Rule, compare, environment_warnings, execution_warnings,
                                    judge, pairs, parse_rule, regressions, unmatched)


def rec(case_id, acc, train, infer):
    return {"case_id": case_id, "status": "ok", "test_accuracy": acc, "train_samples_per_sec": train,
            "infer_samples_per_sec": infer}


BEFORE = [rec("a", 0.90, 1000.0, 2000.0), rec("b", 0.80, 500.0, 800.0), rec("gone", 0.5, 1.0, 1.0)]
AFTER = [rec("a", 0.91, 940.0, 2100.0), rec("b", 0.75, 500.0, 800.0), rec("new", 0.5, 1.0, 1.0)]


def test_compare_computes_relative_throughput_and_absolute_accuracy_changes():
    table = compare(BEFORE, AFTER).set_index("case_id")
    assert list(table.index) == ["a", "b"]
    assert table.loc["a", "train_samples_per_sec_change"] == pytest.approx(-0.06)
    assert table.loc["a", "infer_samples_per_sec_change"] == pytest.approx(0.05)
    assert table.loc["b", "test_accuracy_change"] == pytest.approx(-0.05)
    assert unmatched(BEFORE, AFTER) == (1, 1)


def test_single_seed_cases_must_drop_beyond_the_comparisons_own_noise():
    table = compare(BEFORE, AFTER)  # a: -6%, b: 0%: two cases cannot show that -6% is not noise
    assert regressions(table, [Rule("throughput", 5)]) == []
    steady = [rec(f"c{i}", 0.9, 1000.0, 1000.0) for i in range(12)]
    after = [rec(f"c{i}", 0.9, 1000.0 * (1 + (-1) ** i * 0.01), 1000.0) for i in range(12)]
    after[0]["train_samples_per_sec"] = 700.0
    found = regressions(compare(steady, after), [Rule("train_throughput", 5)])
    assert len(found) == 1 and found[0].startswith(
        "c0: train_samples_per_sec -30.0% (-29.3% beyond the run's median change of -1.0%), raw where no reference, over 1 "
        "seed(s); beyond the other 11 settings' spread (p=")
    assert found[0].endswith("Holm-corrected over 12 settings); one seed: no timing rounds (rule train_throughput:5%)")
    assert regressions(table, [Rule("accuracy", 2)]) == [
        "b: test_accuracy -5.0 points over 1 seed(s), not tested: one seed (rule accuracy:2%)"]


def test_settings_with_seeds_are_tested_over_them_with_holm_and_a_drop_everywhere_is_caught():
    settings = [f"s/n{k}" for k in range(6)]
    before = [timed(s, seed, 0.9, 1000.0, 0.003) for s in settings for seed in range(4)]
    noise = [0.92, 1.10, 0.97, 1.04]  # +-10% per seed, as two honest runs differ here
    honest = [timed(s, seed, 0.9, 1000.0 * noise[(seed + k) % 4], 0.003)
              for k, s in enumerate(settings) for seed in range(4)]
    assert regressions(compare(before, honest), [Rule("train_throughput", 5)]) == []
    slow_one = [dict(r) for r in honest]
    for r in slow_one:
        if r["case_id"].startswith("s/n0/"):
            r["train_samples_per_sec"] *= 0.5
    found = regressions(compare(before, slow_one), [Rule("train_throughput", 5)])
    assert len(found) == 1 and found[0].startswith("s/n0/cpu: train_samples_per_sec -")
    assert "over 4 seed(s)" in found[0] and "Holm-corrected over 6 settings" in found[0]
    halved = [{**r, "train_samples_per_sec": r["train_samples_per_sec"] / 2} for r in honest]
    found = regressions(compare(before, halved), [Rule("train_throughput", 5)])
    assert found == ["across all 24 cases: train_samples_per_sec -49.8% (median case, raw samples/s): "
                     f"beyond this machine's run-to-run drift ({DEFAULT_BOUND:.0%}: the default bound for a machine "
                     "without history (docs/report.md)) (rule train_throughput:5%)"]  # median of 0.92..1.10 / 2


def timed(case_id, seed, acc, speed, reference):
    return {**rec(f"{case_id}/seed={seed}/cpu", acc, speed, speed), "seed": seed, "reference_seconds": reference,
            "config_hash": "h-" + case_id}


ROUNDS = [0.010, 0.0102, 0.0099, 0.0101, 0.0098, 0.0103, 0.0100, 0.0097, 0.0104, 0.0101]


def rounds_of(records, factor):
    return {(r["case_id"], phase): [t * factor for t in ROUNDS] for r in records for phase in ("train", "infer")}


def test_a_slower_machine_is_not_a_regression_but_a_slower_case_is():
    before = [timed("s/bn", 0, 0.9, 1000.0, 0.003)]
    # the whole machine 30% slower: the reference kernel and the case alike
    slower_machine = [timed("s/bn", 0, 0.9, 1000.0 / 1.3, 0.003 * 1.3)]
    table = compare(before, slower_machine, rounds_of(before, 1.0), rounds_of(slower_machine, 1.3))
    assert table.loc[0, "train_samples_per_sec_change"] < -0.2
    assert abs(table.loc[0, "train_samples_per_sec_machine_change"]) < 1e-9
    assert regressions(table, [Rule("throughput", 5)]) == []
    # a planted 2x slowdown of the case alone, on an unchanged machine
    slower_case = [timed("s/bn", 0, 0.9, 500.0, 0.003)]
    table = compare(before, slower_case, rounds_of(before, 1.0), rounds_of(slower_case, 2.0))
    found = regressions(table, [Rule("throughput", 5)])
    assert len(found) == 2 and found[0].startswith(
        "across all 1 cases: train_samples_per_sec -50.0% (median case, raw samples/s): beyond this "
        "machine's run-to-run drift")


def test_a_drop_within_noise_of_the_rounds_is_not_a_regression():
    before = [timed("s/bn", 0, 0.9, 1000.0, 0.003)]
    after = [timed("s/bn", 0, 0.9, 930.0, 0.003)]  # -7% on the medians, but the rounds overlap
    noisy = {(after[0]["case_id"], p): list(reversed(ROUNDS)) for p in ("train", "infer")}
    table = compare(before, after, rounds_of(before, 1.0), noisy)
    assert table.loc[0, "train_samples_per_sec_p"] > 0.5
    assert regressions(table, [Rule("throughput", 5)]) == []


def test_accuracy_regressions_need_the_seeds_to_agree():
    before = [timed("s/bn", s, 0.90, 1000.0, 0.003) for s in range(3)]
    consistent = [timed("s/bn", s, 0.85 + 0.001 * s, 1000.0, 0.003) for s in range(3)]
    assert regressions(compare(before, consistent), [Rule("accuracy", 2)]) == [
        "s/bn/cpu: test_accuracy -4.9 points over 3 seed(s), 95% interval [-5.1, -4.7] (rule accuracy:2%)"]
    noisy = [timed("s/bn", s, a, 1000.0, 0.003) for s, a in enumerate((0.70, 0.95, 0.91))]
    assert regressions(compare(before, noisy), [Rule("accuracy", 2)]) == []


def test_changed_configuration_is_not_compared():
    before = [timed("s/bn", 0, 0.9, 1000.0, 0.003)]
    after = [{**timed("s/bn", 0, 0.5, 100.0, 0.003), "config_hash": "epochs changed"}]
    matched, changed = pairs(before, after)
    assert matched == [] and changed == ["s/bn/seed=0/cpu"]
    assert compare(before, after).empty and regressions(compare(before, after), [Rule("throughput", 5)]) == []


def test_environment_and_execution_differences_are_warned():
    assert environment_warnings({"machine": {"cpu": "A", "host": "vm"}, "framework": {"tensorflow": "2.20"}},
                                {"machine": {"cpu": "B", "host": "vm"}, "framework": {"tensorflow": "2.21"}}) == [
        "machine differs: cpu 'A' -> 'B'", "framework differs: tensorflow '2.20' -> '2.21'"]
    a, b = {"threads": 2, "executor": "serial"}, {"threads": 1, "executor": "ray"}
    assert execution_warnings([(a, b), (a, b)]) == ["2 case(s) timed with executor 'serial' -> 'ray'",
                                                    "2 case(s) timed with threads 2 -> 1"]


def test_missing_numbers_never_count_as_regressions():
    table = compare([rec("a", None, None, 10.0)], [rec("a", 0.5, 10.0, None)])
    assert math.isnan(table.loc[0, "train_samples_per_sec_change"])
    assert regressions(table, [Rule("throughput", 1), Rule("accuracy", 1)]) == []


@pytest.mark.parametrize("text", ["throughput", "speed:5%", "throughput:5", "throughput:-5%"])
def test_bad_rules_are_clear_errors(text):
    with pytest.raises(NormbenchError, match="expected METRIC:N%"):
        parse_rule(text)


def test_parse_rule():
    assert parse_rule("accuracy:2.5%") == Rule("accuracy", 2.5)


def test_every_throughput_field_of_the_schema_is_compared_layer_suites_included():
    before = [{"case_id": f"l/bn/s={k}/seed=0/cpu", "layer_samples_per_sec": 1000.0} for k in range(8)]
    after = [{**r, "layer_samples_per_sec": 500.0} for r in before]
    table = compare(before, after)
    assert (table["layer_samples_per_sec_change"] == -0.5).all()
    assert regressions(table, [Rule("layer_throughput", 5)])[0].startswith(
        "across all 8 cases: layer_samples_per_sec -50.0% (median case, raw samples/s)")
    assert parse_rule("layer_throughput:10%") == Rule("layer_throughput", 10)


def drifted(seed, shift, n=9):
    """Honest reruns on a shared machine: every case moves with the run (``shift``) and by its own
    noise (lognormal, 20%), as two back-to-back quick runs here did (-49.7% to +16.5% per case)."""
    rng = np.random.default_rng(seed)
    before = [timed(f"s/n{k}", 0, 0.9, 1000.0, 0.003) for k in range(n)]
    after = [timed(f"s/n{k}", 0, 0.9, 1000.0 * math.exp(shift + rng.normal(0, 0.2)), 0.003) for k in range(n)]
    return compare(before, after)


def test_a_whole_run_shift_within_the_machines_drift_passes_with_a_note():
    table = drifted(0, math.log(0.82))
    median = table["train_samples_per_sec_machine_change"].median()
    assert -0.30 < median < -0.05  # beyond the 5% rule: the rule alone would have failed the run
    result = judge(table, [Rule("train_throughput", 5)])
    assert result.regressions == []
    assert result.notes == [f"across all 9 cases: train_samples_per_sec {median:+.1%} (median case, raw samples/s): "
                            f"within this machine's run-to-run drift ({DEFAULT_BOUND:.0%}: the default "
                            "bound for a machine without history (docs/report.md)) (rule train_throughput:5%)"]


def test_a_quieter_history_tightens_the_drift_bound():
    table = drifted(0, math.log(0.82))
    quiet = Drift(bounds={"train_samples_per_sec": 0.04}, source="estimated from 6 runs")
    result = judge(table, [Rule("train_throughput", 5)], quiet)
    assert result.notes == [] and len(result.regressions) == 1
    assert "beyond this machine's run-to-run drift (4%: estimated from 6 runs)" in result.regressions[0]


def test_honest_drift_with_noisy_cases_is_rarely_a_regression():
    # fixed seeds: each pair shifts the whole run by up to +-15% and every case by its own 20% noise;
    # settings are judged at 1% (Holm) against the others' spread, so about 1 in 100 pairs alarms (here: at most 2 of 50)
    alarms = [seed for seed in range(50) if regressions(
        drifted(seed, np.random.default_rng(100 + seed).uniform(-0.15, 0.15)), [Rule("throughput", 5)])]
    assert len(alarms) <= 2, alarms


def test_a_planted_2x_slowdown_of_every_case_is_beyond_the_default_drift():
    for seed in range(20):
        found = regressions(drifted(seed, math.log(0.5)), [Rule("train_throughput", 5)])
        assert found[0].startswith("across all 9 cases") and "beyond this machine's" in found[0], seed


def with_rounds(record, best):
    return {**record, "train_step_seconds": {"median": 32 / record["train_samples_per_sec"], "min": best}}


def test_the_whole_run_shift_uses_the_best_timed_round_where_recorded():
    before = [with_rounds(timed(f"s/n{k}", 0, 0.9, 1000.0, 0.003), 0.020) for k in range(9)]
    # other users' load: median rounds 40% slower, the best round (the code with the CPU) unchanged
    loaded = [with_rounds(timed(f"s/n{k}", 0, 0.9, 600.0, 0.003), 0.020) for k in range(9)]
    result = judge(compare(before, loaded), [Rule("train_throughput", 5)])
    assert result.regressions == [] and result.notes == []
    # every step twice as long (NORMBENCH_FAULTS=double_steps): the best round doubles too
    doubled = [with_rounds(timed(f"s/n{k}", 0, 0.9, 500.0, 0.003), 0.040) for k in range(9)]
    found = regressions(compare(before, doubled), [Rule("train_throughput", 5)])
    assert found[0].startswith("across all 9 cases: train_samples_per_sec -50.0% (median case, best timed rounds): "
                               "beyond this machine's run-to-run drift")
