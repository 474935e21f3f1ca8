"""RMSNorm and InstanceNorm from their papers' formulas agree with the Keras layers normbench builds
(outputs in both modes, gradients to the input and the weights); the MLP corner case is pinned."""

import numpy as np
import pytest

pytestmark = pytest.mark.tensorflow
TOLERANCE = 2e-5  # float32


def pair(kind, shape, **options):
    from bench.measure.layers import build_by_calling, build_normalizer

    layers = [build_normalizer(kind, {**options, "implementation": impl}) for impl in ("reference", "keras")]
    rng = np.random.default_rng(0)
    values = [rng.uniform(0.5, 1.5, shape[-1]), rng.normal(0, 1, shape[-1])]
    for layer in layers:
        build_by_calling(layer, shape)
        for variable, value in zip(layer.trainable_weights, values):
            variable.assign(value.astype("float32"))
    return layers


@pytest.mark.parametrize("kind, shape", [("rms", (8, 128, 32)), ("rms", (16, 24)), ("instance", (8, 6, 6, 4))])
def test_outputs_and_gradients_match_keras_in_both_modes(kind, shape):
    import tensorflow as tf

    reference, library = pair(kind, shape)
    assert len(reference.trainable_weights) == len(library.trainable_weights)
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(1.0, 3.0, shape).astype("float32"))
    upstream = tf.constant(rng.normal(0.0, 1.0, shape).astype("float32"))
    for training in (True, False):
        results = []
        for layer in (reference, library):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, training=training)
            results.append((y, tape.gradient(y, [x, *layer.trainable_weights], output_gradients=upstream)))
        (y_ref, g_ref), (y_lib, g_lib) = results
        np.testing.assert_allclose(y_ref, y_lib, atol=TOLERANCE, rtol=TOLERANCE)
        for a, b in zip(g_ref, g_lib):
            np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


def test_rms_is_the_papers_formula_on_literal_numbers():
    from bench.normalizers.keras_layers.reference_norms import ReferenceRMSNormalization

    layer = ReferenceRMSNormalization(epsilon=0.0)
    y = layer(np.array([[3.0, 4.0]], "float32"))  # rms = sqrt((9 + 16) / 2) = 3.5355
    np.testing.assert_allclose(y, [[3 / 3.5355339, 4 / 3.5355339]], rtol=1e-6)


def test_instance_norm_on_features_alone_outputs_beta():
    reference, library = pair("instance", (4, 8))
    x = np.random.default_rng(2).normal(size=(4, 8)).astype("float32")
    beta = reference.trainable_weights[1].numpy()
    np.testing.assert_allclose(reference(x, training=True), np.broadcast_to(beta, (4, 8)), atol=1e-6)
    np.testing.assert_allclose(library(x, training=True), np.broadcast_to(beta, (4, 8)), atol=1e-5)


def test_the_reference_implementations_are_compared_in_cases():
    from bench.measure.implementations import compare_with_keras

    for kind in ("rms", "instance"):
        result = compare_with_keras(kind, {"implementation": "reference"})
        assert result["output_max_rel_diff"] < 1e-5 and result["gradient_max_rel_diff"] < 1e-4


def test_a_stack_without_rms_normalization_gets_a_reason_not_a_crash(monkeypatch):
    import keras

    from bench.core.errors import ImplementationUnavailable
    from bench.measure.layers import build_normalizer

    monkeypatch.delattr(keras.layers, "RMSNormalization")
    with pytest.raises(ImplementationUnavailable, match="RMSNormalization needs Keras 3.9 or later"):
        build_normalizer("rms", {})
    from bench.normalizers.keras_layers.reference_norms import ReferenceRMSNormalization

    assert isinstance(build_normalizer("rms", {"implementation": "reference"}), ReferenceRMSNormalization)
