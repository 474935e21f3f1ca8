"""Headline kinds: one registry entry each, read by suite validation, verdicts, findings, the report
and seed planning."""

import pytest

from bench.analysis.comparisons import Verdict
from bench.analysis.headlines import HEADLINES, HeadlineKind, register_headline, unregister_headline
from bench.analysis.stats import decide, difference


def worst_against_best(kind, setting, group, options, rounds):
    """A throwaway comparison: the least accurate candidate against the most accurate one."""
    means = group.groupby("candidate")["test_accuracy"].mean().sort_values()
    if len(means) < 2:
        return []
    worst, best = means.index[0], means.index[-1]
    seeds = {name: dict(zip(sub["seed"], sub["test_accuracy"])) for name, sub in group.groupby("candidate")}
    diff = difference(seeds[worst], seeds[best])
    return [Verdict(setting, kind, worst, means.iloc[0], best, diff, decide(diff, options["accuracy"]),
                    options["accuracy"])]


@pytest.fixture
def worst():
    register_headline(HeadlineKind("worst", "the worst candidate against the best, per setting",
                                   ("worst (accuracy)", "gap [95% interval]"), worst_against_best,
                                   lambda verdicts, options: [f"{len(verdicts)} worst-case comparison(s)."],
                                   lambda options: "test_accuracy"))
    yield "worst"
    unregister_headline("worst")


def record(normalizer, seed, acc, batch=8):
    return {"case_id": f"s/{normalizer}/batch_size={batch}/seed={seed}/cpu", "suite": "s", "status": "ok",
            "device": "cpu", "seed": seed, "normalizer": normalizer, "batch_size": batch,
            "axes": {"batch_size": batch}, "not_applicable": [], "test_accuracy": acc}


RECORDS = ([record("batch", s, a) for s, a in enumerate([0.90, 0.92, 0.91])]
           + [record("layer", s, a) for s, a in enumerate([0.70, 0.95, 0.80])])


def test_the_built_in_kinds_take_their_direction_from_the_field_table():
    assert set(HEADLINES) >= {"accuracy", "baseline", "versus_field", "throughput"}
    directions = {name: kind.direction({"accuracy_field": "test_accuracy"}) for name, kind in HEADLINES.items()}
    assert directions.pop("time_to_accuracy") == "lower"  # a time: shorter is better
    assert set(directions.values()) == {"higher"}
    assert HEADLINES["baseline"].requires == ("baseline",)


def test_a_new_headline_kind_is_one_entry_seen_by_validation_verdicts_findings_report_and_settle(worst, write_suite):
    from bench.analysis.frame import records_frame
    from bench.analysis.settle import seed_requests
    from bench.analysis.verdicts import headline, setting_verdicts
    from bench.core.errors import SuiteError
    from bench.suite import load_suite
    from report.findings import model_findings
    from report.render import RunData, render_report

    suite = load_suite(write_suite("name: s\nnormalizers: {batch: {}, layer: {}}\nverdicts: {headline: worst}\n"))
    assert suite.verdicts["headline"] == "worst"
    with pytest.raises(SuiteError, match=r"verdicts.headline: must be one of .*'worst', got 'nope'"):
        load_suite(write_suite("name: s\nnormalizers: {batch: {}}\nverdicts: {headline: nope}\n"))

    options = {"headline": "worst"}
    verdicts = setting_verdicts(records_frame(RECORDS), options=options)
    (lead,) = headline(verdicts, options)
    assert (lead.kind, lead.best, lead.runner_up, lead.decided) == ("worst", "layer", "batch", False)
    findings = model_findings("s", records_frame(RECORDS), verdicts, options)
    assert findings.sentences[:2] == ["Headline (the worst candidate against the best, per setting): 0 of 1 "
                                      "comparison(s) decided.", "1 worst-case comparison(s)."]
    assert findings.header == ["setting", "worst (accuracy)", "gap [95% interval]", "verdict"]
    html = render_report([RunData({"run_id": "r", "suites": [{"name": "s", "verdicts": options}]}, RECORDS, [])])
    assert "the worst candidate against the best" in html and "gap [95% interval]" in html
    (request,) = seed_requests(records_frame(RECORDS), options, [0, 1, 2], (3, 6))
    assert request.setting == {"device": "cpu", "batch_size": 8} and request.seeds == (3, 4, 5)


def test_speed_against_the_baseline_is_a_seed_paired_ratio_and_every_other_kind_gets_a_table():
    """Synthetic speeds with a fixed seed: half the baseline's speed is clearly slower (about 0.50x);
    the same speed within 1% noise is equivalent within ±5%; the findings fold each other kind's
    comparisons into a table of its own."""
    import random

    from bench.analysis.frame import records_frame
    from bench.analysis.verdicts import setting_verdicts
    from report.findings import model_findings

    rng = random.Random(3)
    records = []
    for seed in range(6):
        base = 1000.0 * rng.uniform(0.8, 1.2)  # the machine's drift from seed to seed, shared by the pair
        for name, factor in (("batch", 1.0), ("sync", 0.5), ("twin", 1.0)):
            records.append({**record(name, seed, 0.9 + rng.gauss(0, 0.005)),
                            "train_samples_per_sec": base * factor * rng.uniform(0.99, 1.01)})
    options = {"baseline": "batch", "headline": "baseline"}
    verdicts = setting_verdicts(records_frame(records), options=options)
    speed = {v.best: v for v in verdicts if v.kind == "baseline_speed"}
    assert speed["sync"].verdict_text() == "clear" and speed["sync"].effect_text().startswith("0.50x [0.50, 0.51]")
    assert speed["twin"].verdict_text() == "equivalent (within ±5%)"
    findings = model_findings("s", records_frame(records), verdicts, options)
    titles = [title for title, _, _ in findings.other_tables]
    assert "each candidate's training speed against the baseline's, per setting" in titles
    assert any(s.startswith("sync trains at 0.50x batch's speed over 1 setting(s): clearly slower at 1")
               for s in findings.sentences)
