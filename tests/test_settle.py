"""--settle plans more seeds only where an accuracy verdict is open, and only for that setting."""

from bench.execute.settle import settle_cases
from bench.suite.loader import suite_from_document

SUITE = {"name": "s", "normalizers": {"batch": {}, "layer": {}}, "grid": {"batch_size": [8, 32]},
         "seeds": [0, 1, 2], "devices": ["cpu"]}


def records(accuracies: dict) -> list[dict]:
    """accuracies[(normalizer, batch)] = per-seed values."""
    out = []
    for (normalizer, batch), values in accuracies.items():
        for seed, acc in enumerate(values):
            out.append({"case_id": f"s/{normalizer}/batch_size={batch}/seed={seed}/cpu", "suite": "s",
                        "normalizer": normalizer, "device": "cpu", "status": "ok", "seed": seed,
                        "batch_size": batch, "axes": {"batch_size": batch}, "not_applicable": [],
                        "test_accuracy": acc})
    return out


def test_only_open_settings_get_seeds_and_only_as_many_as_the_spread_asks():
    suite = suite_from_document(SUITE, "s.yaml")
    data = records({
        ("batch", 8): [0.90, 0.80, 0.95], ("layer", 8): [0.85, 0.82, 0.88],  # open
        ("batch", 32): [0.95, 0.96, 0.97], ("layer", 32): [0.85, 0.86, 0.87],  # decided: batch by 0.10
    })
    cases = settle_cases(data, [suite], quick=False, max_seeds=8)
    assert {c.axes["batch_size"] for c in cases} == {8}
    assert {c.normalizer for c in cases} == {"batch", "layer"}
    seeds = sorted({c.seed for c in cases})
    assert seeds[0] == 3 and len(seeds) <= 5  # new seeds after 0-2, at most 8 in all
    assert all(c.suite == "s" and c.case_id.endswith(f"/seed={c.seed}/cpu") for c in cases)


def test_max_seeds_caps_and_a_second_round_continues_after_the_first():
    suite = suite_from_document(SUITE, "s.yaml")
    data = records({("batch", 8): [0.90, 0.80, 0.95], ("layer", 8): [0.85, 0.82, 0.88]})
    assert sorted({c.seed for c in settle_cases(data, [suite], False, max_seeds=4)}) == [3]
    more = data + records({("batch", 8): [0.9] * 4, ("layer", 8): [0.85] * 4})[3:4] \
        + records({("layer", 8): [0.85] * 4})[3:4]
    assert min(c.seed for c in settle_cases(more, [suite], False, max_seeds=8)) == 4


def test_nothing_open_nothing_planned():
    suite = suite_from_document(SUITE, "s.yaml")
    data = records({("batch", 8): [0.95, 0.96, 0.97], ("layer", 8): [0.85, 0.86, 0.87]})
    assert settle_cases(data, [suite], False, max_seeds=8) == []
