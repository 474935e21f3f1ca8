"""Verdict rows: winner, lead with interval, decided or open, from records and timing rounds."""

from bench.analysis.frame import records_frame
from bench.analysis.verdicts import setting_verdicts, suite_verdicts


def record(normalizer, batch, seed, acc, speed, momentum=None, **extra):
    axes = {"batch_size": batch} if momentum is None else {"batch_size": batch, "momentum": momentum}
    return {"case_id": f"s/{normalizer}/{batch}/{momentum}/{seed}", "suite": "s", "normalizer": normalizer,
            "device": "cpu", "status": "ok", "seed": seed, "batch_size": batch, "momentum": momentum,
            "axes": {**axes, **extra}, "not_applicable": [] if momentum is not None else ["momentum"],
            "test_accuracy": acc, "train_samples_per_sec": speed}


def test_verdict_rows_name_the_winner_its_lead_and_whether_it_is_decided():
    records = [
        record("batch", 8, 0, 0.95, 1000, 0.9), record("batch", 8, 1, 0.96, 1100, 0.9),
        record("layer", 8, 0, 0.80, 900), record("layer", 8, 1, 0.81, 950),
    ]
    header, rows = suite_verdicts(records_frame(records))
    assert header[:2] == ["device", "batch_size"]
    # accuracy differences 0.15 and 0.15 (paired): zero spread, a clear win. Speed, paired log ratios
    # ln(1000/900) = 0.1054 and ln(1100/950) = 0.1466: mean 0.126, sd 0.0291, t(0.975, 1) = 12.706 gives
    # exp(0.126 -+ 0.2617) = [0.87, 1.47]; at 3 seeds 4.303 * 0.0291 / sqrt(3) = 0.072 < 0.126 would decide.
    assert rows == [["cpu", "8", "batch (momentum=0.9) (0.955)", "+0.150 [+0.150, +0.150] over layer", "clear",
                     "batch (momentum=0.9) (1,049)", "1.13x [0.87, 1.47] layer", "open: about 3 seeds would settle it"]]


def test_throughput_verdicts_use_every_timed_round():
    records = [record("batch", 8, s, 0.9, 1000) for s in (0, 1)] + [record("layer", 8, s, 0.9, 1000) for s in (0, 1)]
    fast = [0.0080, 0.0081, 0.0079, 0.0080, 0.0082, 0.0078]
    slow = [t * 1.5 for t in fast]
    rounds = {(r["case_id"], "train"): fast if r["normalizer"] == "batch" else slow for r in records}
    speed = [v for v in setting_verdicts(records_frame(records), rounds) if v.kind == "throughput"][0]
    assert speed.best == "batch" and speed.decision.outcome == "winner"
    assert speed.effect_text().startswith("1.50x [")
    # without rounds the records' medians (equal here) decide: a tie
    tie = [v for v in setting_verdicts(records_frame(records)) if v.kind == "throughput"][0]
    assert tie.decision.outcome == "tie" and tie.verdict_text() == "equivalent (within ±5%)"


def test_the_suite_margin_and_candidates_are_used():
    records = [record("batch", 8, s, 0.950 + 0.004 * s, 1000, offset=o) for s in (0, 1, 2) for o in (0.25, 1.0)]
    for r in records:
        r["case_id"] += f"/{r['axes']['offset']}"
        if r["axes"]["offset"] == 1.0:
            r["test_accuracy"] -= 0.002
    verdicts = setting_verdicts(records_frame(records), options={"candidates": "offset", "accuracy": 0.01})
    accuracy = [v for v in verdicts if v.kind == "accuracy"]
    assert len(accuracy) == 1 and accuracy[0].best == "offset=0.25" and accuracy[0].runner_up == "offset=1"
    assert accuracy[0].decision.outcome == "tie"
    strict = setting_verdicts(records_frame(records), options={"candidates": "offset", "accuracy": 0.001})
    assert [v.verdict_text() for v in strict if v.kind == "accuracy"] == ["clear"]


def test_the_suite_chooses_which_accuracy_is_compared():
    records = [record("batch", 8, s, 0.5, 1000, samples=n) for s in (0, 1, 2) for n in (128, 1024)]
    for r in records:
        r["case_id"] += f"/{r['axes']['samples']}"
        r["test_accuracy_precise_bn"] = (0.90 if r["axes"]["samples"] == 1024 else 0.80) + 0.001 * r["seed"]
    options = {"candidates": "samples", "accuracy_field": "test_accuracy_precise_bn"}
    (accuracy,) = [v for v in setting_verdicts(records_frame(records), options=options) if v.kind == "accuracy"]
    assert accuracy.best == "samples=1024" and accuracy.verdict_text() == "clear"
    (plain,) = [v for v in setting_verdicts(records_frame(records), options={"candidates": "samples"})
                if v.kind == "accuracy"]
    assert plain.decision.outcome == "tie"  # the moving-average accuracy does not depend on it


def test_no_measured_records_no_verdicts():
    assert suite_verdicts(records_frame([{"case_id": "a", "status": "skipped"}])) == ([], [])


def test_seed_to_seed_noise_widens_a_rounds_interval_that_is_too_narrow():
    """Tight rounds within each case, but the seeds (timed at different moments) disagree by 40%:
    the verdict must not call a 1.2x lead clear."""
    records = []
    for s, (fast, slow) in enumerate(((1200.0, 1000.0), (1000.0, 1150.0), (1300.0, 1000.0))):
        records += [record("batch", 8, s, 0.9, fast), record("layer", 8, s, 0.9, slow)]
    rounds = {(r["case_id"], "train"): [8 / r["train_samples_per_sec"] * f for f in (0.99, 1.0, 1.01, 1.0)]
              for r in records}
    speed = [v for v in setting_verdicts(records_frame(records), rounds) if v.kind == "throughput"][0]
    assert speed.decision.outcome == "open" and speed.decision.samples == "seeds"


def test_a_setting_where_everything_failed_is_its_own_decided_outcome_never_a_tie():
    """All diverged, or all at chance (the test set's majority class), is an answer: "all failed
    here", counted as decided; one candidate that learned makes it an ordinary comparison again."""
    from bench.analysis.sentences import best_sentences
    from bench.analysis.verdicts import headline

    def failed(normalizer, seed, acc, status):
        return {**record(normalizer, 8, seed, acc, 100.0), "status": status, "chance_accuracy": 0.1}

    diverged = [failed(n, s, 0.098, "nan") for n in ("batch", "layer") for s in range(3)]
    chance = [failed(n, s, 0.105 + 0.001 * s, "ok") for n in ("batch", "layer") for s in range(3)]
    for records in (diverged, chance, diverged[:3] + chance[3:]):
        (verdict,) = [v for v in setting_verdicts(records_frame(records)) if v.kind == "accuracy"]
        assert verdict.verdict_text() == "all failed here (every case diverged or sits at chance)"
        assert verdict.decided and headline([verdict]) == [verdict]
    assert "1 where every candidate failed" in best_sentences([verdict], {"accuracy_field": "test_accuracy"})[0]
    learned = chance[:3] + [failed("layer", s, 0.9, "ok") for s in range(3)]
    (verdict,) = [v for v in setting_verdicts(records_frame(learned)) if v.kind == "accuracy"]
    assert verdict.verdict_text() == "clear" and verdict.best == "layer"


def test_a_suite_without_grid_axes_names_its_one_setting():
    from bench.analysis.sentences import best_sentences

    records = [{**record(n, 8, s, acc, 100.0), "axes": {}} for n, accs in (("a", (0.5, 0.7)), ("b", (0.6, 0.6)))
               for s, acc in enumerate(accs)]
    (verdict,) = [v for v in setting_verdicts(records_frame(records)) if v.kind == "accuracy"]
    sentences = best_sentences([verdict], {"accuracy_field": "test_accuracy"})
    assert "Not settled by these seeds: the one setting (no grid axes)." in sentences[-1]


def test_one_field_at_chance_and_the_other_not_is_an_answer_not_a_failure():
    """The momentum trap: inference mode at chance, training mode fine. Comparing the two fields of
    the same cases is then a clear result, not "all failed here"."""
    records = [{**record("batch", 8, s, 0.10, 100.0), "chance_accuracy": 0.1,
                "test_accuracy_training_mode": 0.90 + 0.01 * s} for s in range(3)]
    options = {"accuracy_field": "test_accuracy", "versus_field": "test_accuracy_training_mode"}
    (verdict,) = [v for v in setting_verdicts(records_frame(records), options=options) if v.kind == "versus_field"]
    assert verdict.verdict_text() == "clear" and verdict.diff.mean < -0.7
