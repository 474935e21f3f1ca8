"""Findings are generated from records: decided results, open ones with seeds needed, divergence,
settings that could not act, and the batch-size/steps confound."""

from report.findings import layer_findings, model_findings
from bench.analysis.frame import records_frame
from bench.analysis.verdicts import setting_verdicts


def record(normalizer, batch, seed, acc, *, nan_rate=0.0, steps=100, warnings=()):
    return {"case_id": f"s/{normalizer}/{batch}/{seed}", "suite": "s", "normalizer": normalizer, "device": "cpu",
            "status": "nan" if nan_rate else "ok", "seed": seed, "batch_size": batch, "axes": {"batch_size": batch},
            "not_applicable": [], "test_accuracy": acc, "train_samples_per_sec": 1000.0, "nan_rate": nan_rate,
            "steps": steps, "warnings": list(warnings)}


def findings_of(records):
    frame = records_frame(records)
    return model_findings("s", frame, setting_verdicts(frame))


def test_a_clear_winner_is_named_with_its_lead_and_listed_in_the_table():
    records = [record("batch", 32, s, 0.95 + 0.01 * s) for s in range(3)]
    records += [record("group", 32, s, 0.90 + 0.01 * s) for s in range(3)]
    f = findings_of(records)
    assert f.sentences[0] == "Headline (best accuracy against the runner-up, per setting): 1 of 1 comparison(s) decided."
    assert f.sentences[1].startswith("Accuracy (inference mode), best against runner-up at 1 setting(s): "
                                     "1 clear winner(s), 0 tie(s) within ±1 points, 0 open.")
    assert "batch is clearly best at batch_size=32 (lead +0.050 over the runner-up)." in f.sentences
    assert f.rows == [["batch_size=32", "batch (0.960)", "+0.050 [+0.050, +0.050] over group", "clear"]]
    assert f.summary == ("Best accuracy against the runner-up, per setting: 1 of 1 decided (1 clear); largest clear "
                         "effect: batch +5.0 points against group at batch_size=32.")
    assert [v.best for v in f.headline] == ["batch"]  # what the forest plot draws


def test_open_settings_say_how_many_seeds_would_settle_them():
    records = [record("batch", 8, s, a) for s, a in enumerate((0.90, 0.80, 0.95))]
    records += [record("group", 8, s, a) for s, a in enumerate((0.85, 0.82, 0.88))]
    text = " ".join(findings_of(records).sentences)
    assert "Not settled by these seeds: batch_size=8." in text and "seeds per candidate would settle" in text


def test_divergence_warnings_and_the_steps_confound_are_stated():
    records = [record("batch", 16, s, 0.098, nan_rate=0.385, steps=504) for s in range(3)]
    records += [record("group", 16, s, 0.9, steps=504) for s in range(3)]
    records += [record("batch", 32, s, 0.9, steps=252,
                       warnings=["freeze_stats_after=300 is not before the last of the 252 training steps"])
                for s in range(3)]
    text = " ".join(findings_of(records).sentences)
    assert "Training diverged (non-finite loss): batch at 1 of 2 settings." in text
    assert "NaN in 38.5% of steps, 3 of 3 seeds, accuracy 0.098" in text
    assert "Not in effect: batch at batch_size=32: freeze_stats_after=300 is not before" in text
    assert "Epochs, not steps, are held fixed: 504 steps at batch 16, 252 at batch 32." in text


def test_one_candidate_suites_say_what_to_compare():
    f = findings_of([record("batch", 8, s, 0.9) for s in range(2)])
    assert any("verdicts.candidates" in s for s in f.sentences)


def test_layer_findings_give_the_range_against_batchnorm():
    def layer(normalizer, kind, shape, median):
        return {"case_id": f"l/{normalizer}/{shape}", "suite": "l", "workload": "layer", "status": "ok",
                "device": "cpu", "normalizer": normalizer, "normalizer_kind": kind, "shape": shape, "batch_size": 16,
                "precision": "float32", "pass": "forward", "mode": "training", "jit_compile": False,
                "layer_step_seconds": {"median": median}, "axes": {"shape": shape}}
    frame = records_frame([layer("batch", "batch", "a", 0.001), layer("group", "group", "a", 0.002),
                           layer("batch", "batch", "b", 0.004), layer("group", "group", "b", 0.002)])
    found = layer_findings("l", frame)
    assert found.sentences == [
        "group takes 0.50x-2.00x BatchNorm's time (median 1.25x) over 2 setting(s); slower than BN at 1."]
    assert found.summary == "Median layer time against BatchNorm's at the same setting: group 1.25x."


def test_precise_bn_gain_is_stated():
    records = []
    for momentum, ema in ((0.9, 0.95), (0.99, 0.10)):
        for s in range(2):
            r = record("batch", 32, s, ema)
            r.update(case_id=f"p/{momentum}/{s}", momentum=momentum, axes={"momentum": momentum},
                     test_accuracy_precise_bn=0.95, test_accuracy_training_mode=0.96)
            records.append(r)
    text = " ".join(findings_of(records).sentences)
    assert ("PreciseBN against the moving averages: better by more than 1 point at 1 of 2 setting(s); largest "
            "gain +0.850 at normalizer=batch, momentum=0.99 (inference accuracy 0.100 -> 0.950; training mode "
            "0.960).") in text


def test_each_candidate_is_judged_against_the_baseline():
    records = []
    for batch in (4, 32):
        for s in range(3):
            records.append(record("batch", batch, s, 0.80 + 0.01 * s))
            r = record("renorm", batch, s, (0.90 if batch == 4 else 0.80) + 0.01 * s)
            records.append(r)
            records.append(record("group", batch, s, 0.70 + 0.01 * s))
    frame = records_frame(records)
    verdicts = setting_verdicts(frame, options={"baseline": "batch"})
    text = " ".join(model_findings("s", frame, verdicts).sentences)
    assert ("renorm against batch, accuracy over 2 setting(s): clearly better at 1 (batch_size=4 (+0.100)); "
            "tied at 1; open at 0.") in text
    assert "group against batch, accuracy over 2 setting(s): clearly worse at 2" in text


def test_a_baseline_must_be_a_candidate(write_suite):
    import pytest

    from bench.core.errors import SuiteError
    from bench.suite import load_suite

    with pytest.raises(SuiteError, match=r"verdicts.baseline: must be one of the candidates \(batch, layer\)"):
        load_suite(write_suite("name: b\nnormalizers: {batch: {}, layer: {}}\nverdicts: {baseline: rms}\n"))


def test_a_second_accuracy_of_the_same_cases_is_the_headline_when_the_suite_says_so():
    records = []
    for momentum, ema in ((0.9, 0.93), (0.99, 0.10)):
        for s in range(3):
            r = record("batch", 32, s, ema + 0.002 * s)
            r.update(case_id=f"p/{momentum}/{s}", momentum=momentum, axes={"momentum": momentum},
                     test_accuracy_precise_bn=0.93 + 0.001 * s)
            records.append(r)
    options = {"accuracy_field": "test_accuracy_precise_bn", "versus_field": "test_accuracy",
               "headline": "versus_field"}
    frame = records_frame(records)
    verdicts = setting_verdicts(frame, options=options)
    field = [v for v in verdicts if v.kind == "versus_field"]
    assert [(v.setting["momentum"], v.decision.outcome) for v in field] == [(0.9, "tie"), (0.99, "winner")]
    f = model_findings("p", frame, verdicts, options)
    assert f.sentences[0] == ("Headline (two accuracies of the same models, per candidate and setting): "
                              "2 of 2 comparison(s) decided.")
    assert f.sentences[1].startswith("batch: acc PreciseBN against acc (inference), accuracy over 2 setting(s): "
                                     "clearly better at 1 (momentum=0.99 (+0.829)); tied at 1; open at 0.")
    assert f.header == ["setting", "candidate: accuracy", "difference [95% interval]", "verdict"]
    assert f.rows[0][:2] == ["momentum=0.99", "batch: acc PreciseBN (0.931)"]
    assert (f.headline_decided, f.headline_total) == (2, 2)


def test_open_headline_comparisons_follow_the_decided_ones_in_the_table():
    records = []
    for batch in (4, 32):
        for s in range(3):
            records.append(record("batch", batch, s, 0.80 + 0.01 * s))
            spread = (0.95, 0.70, 0.85) if batch == 32 else (0.90, 0.91, 0.92)
            records.append(record("renorm", batch, s, spread[s]))
    frame = records_frame(records)
    options = {"baseline": "batch", "headline": "baseline"}
    f = model_findings("s", frame, setting_verdicts(frame, options=options), options)
    assert [row[0] for row in f.rows] == ["batch_size=4", "batch_size=32"]
    assert f.rows[0][3] == "clear" and f.rows[1][3].startswith("open: ")
    assert (f.headline_decided, f.headline_total) == (1, 2)


def test_a_headline_needs_what_it_compares(write_suite):
    import pytest

    from bench.core.errors import SuiteError
    from bench.suite import load_suite

    with pytest.raises(SuiteError, match=r"verdicts.headline: is baseline, but verdicts.baseline is not set"):
        load_suite(write_suite("name: b\nnormalizers: {batch: {}}\nverdicts: {headline: baseline}\n"))
    with pytest.raises(SuiteError, match=r"verdicts.versus_field: must differ from accuracy_field"):
        load_suite(write_suite("name: b\nnormalizers: {batch: {}}\nverdicts: {versus_field: test_accuracy}\n"))


def test_headline_rows_beyond_the_compact_table_are_kept_folded():
    records = [record(normalizer, batch, s, (0.9 if normalizer == "batch" else 0.8) + 0.01 * s)
               for batch in range(1, 15) for normalizer in ("batch", "group") for s in range(2)]
    f = findings_of(records)
    assert len(f.rows) == 12 and len(f.more_rows) == 2
    assert {row[0] for row in f.rows + f.more_rows} == {f"batch_size={b}" for b in range(1, 15)}
