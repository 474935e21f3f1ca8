from bench.suite import expand, load_suite
from bench.suite.grid import case_id, format_value
from tests.conftest import MINIMAL


def test_axes_that_do_not_apply_do_not_multiply_cases(write_suite):
    cases = expand(load_suite(write_suite(MINIMAL)))
    by_normalizer = {}
    for case in cases:
        by_normalizer.setdefault(case.normalizer, []).append(case)
    # batch: 2 batch sizes x 2 momenta x 2 seeds; group and layer ignore momentum
    assert {k: len(v) for k, v in by_normalizer.items()} == {"batch": 8, "group": 4, "layer": 4}
    assert all(c.not_applicable == ("momentum",) for c in by_normalizer["layer"])
    assert all(c.not_applicable == () for c in by_normalizer["batch"])


def test_axis_values_reach_the_right_settings(write_suite):
    cases = expand(load_suite(write_suite(MINIMAL)))
    case = next(c for c in cases if c.case_id == "demo/batch/batch_size=8,momentum=0.99/seed=1/cpu")
    assert case.settings["batch_size"] == 8
    assert case.normalizer_options["momentum"] == 0.99
    assert "momentum" not in case.settings


def test_case_ids_are_unique_and_quick_is_smaller(write_suite):
    suite = load_suite(write_suite(MINIMAL.replace("devices: [cpu]", "devices: [cpu, gpu]")))
    cases = expand(suite)
    assert len({c.case_id for c in cases}) == len(cases) == 32
    assert [c.device for c in cases[:16]] == ["cpu"] * 16
    assert len(expand(suite, quick=True)) == 16  # one seed


def test_model_option_axis(write_suite):
    text = MINIMAL.replace("  momentum: [0.9, 0.99]", "  placement: [before, after]")
    cases = expand(load_suite(write_suite(text)))
    assert {c.model_options["placement"] for c in cases} == {"before", "after"}
    assert all(c.not_applicable == () for c in cases)


def test_case_id_format():
    assert case_id("s", "bn", {"epsilon": 1e-8, "batch_size": 4}, 2, "gpu") == "s/bn/epsilon=1e-08,batch_size=4/seed=2/gpu"
    assert case_id("s", "ln", {}, 0, "cpu") == "s/ln/default/seed=0/cpu"
    assert format_value([16, 32]) == "16x32" and format_value(True) == "true"


def test_case_to_dict_is_plain_data(write_suite):
    import json

    case = expand(load_suite(write_suite(MINIMAL)))[0]
    assert json.loads(json.dumps(case.to_dict()))["case_id"] == case.case_id


def test_model_axis_gives_each_family_its_own_defaults(write_suite):
    suite = load_suite(write_suite("""
name: families
model: {placement: after}
normalizers: {batch: {}}
grid: {model: [cnn, mlp], input_scale: [1.0, 2.0]}
devices: [cpu]
"""))
    cases = expand(suite)
    assert len(cases) == 4
    by_model = {(c.model, c.dataset_options["input_scale"]): c for c in cases}
    assert by_model[("cnn", 1.0)].model_options == {"widths": [16, 32], "placement": "after"}
    assert by_model[("mlp", 2.0)].model_options == {"widths": [64, 64], "placement": "after"}
    assert by_model[("mlp", 2.0)].case_id == "families/batch/model=mlp,input_scale=2/seed=0/cpu"


def test_a_layer_case_keeps_its_hash_and_old_case_dicts_still_load(write_suite):
    """The renames (normalizer_kind, settings, workload; ``workload:`` for ``kind:``) leave the config
    hash of an existing case as normbench computed it before them (b61d34f), so earlier runs still
    pair in ``normbench compare``; a case dict stored by an older run (run.json's extra_cases) loads."""
    import warnings

    from bench.suite.grid import Case

    document = "name: l\n{key}: layer\nnormalizers: {{layer: {{}}}}\ndevices: [cpu]\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (old,) = expand(load_suite(write_suite(document.format(key="kind"))))
    assert [str(w.message) for w in caught if "'kind' is now called 'workload'" in str(w.message)]
    (new,) = expand(load_suite(write_suite(document.format(key="workload"))))
    assert old.config_hash == new.config_hash == "1cfbbac4a5e51c43"
    stored = {{"normalizer_kind": "kind", "settings": "training", "workload": "suite_kind"}.get(k, k): v
              for k, v in new.to_dict().items()}
    assert Case.from_dict(stored) == new
