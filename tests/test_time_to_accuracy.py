"""Time to accuracy: a suite's quality_target, the steps and time at which each case first reaches
it (bench/measure/quality_target.py), and candidates compared with "not reached" censored
(bench/analysis/time_to_accuracy.py)."""

import math

import pytest

from bench.analysis.time_to_accuracy import Reach, wilson

STEP = 0.01  # the synthetic records' median train-step seconds


def record(normalizer, seed, steps_to_target, budget=300, target=0.9, batch=8, step=STEP):
    """A timed record with a quality target: reached after ``steps_to_target`` steps, or (None) not
    within its ``budget`` steps."""
    reached = steps_to_target is not None
    return {"case_id": f"s/{normalizer}/batch_size={batch}/seed={seed}/cpu", "suite": "s", "status": "ok",
            "device": "cpu", "seed": seed, "normalizer": normalizer, "batch_size": batch,
            "axes": {"batch_size": batch}, "not_applicable": [], "test_accuracy": 0.9, "steps": budget,
            "quality_target": target, "target_reached": reached, "steps_to_target": steps_to_target,
            "time_to_target_seconds": steps_to_target * step if reached else None,
            "target_evaluations": [{"epoch": 1, "step": budget // 2, "accuracy": 0.5},
                                   {"epoch": 2, "step": budget, "accuracy": 0.95 if reached else 0.6}],
            "train_step_seconds": {"median": step, "iqr": 0.0, "stddev": 0.0, "rounds": 5}}


def verdicts_of(records, **options):
    from bench.analysis.frame import records_frame
    from bench.analysis.verdicts import setting_verdicts

    verdicts = setting_verdicts(records_frame(records), None, options)
    return [v for v in verdicts if v.kind == "time_to_accuracy"]


def test_wilson_interval_on_literal_numbers():
    assert wilson(1, 3) == pytest.approx((0.0615, 0.7923), abs=1e-4)
    assert wilson(3, 3) == pytest.approx((0.4385, 1.0), abs=1e-4)
    assert wilson(0, 5) == pytest.approx((0.0, 0.4345), abs=1e-4)
    assert all(math.isnan(v) for v in wilson(0, 0))


def test_the_median_is_the_time_by_which_half_the_seeds_reached_it():
    assert Reach("a", {0: 3.0, 1: 1.0, 2: 2.0}).median == 2.0
    assert Reach("a", {0: 3.0, 1: 1.0}, {2: 9.0, 3: 9.0}).median == 3.0  # 2 of 4: half by 3 s
    assert Reach("a", {0: 1.0}, {1: 9.0, 2: 9.0}).median is None  # 1 of 3: no median
    assert Reach("a", {0: 1.0}, {1: 9.0, 2: 9.0}).text() == "1/3 reached [0.06, 0.79], no median"


def test_every_seed_reached_gives_the_seed_paired_time_ratio():
    records = ([record("batch", s, n) for s, n in enumerate([100, 110, 105])]
               + [record("group", s, n) for s, n in enumerate([180, 200, 190])])
    (verdict,) = verdicts_of(records, baseline="batch", headline="time_to_accuracy")
    assert (verdict.best, verdict.runner_up, verdict.censoring) == ("group", "batch", "")
    # the geometric mean of 180/100, 200/110 and 190/105
    assert math.exp(verdict.diff.mean) == pytest.approx(1.80921, rel=1e-4)
    assert verdict.decision.outcome == "winner" and verdict.diff.paired and verdict.diff.n == 3
    assert verdict.best_value == pytest.approx(1.9)  # group's median seconds: 190 steps x 0.01 s
    assert verdict.effect_text().startswith("1.81x [") and verdict.effect_text().endswith("batch's time")
    assert verdict.best_text() == "group: 3/3 reached [0.44, 1.00], median 1.9 s"


def test_a_candidate_that_never_reached_it_is_clearly_slower_and_the_ratio_a_lower_bound():
    records = ([record("batch", s, n) for s, n in enumerate([100, 110, 105])]
               + [record("group", 0, 180), record("group", 1, None), record("group", 2, None)])
    (verdict,) = verdicts_of(records, baseline="batch")
    assert verdict.censoring == "candidate" and verdict.decision.outcome == "winner"
    assert verdict.diff.mean > 0 and verdict.effect_text().startswith("at least ")
    # the censored seeds enter at their budget: 300 steps (the last evaluation) x 0.01 s
    assert verdict.candidate_reach.bounds == {1: pytest.approx(3.0), 2: pytest.approx(3.0)}
    assert verdict.candidate_reach.median is None and verdict.best_text().startswith("group: 1/3 reached")


def test_censoring_on_the_side_it_cannot_bound_stays_open():
    """The baseline never reached it in one seed; the candidate looks slower, but the baseline's
    true time there is unknown above its budget, so slower is not shown."""
    records = ([record("batch", 0, 100), record("batch", 1, 110), record("batch", 2, None, budget=150)]
               + [record("group", s, n) for s, n in enumerate([180, 200, 190])])
    options = {"baseline": "batch", "headline": "time_to_accuracy"}
    (verdict,) = verdicts_of(records, **options)
    assert verdict.censoring == "reference" and verdict.decision.outcome == "open"
    assert verdict.diff.mean > 0 and verdict.effect_text().startswith("at most ")
    assert verdict.verdict_text() == ("open: batch did not reach 0.9 in every seed (its times there are bounds; "
                                      "a longer training would settle it)")


def test_neither_reaching_it_is_a_decided_answer():
    records = [record(name, s, None) for name in ("batch", "group") for s in range(3)]
    (verdict,) = verdicts_of(records, baseline="batch")
    assert verdict.decided and verdict.verdict_text() == "neither reached 0.9 in any seed"
    assert verdict.effect_text() == "neither reached 0.9"


def test_without_a_baseline_the_fastest_is_compared_with_the_runner_up():
    records = ([record("batch", s, n) for s, n in enumerate([100, 110, 105])]
               + [record("group", s, n) for s, n in enumerate([180, 200, 190])]
               + [record("layer", s, None) for s in range(3)])  # never reached: ranked last
    (verdict,) = verdicts_of(records)
    assert (verdict.best, verdict.runner_up) == ("batch", "group") and verdict.diff.mean < 0


def test_records_without_a_quality_target_give_no_time_verdicts():
    records = [{**record(name, s, 100), "quality_target": None} for name in ("batch", "group") for s in range(3)]
    assert verdicts_of(records, baseline="batch") == []


def test_time_to_accuracy_is_a_headline_kind_the_findings_lead_with(write_suite):
    from bench.analysis.frame import records_frame
    from bench.analysis.headlines import HEADLINES
    from bench.analysis.verdicts import setting_verdicts
    from bench.suite import load_suite
    from report.findings import model_findings

    assert HEADLINES["time_to_accuracy"].direction({}) == "lower"
    suite = load_suite(write_suite("name: s\nnormalizers: {batch: {}, group: {groups: 4}}\n"
                                   "training: {quality_target: 0.9, eval_every: 2}\n"
                                   "verdicts: {baseline: batch, headline: time_to_accuracy}\n"))
    assert suite.settings["quality_target"] == 0.9 and suite.settings["eval_every"] == 2
    records = ([record("batch", s, n) for s, n in enumerate([100, 110, 105])]
               + [record("group", s, n) for s, n in enumerate([180, 200, 190])])
    frame = records_frame(records)
    findings = model_findings("s", frame, setting_verdicts(frame, None, suite.verdicts), suite.verdicts)
    assert findings.headline_total == findings.headline_decided == 1
    assert findings.header[1:3] == ["candidate: seeds reached, median time", "time ratio [95% interval]"]
    assert findings.rows[0][1] == "group: 3/3 reached [0.44, 1.00], median 1.9 s"
    assert findings.rows[0][3] == "clear"
    assert any(s.startswith("group reaches 0.9 in 1.81x [") and "batch_size=8" in s for s in findings.sentences)


@pytest.mark.parametrize("value, problem", [(1.5, "must be in [0, 1] (0: no target), got 1.5"),
                                            ("high", "must be a number")])
def test_a_bad_quality_target_is_one_line_naming_the_field(write_suite, value, problem):
    from bench.core.errors import SuiteError
    from bench.suite import load_suite

    with pytest.raises(SuiteError, match=r"training.quality_target: ") as error:
        load_suite(write_suite(f"name: s\nnormalizers: {{batch: {{}}}}\ntraining: {{quality_target: {value}}}\n"))
    assert problem in str(error.value) and "\n" not in str(error.value)


def test_the_new_settings_at_their_defaults_keep_the_config_hash(write_suite):
    from bench.suite import expand, load_suite

    document = "name: s\nnormalizers: {batch: {}}\ndevices: [cpu]\n"
    (plain,) = expand(load_suite(write_suite(document)))
    assert plain.config_hash == "ee3048f86b11ea6d"  # as on b61d34f (tests/test_distributed.py)
    (explicit,) = expand(load_suite(write_suite(document + "training: {quality_target: 0, eval_every: 1}\n")))
    (targeted,) = expand(load_suite(write_suite(document + "training: {quality_target: 0.9}\n")))
    assert explicit.config_hash == plain.config_hash != targeted.config_hash


DIGITS = """
name: tta
dataset: digits
model: {{name: mlp, widths: [16]}}
training: {{epochs: 3, batch_size: 32, learning_rate: 0.1, quality_target: {target}, eval_every: {every}}}
normalizers: {{batch: {{momentum: 0.9}}}}
devices: [cpu]
timing: {{min_rounds: 2, max_time: 0.02, warmup_rounds: 1}}
"""


def run_digits(write_suite, target, every):
    from bench.data import load_dataset
    from bench.execute.in_worker import run_case
    from bench.suite import expand, load_suite

    (case,) = expand(load_suite(write_suite(DIGITS.format(target=target, every=every))))
    record = run_case(case, "t", {}, [])
    assert record["status"] == "ok", record["error"]
    steps_per_epoch = len(load_dataset(case.dataset, case.dataset_options).x_train) // 32
    return record, steps_per_epoch


@pytest.mark.tensorflow
def test_a_case_that_reaches_its_target_records_the_step_epoch_and_time(write_suite):
    record, per_epoch = run_digits(write_suite, target=0.5, every=1)
    evaluations = record["target_evaluations"]
    assert [e["epoch"] for e in evaluations] == [1, 2, 3]
    assert [e["step"] for e in evaluations] == [per_epoch, 2 * per_epoch, 3 * per_epoch]
    # the last evaluation is the trained model's inference-mode test accuracy
    assert evaluations[-1]["accuracy"] == record["test_accuracy"] > 0.5
    first = next(e for e in evaluations if e["accuracy"] >= 0.5)
    assert record["target_reached"] is True and record["quality_target"] == 0.5
    assert (record["epochs_to_target"], record["steps_to_target"]) == (first["epoch"], first["step"])
    assert record["time_to_target_seconds"] == pytest.approx(first["step"] * record["train_step_seconds"]["median"])


@pytest.mark.tensorflow
def test_a_case_that_does_not_reach_its_target_records_where_it_was_evaluated(write_suite):
    record, per_epoch = run_digits(write_suite, target=1.0, every=2)
    assert record["test_accuracy"] < 1.0  # a 16-unit MLP after 3 epochs misses some of 450 digits
    assert [(e["epoch"], e["step"]) for e in record["target_evaluations"]] == [(2, 2 * per_epoch), (3, 3 * per_epoch)]
    assert record["target_reached"] is False
    assert record["steps_to_target"] is None and record["epochs_to_target"] is None
    assert record["time_to_target_seconds"] is None and record["train_step_seconds"]["median"] > 0
