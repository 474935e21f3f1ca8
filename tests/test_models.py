"""bench.measure.models: the built-in families, counted layer by layer against their papers."""

import pytest

from bench.cli import main


def built(name, options, kind="batch", shape=(32, 32, 3), classes=10):
    from bench.measure.models import build_model

    normalizer_options = {"batch": {}, "layer": {}, "group": {"groups": 4}}[kind]
    return build_model(name, options, shape, classes, kind, normalizer_options)


def count(model, class_name):
    return sum(type(layer).__name__ == class_name for layer in model.layers)


@pytest.mark.tensorflow
def test_resnet20_matches_the_cifar_resnet_of_the_paper():
    model = built("resnet", {"depth": 20, "width": 16})
    # 1 stem conv + 3 stages x 3 blocks x 2 convs = 19 weighted 3x3 layers, 2 projection shortcuts, 1 dense
    assert count(model, "Conv2D") == 21 and count(model, "Dense") == 1
    assert count(model, "BatchNormalization") == 21 and count(model, "Add") == 9
    # He et al. 2016 give 0.27M parameters for ResNet-20 (option A shortcuts; B adds two 1x1 convs)
    assert 0.26e6 < model.count_params() < 0.30e6
    assert model.output_shape == (None, 10)
    assert built("resnet", {"depth": 8, "width": 4}, kind="group").output_shape == (None, 10)


@pytest.mark.tensorflow
@pytest.mark.parametrize("placement, norms", [("pre", 2 * 2 + 1), ("post", 2 * 2)])
def test_transformer_places_its_normalizers_pre_or_post(placement, norms):
    options = {"width": 16, "heads": 4, "blocks": 2, "placement": placement}
    model = built("transformer", options, kind="layer", shape=(8, 8, 1), classes=4)
    assert count(model, "LayerNormalization") == norms and count(model, "MultiHeadAttention") == 2
    assert model.output_shape == (None, 4)
    assert built("transformer", options, kind="batch", shape=(12, 5), classes=3).output_shape == (None, 3)


@pytest.mark.parametrize("model, normalizers, message", [
    ("{name: resnet, depth: 21}", "{batch: {}}", "model.depth: must be 6n + 2 (8, 14, 20, 32, ...), got 21"),
    ("{name: transformer, width: 30, heads: 4}", "{layer: {}}", "model.heads: 4 heads do not divide width 30"),
    ("{name: resnet, width: 16}", "{group: {groups: 3}}", "normalizers.group.groups: 3 groups do not divide"),
])
def test_impossible_family_settings_are_one_line(write_suite, capsys, model, normalizers, message):
    path = write_suite(f"name: s\nmodel: {model}\nnormalizers: {normalizers}\ndevices: [cpu]\n")
    assert main(["check", str(path)]) == 2
    assert message in capsys.readouterr().err
