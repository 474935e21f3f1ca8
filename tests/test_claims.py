"""Claims: parsed and checked against the suite (bench/suite/claims.py), judged against records
with the verdicts' intervals (bench/analysis/claims.py), shown by the report (report/claims.py).
Records are synthetic with hand-computed intervals; nothing trains."""

import math

import pytest

from bench.analysis.claims import Claim, claim_results
from bench.analysis.frame import records_frame
from bench.cli import main
from bench.core.errors import SuiteError
from bench.suite.loader import load_suite, suite_from_document
from report.markdown import findings_markdown
from report.render import RunData, render_report


def record(normalizer, batch, seed, acc, speed=1000.0, suite="s", **fields):
    return {"case_id": f"{suite}/{normalizer}/{batch}/{seed}", "suite": suite, "normalizer": normalizer,
            "device": "cpu", "status": "ok", "seed": seed, "batch_size": batch, "axes": {"batch_size": batch},
            "not_applicable": [], "test_accuracy": acc, "train_samples_per_sec": speed,
            "infer_samples_per_sec": 2 * speed, **fields}


# Paired GN - BN differences per seed: at batch 2 (0.30, 0.26, 0.28), at batch 32 (-0.01, 0, +0.01).
BN = {2: (0.60, 0.62, 0.61), 32: (0.95, 0.95, 0.95)}
GN = {2: (0.90, 0.88, 0.89), 32: (0.94, 0.95, 0.96)}


def records(suite="s"):
    return [record(name, batch, seed, values[batch][seed], suite=suite)
            for name, values in (("batch", BN), ("group", GN)) for batch in (2, 32) for seed in range(3)]


def claim(expect="better_by_at_least", size=0.05, **kwargs):
    return Claim(**{"source": "Wu & He (2018)", "text": "GN vs BN", "expect": expect, "size": size,
                    "candidate": "group", "reference": "batch", **kwargs})


def judged(*claims, recs=None, options=None):
    return claim_results(records_frame(recs or records()), claims, options or {})


def test_a_comparison_is_judged_per_setting_with_the_paired_interval():
    # batch 2: mean 0.28, sd 0.02, t(0.975, 2) = 4.303: 0.28 -+ 4.303 * 0.02 / sqrt(3) = [0.230, 0.330]
    at_2, at_32 = judged(claim())
    assert at_2.settings == [{"device": "cpu", "batch_size": 2}] and at_2.subject == "group - batch"
    assert at_2.effect_text() == "+0.280 [+0.230, +0.330]" and at_2.diff.paired and at_2.diff.n == 3
    assert at_2.outcome == "supported" and at_2.needed is None
    # batch 32: mean 0, sd 0.01: [-0.025, +0.025], entirely below the claimed >= 0.05: contradicted there
    assert at_32.effect_text().endswith("0.000 [-0.025, +0.025]") and at_32.outcome == "contradicted"


def test_where_limits_the_settings_and_the_size_can_contradict():
    (result,) = judged(claim(size=0.40, where={"batch_size": (2,)}))
    assert result.settings == [{"device": "cpu", "batch_size": 2}]
    assert result.outcome == "contradicted"  # 0.330 < 0.40
    assert result.claim.region_text({}) == ">= +0.400"


def test_within_supports_on_the_verdicts_equivalence_interval_and_says_what_would_settle_it():
    # batch 32: sd 0.01; the 90% half-width t(0.95, 2) * 0.01 / sqrt(3) = 0.0169 lies inside +-0.02 ...
    (inside,) = judged(claim("within", 0.02, where={"batch_size": (32,)}))
    assert inside.outcome == "supported"
    # ... not inside +-0.01; at 5 seeds t(0.95, 4) * 0.01 / sqrt(5) = 0.0095 would be (at 4: 0.0118)
    (tight,) = judged(claim("within", 0.01, where={"batch_size": (32,)}))
    assert tight.outcome == "open" and tight.needed == 5
    assert tight.outcome_text() == "open: about 5 seeds would settle it"
    (far,) = judged(claim("within", 0.02, where={"batch_size": (2,)}))
    assert far.outcome == "contradicted"  # 0.230 > 0.02


def test_a_trend_differences_each_seeds_differences_between_two_settings():
    # per seed (0.30 - -0.01, 0.26 - 0, 0.28 - 0.01) = (0.31, 0.26, 0.27): mean 0.28, sd 0.02646,
    # 0.28 -+ 4.303 * 0.02646 / sqrt(3) = [0.214, 0.346]
    trend = ({"batch_size": 2}, {"batch_size": 32})
    (result,) = judged(claim(trend=trend))
    assert result.settings == [{"device": "cpu", "batch_size": 2}, {"device": "cpu", "batch_size": 32}]
    assert result.effect_text() == "+0.280 [+0.214, +0.346]" and result.outcome == "supported"
    assert result.setting_text() == "device=cpu, batch_size=2 vs device=cpu, batch_size=32"
    (too_big,) = judged(claim(size=0.40, trend=trend))
    assert too_big.outcome == "contradicted"
    assert result.claim.where_text() == "batch_size=2 vs batch_size=32"


def test_a_trend_without_common_seeds_uses_welch():
    recs = [r for r in records() if not (r["batch_size"] == 32 and r["seed"] == 0)]
    for r in recs:
        if r["batch_size"] == 32:
            r["seed"] += 10  # the batch-32 cases ran other seeds than the batch-2 ones
    (result,) = judged(claim(trend=({"batch_size": 2}, {"batch_size": 32})), recs=recs)
    assert not result.diff.paired and result.diff.n == 2
    assert math.isclose(result.diff.mean, 0.28 - 0.005)


def test_speed_claims_are_ratios_on_the_log_scale():
    recs = [record("layer", 32, s, 0.9, 1000.0 * (1 + 0.01 * s)) for s in range(3)]
    recs += [record("rms", 32, s, 0.9, 1200.0 * (1 + 0.01 * s)) for s in range(3)]
    faster = Claim("Zhang & Sennrich (2019)", "RMSNorm is faster", "better_by_at_least", 0.1,
                   candidate="rms", reference="layer", field="train_samples_per_sec")
    (result,) = judged(faster, recs=recs)
    assert result.scale == "ratio" and result.effect_text() == "1.20x [1.20, 1.20]"
    assert result.outcome == "supported" and result.claim.region_text({}) == ">= 1.10x"
    slower = Claim("x", "RMSNorm is 30% faster", "better_by_at_least", 0.3, candidate="rms", reference="layer",
                   field="train_samples_per_sec")
    assert judged(slower, recs=recs)[0].outcome == "contradicted"


def test_better_follows_the_fields_direction():
    recs = [record("batch", 8, s, 0.9, final_loss=0.50 + 0.01 * s) for s in range(3)]
    recs += [record("group", 8, s, 0.9, final_loss=0.30 + 0.01 * s) for s in range(3)]
    lower = Claim("ours", "GN ends at a lower loss", "better_by_at_least", 0.1, candidate="group",
                  reference="batch", field="final_loss")
    (result,) = judged(lower, recs=recs)
    assert result.claim.region({}) == (-math.inf, -0.1) and result.outcome == "supported"


def test_a_field_against_another_per_candidate_axis_value():
    recs = []
    for samples, gain in ((128, 0.30), (1024, 0.40)):
        for s in range(3):
            r = record("batch", 32, s, 0.5 + 0.01 * s, test_accuracy_precise_bn=0.5 + gain + 0.01 * s * (s - 1))
            r["axes"] = {"batch_size": 32, "precise_bn_samples": samples}
            r["case_id"] += f"/{samples}"
            recs.append(r)
    wanted = Claim("Wu & Johnson (2021)", "PreciseBN beats the EMA", "better_by_at_least", 0.2,
                   candidate="precise_bn_samples=1024", field="test_accuracy_precise_bn", versus_field="test_accuracy")
    options = {"candidates": "precise_bn_samples", "accuracy_field": "test_accuracy_precise_bn"}
    (result,) = judged(wanted, recs=recs, options=options)
    assert result.subject == "precise_bn_samples=1024: acc PreciseBN - acc (inference)"
    assert result.settings == [{"device": "cpu", "normalizer": "batch", "batch_size": 32}]
    assert result.outcome == "supported"
    every = Claim("x", "every candidate", "better_by_at_least", 0.0, field="test_accuracy_precise_bn",
                  versus_field="test_accuracy")
    assert len(judged(every, recs=recs, options=options)) == 2  # one row per candidate


def test_one_seed_and_missing_settings_are_said_so():
    (result,) = judged(claim(where={"batch_size": (2,)}), recs=[r for r in records() if r["seed"] == 0])
    assert result.outcome == "one seed" and result.outcome_text() == "one seed: no interval"
    assert result.effect_text() == "+0.300"
    (missing,) = judged(claim(candidate="layer"))
    assert missing.outcome == "no data" and missing.settings == [] and not missing.decided


USER_SUITE = """
name: mine
dataset: {name: synthetic, samples: 200, classes: 4, image_size: 6}
model: {name: mlp, widths: [16]}
normalizers:
  batch: {}
  group: {groups: 4}
grid:
  batch_size: [2, 32]
seeds: [0, 1, 2]
devices: [cpu]
claims:
  - source: ours
    text: GroupNorm beats BatchNorm by 5 points at batch 2 on my data
    candidate: group
    reference: batch
    where: {batch_size: 2}
    better_by_at_least: 0.05
  - source: ours
    text: the gap shrinks with the batch
    candidate: group
    reference: batch
    trend: {at: {batch_size: 2}, versus: {batch_size: 32}}
    better_by_at_least: 0.05
quick:
  grid: {batch_size: [32]}
"""


def test_a_users_claims_in_their_own_suite_file_are_judged_the_same_way(write_suite):
    suite = load_suite(write_suite(USER_SUITE))
    first, second = suite.claims
    assert first == claim(text="GroupNorm beats BatchNorm by 5 points at batch 2 on my data", source="ours",
                          where={"batch_size": (2,)})
    assert second.trend == ({"batch_size": 2}, {"batch_size": 32}) and second.index == 1
    frame = records_frame(records("mine"))
    by_file = claim_results(frame, suite.claims, suite.verdicts)
    by_hand = claim_results(frame, [claim(where={"batch_size": (2,)})], {})
    assert by_file[0].diff == by_hand[0].diff and by_file[0].outcome == by_hand[0].outcome == "supported"
    assert by_file[1].outcome == "supported"


def test_a_quick_run_keeps_the_claims_its_grid_can_judge_and_its_stored_suite_loads_again(write_suite):
    suite = load_suite(write_suite(USER_SUITE))
    assert suite.quick.claims == ()  # batch 2 is not in the quick grid: neither claim can be judged
    assert suite.quick.document["claims"] == []
    again = suite_from_document(suite.quick.document, "run.json")  # what --resume does
    assert again.claims == () and again.grid == {"batch_size": [32]}
    wider = load_suite(write_suite(USER_SUITE.replace("where: {batch_size: 2}", "where: {batch_size: [2, 32]}")))
    assert [c.where for c in wider.quick.claims] == [{"batch_size": (32,)}]
    assert wider.quick.document["claims"][0]["where"] == {"batch_size": [32]}


@pytest.mark.parametrize("old, new, message", [
    ("where: {batch_size: 2}", "where: {batch_size: 3}", "claims[0].where.batch_size: 3 is not in the grid (2, 32)"),
    ("candidate: group", "candidate: instance",
     "claims[0].candidate: 'instance' is not a normalizer of this suite (batch, group)"),
    ("reference: batch", "reference: batch (momentum=0.5)",
     "claims[0].reference: 'momentum' is not a grid axis of this suite (batch_size, device)"),
    ("where: {batch_size: 2}", "where: {epochs: 2}",
     "claims[0].where.epochs: 'epochs' is not a grid axis of this suite (batch_size, device)"),
    ("better_by_at_least: 0.05", "better_by_at_least: 0.05\n    within: 0.01",
     "claims[0]: give exactly one of better_by_at_least, worse_by_at_least, within"),
    ("better_by_at_least: 0.05", "better_by_at_least: 0.05\n    field: status", "claims[0].field: must be one of"),
    ("better_by_at_least: 0.05", "better_by_at_least: 0.05\n    speed: 1", "claims[0].speed: unknown key"),
    ("versus: {batch_size: 32}", "versus: {batch_size: 64}",
     "claims[1].trend.versus.batch_size: 64 is not in the grid (2, 32)"),
    ("versus: {batch_size: 32}", "versus: {batch_size: 2}", "claims[1].trend.versus: is the same setting as at"),
    ("source: ours", "source: ''", "claims[0].source: must not be empty"),
])
def test_a_claim_the_suite_cannot_judge_is_a_one_line_load_error(write_suite, old, new, message):
    path = write_suite(USER_SUITE.replace(old, new, 1))
    with pytest.raises(SuiteError) as error:
        load_suite(path)
    text = str(error.value)
    assert text.startswith(f"{path}: {message}") and "\n" not in text


def test_normbench_check_reports_a_bad_claim_in_one_line_and_exits_2(write_suite, capsys):
    path = write_suite(USER_SUITE.replace("where: {batch_size: 2}", "where: {batch_size: 3}"))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("claims[0].where.batch_size: 3 is not in the grid (2, 32)") and "\n" not in err


def _run(suite_text: str, recs: list[dict]) -> RunData:
    """A run as the report reads it; no timings (the throughput figures need real timing records)."""
    import yaml

    recs = [{k: v for k, v in r.items() if not k.endswith("samples_per_sec")} for r in recs]

    document = yaml.safe_load(suite_text)
    return RunData({"run_id": "r", "suites": [{"name": document["name"], "source": "mine.yaml",
                                               "verdicts": {}, "document": document}]}, recs, [])


def test_the_report_and_the_markdown_findings_show_each_claim_with_its_interval_and_outcome():
    run = _run(USER_SUITE, records("mine"))
    html = render_report([run])
    assert 'id="claims-mine"' in html and "Claims: 2 claim(s), judged at 2 setting(s): 2 supported." in html
    assert "<td>+0.280 [+0.230, +0.330]</td>" in html and '<td class="clear">supported</td>' in html
    assert "forest plot of the claims" in html  # the measured effects drawn (report/figures/forest.py)
    page = findings_markdown([run], "x")
    assert ("| GroupNorm beats BatchNorm by 5 points at batch 2 on my data | ours | device=cpu, batch_size=2 | "
            "group - batch | +0.280 [+0.230, +0.330] | >= +0.050 | supported |") in page
    assert "device=cpu, batch_size=2 vs device=cpu, batch_size=32" in page


def test_a_suite_without_claims_renders_no_claims_section_and_broken_stored_claims_are_said_so():
    plain = _run(USER_SUITE.split("claims:")[0], records("mine"))
    assert "Claims" not in findings_markdown([plain], "x")
    broken = _run(USER_SUITE, records("mine"))
    broken.info["suites"][0]["document"]["claims"] = "not a list"
    page = findings_markdown([broken], "x")
    assert "Claims: not judged (its stored claims cannot be read: claims: must be a list" in page


def test_the_literature_tier_loads_as_a_folder_outside_the_default_run(capsys, monkeypatch):
    from tests.conftest import ROOT

    monkeypatch.chdir(ROOT)
    assert main(["check", "suites/literature"]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok: suite 'lit_") >= 5
    tier = [load_suite(p) for p in sorted((ROOT / "suites" / "literature").glob("*.yaml"))]
    assert sum(len(s.claims) for s in tier) >= 6 and len({c.source.split(",")[0] for s in tier for c in s.claims}) >= 4
    assert main(["check"]) == 0 and "lit_" not in capsys.readouterr().out  # not in the default run
