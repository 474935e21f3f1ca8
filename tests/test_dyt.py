"""DyT, Dynamic Tanh (Zhu et al., CVPR 2025): the paper's formula on literal numbers, the Keras layer
against it on every installed Keras backend (outputs in both modes, gradients to the input), the
registry entry and its suite options, one real case on digits, and a .keras round trip."""

import json
import math
from importlib import metadata

import numpy as np
import pytest

from bench.core.errors import SuiteError
from bench.measure.backends import MODULES, missing_reason
from bench.normalizers import NORMALIZERS
from bench.normalizers.dyt import reference
from tests.test_backends import run_on

TOLERANCE = 1e-6  # relative, float32 layer against the float64 reference


def test_reference_is_the_papers_formula_on_literal_numbers():
    """alpha 0.5 on [0, 2, -4] is tanh of [0, 1, -2], then scaled and shifted per channel."""
    y = reference(np.array([[0.0, 2.0, -4.0]]), 0.5, np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.5, -1.0]))
    expected = [[0.0, 2 * math.tanh(1.0) + 0.5, 3 * math.tanh(-2.0) - 1.0]]
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(y, [[0.0, 2.0231883119, -3.8920827402]], rtol=1e-10)


def test_reference_applies_gamma_and_beta_over_the_last_axis_only():
    x = np.array([[[1.0, -1.0]], [[3.0, 0.0]]])  # (2, 1, 2)
    y = reference(x, 2.0, np.array([10.0, 1.0]), np.array([1.0, -1.0]))
    assert y.shape == (2, 1, 2)
    np.testing.assert_allclose(y[:, 0, 0], [10 * math.tanh(2.0) + 1, 10 * math.tanh(6.0) + 1], rtol=1e-12)
    np.testing.assert_allclose(y[:, 0, 1], [math.tanh(-2.0) - 1, -1.0], rtol=1e-12)


def test_dyt_is_registered_with_no_statistics_and_no_bias_before_it():
    kind = NORMALIZERS["dyt"]
    assert not kind.batch_statistics and not kind.moving_statistics
    assert not kind.keeps_bias and not kind.open_options
    assert kind.reference is reference
    assert set(kind.options) == {"alpha_init"} and kind.options["alpha_init"].default == 0.5
    assert kind.unsupported({"alpha_init": 0.5}, "jax") is None and kind.unsupported({}, "torch") is None


def test_alpha_init_validates_through_a_suite(write_suite):
    from bench.suite import expand, load_suite

    suite = load_suite(write_suite("name: s\nnormalizers: {dyt: {alpha_init: 0.8}, plain: {kind: dyt}}\n"
                                   "devices: [cpu]\n"))
    cases = {case.normalizer: case for case in expand(suite)}
    assert cases["dyt"].normalizer_kind == "dyt" and cases["dyt"].normalizer_options == {"alpha_init": 0.8}
    assert cases["plain"].normalizer_options == {"alpha_init": 0.5}
    swept = expand(load_suite(write_suite("name: s\nnormalizers: {dyt: {}}\ngrid: {alpha_init: [0.25, 1]}\n"
                                          "devices: [cpu]\n")))
    assert [case.normalizer_options["alpha_init"] for case in swept] == [0.25, 1.0]


@pytest.mark.parametrize("value, problem", [("0", "must be > 0, got 0"), ("-0.5", "must be > 0, got -0.5"),
                                            ("big", "must be a number, got 'big'")])
def test_a_bad_alpha_init_is_one_line_naming_the_field(write_suite, value, problem):
    from bench.suite import load_suite

    with pytest.raises(SuiteError) as raised:
        load_suite(write_suite(f"name: s\nnormalizers: {{dyt: {{alpha_init: {value}}}}}\n"))
    message = str(raised.value)
    assert "\n" not in message and f"normalizers.dyt.alpha_init: {problem}" in message


def test_options_the_paper_does_not_have_are_refused(write_suite):
    from bench.suite import load_suite

    with pytest.raises(SuiteError, match=r"normalizers.dyt.epsilon: unknown key \(known: alpha_init\)"):
        load_suite(write_suite("name: s\nnormalizers: {dyt: {epsilon: 0.001}}\n"))


# In a fresh process whose Keras runs on argv[1]: the layer a case builds, its outputs in both modes
# and its gradient to the input, with default and with set weights, printed as JSON for the test.
DYT_ON_BACKEND = """
import json, os, sys
os.environ["KERAS_BACKEND"] = sys.argv[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras, numpy as np
from bench.measure.layers import build_normalizer

backend = keras.backend.backend()
rng = np.random.default_rng(0)
x = rng.normal(0.0, 2.0, (4, 3, 6)).astype("float32")
upstream = rng.normal(0.0, 1.0, x.shape).astype("float32")


def input_gradient(layer, training):
    if backend == "tensorflow":
        import tensorflow as tf

        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            y = layer(tensor, training=training)
        return tape.gradient(y, tensor, output_gradients=tf.constant(upstream)).numpy()
    if backend == "jax":
        import jax

        _, pullback = jax.vjp(lambda tensor: layer(tensor, training=training), x)
        return np.asarray(pullback(upstream)[0])
    import torch

    tensor = torch.tensor(x, requires_grad=True)
    layer(tensor, training=training).backward(torch.as_tensor(upstream).to(tensor.device))
    return tensor.grad.cpu().numpy()


def measure(layer):
    weights = {v.name: keras.ops.convert_to_numpy(v.value).tolist() for v in layer.weights}
    modes = {}
    for training in (True, False):
        y = keras.ops.convert_to_numpy(layer(x, training=training))
        modes[str(training)] = {"y": y.tolist(), "dx": input_gradient(layer, training).tolist()}
    return {"weights": weights, "trainable": [v.name for v in layer.trainable_weights], "modes": modes}


layer = build_normalizer("dyt", {"alpha_init": 0.5})
layer(x)
default = measure(layer)
layer.set_weights([np.float32(1.3), rng.uniform(0.5, 1.5, 6).astype("float32"),
                   rng.normal(0.0, 1.0, 6).astype("float32")])
print(json.dumps({"backend": backend, "x": x.tolist(), "upstream": upstream.tolist(), "default": default,
                  "set": measure(layer)}))
"""


def _backend_param(name: str):
    reason = missing_reason(name)
    if reason is None and int(metadata.version("keras").split(".")[0]) < 3:
        reason = "DyT needs Keras 3 (keras.ops); on Keras 2 its cases are recorded skipped"
    return pytest.param(name, marks=pytest.mark.skipif(reason is not None, reason=reason or ""))


@pytest.mark.tensorflow
@pytest.mark.parametrize("backend", [_backend_param(name) for name in MODULES])
def test_keras_layer_matches_the_reference_on_every_backend(backend):
    """Outputs equal the NumPy reference in training and inference mode (the same thing: no
    statistics), with the default weights and with alpha 1.3 and random gamma and beta; the input
    gradient is the analytic ``upstream * gamma * alpha * (1 - tanh(alpha x)^2)``. Where tanh
    saturates, ``1 - tanh^2`` cancels in float32 (observed: 5e-7 absolute, 0.5% of a 1e-4 element),
    so the gradient's relative difference is normbench's norm-wise one (max difference over the
    largest magnitude, ``bench.measure.implementations.differences``)."""
    from bench.measure.implementations import differences

    result = json.loads(run_on(backend, DYT_ON_BACKEND).strip().splitlines()[-1])
    assert result["backend"] == backend
    x, upstream = np.array(result["x"], "float32"), np.array(result["upstream"], "float32")

    default = result["default"]["weights"]
    assert default["alpha"] == pytest.approx(0.5) and default["gamma"] == [1.0] * 6 and default["beta"] == [0.0] * 6
    assert result["default"]["trainable"] == ["alpha", "gamma", "beta"]

    for run in (result["default"], result["set"]):
        weights = {name: np.array(value, "float64") for name, value in run["weights"].items()}
        expected = reference(x, **weights)
        tanh = np.tanh(weights["alpha"] * x.astype("float64"))
        expected_dx = upstream * weights["gamma"] * weights["alpha"] * (1 - tanh ** 2)
        for mode in ("True", "False"):
            # near-zero outputs (beta cancelling gamma * tanh) are held to the batch's scale
            np.testing.assert_allclose(run["modes"][mode]["y"], expected, rtol=TOLERANCE,
                                       atol=TOLERANCE * np.max(np.abs(expected)), err_msg=mode)
            _, gradient_rel = differences([np.array(run["modes"][mode]["dx"])], [expected_dx])
            assert gradient_rel < TOLERANCE, (mode, gradient_rel)
        assert run["modes"]["True"] == run["modes"]["False"]
    assert result["set"]["weights"]["alpha"] == pytest.approx(1.3)
    assert not np.allclose(result["set"]["modes"]["True"]["y"], result["default"]["modes"]["True"]["y"])


@pytest.mark.tensorflow
def test_on_keras_2_the_builder_gives_a_reason_and_the_case_is_skipped(monkeypatch, write_suite):
    """Keras 2 (the legacy tensorflow-addons environment) has no keras.ops: a skipped record, not a failure."""
    import keras

    from bench.core.errors import ImplementationUnavailable
    from bench.execute.in_worker import run_case
    from bench.measure.layers import build_normalizer
    from bench.suite import expand, load_suite

    monkeypatch.delattr(keras, "ops")
    with pytest.raises(ImplementationUnavailable, match=r"^DyT is written with keras.ops, which needs Keras 3; "):
        build_normalizer("dyt", {})
    (case,) = expand(load_suite(write_suite("name: s\ndataset: {name: synthetic, samples: 64, classes: 4, "
                                            "image_size: 4}\nmodel: {name: mlp, widths: [4]}\n"
                                            "training: {epochs: 1}\nnormalizers: {dyt: {}}\ndevices: [cpu]\n")))
    record = run_case(case, "t", {}, [])
    assert record["status"] == "skipped" and "needs Keras 3" in record["error"] and "\n" not in record["error"]


DIGITS_SUITE = """
name: dyt_digits
dataset: digits
model: {name: mlp, widths: [8]}
training: {epochs: 1}
normalizers: {dyt: {}}
devices: [cpu]
timing: {min_rounds: 2, max_time: 0.02, warmup_rounds: 1}
"""


@pytest.mark.tensorflow
def test_a_dyt_case_trains_on_digits_end_to_end(write_suite):
    from bench.analysis.kernel_flags import kernel_check_failures
    from bench.execute.in_worker import run_case
    from bench.suite import expand, load_suite

    (case,) = expand(load_suite(write_suite(DIGITS_SUITE)))
    benchmarks = []
    record = run_case(case, "t", {}, benchmarks)
    assert record["status"] == "ok", record["error"]
    assert record["normalizer_kind"] == "dyt" and record["test_accuracy"] > record["chance_accuracy"] + 0.3  # well above always guessing one class
    assert record["nan_rate"] == 0.0 and record["weights_finite"] is True
    # no statistics: the same output whatever the batch, and in either mode
    assert record["test_accuracy_training_mode"] == record["test_accuracy"]
    assert record["batch_dependence_training"] == pytest.approx(0.0, abs=1e-6)
    assert kernel_check_failures(record) == []
    assert benchmarks and record["train_samples_per_sec"] > 0


@pytest.mark.tensorflow
def test_a_saved_model_with_dyt_loads_back_with_the_same_outputs(tmp_path):
    import keras

    from bench.measure.layers import build_normalizer

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(5,))
    norm = build_normalizer("dyt", {"alpha_init": 0.8})
    outputs = keras.layers.Dense(2)(norm(keras.layers.Dense(4, use_bias=False)(inputs)))
    model = keras.Model(inputs, outputs)
    assert norm.alpha.numpy() == pytest.approx(0.8)
    norm.set_weights([np.float32(1.3), np.array([0.5, 1.0, 1.5, 2.0], "float32"),
                      np.array([-1.0, 0.0, 0.25, 1.0], "float32")])
    path = tmp_path / "dyt.keras"
    model.save(path)

    loaded = keras.saving.load_model(path)
    (restored,) = [layer for layer in loaded.layers if type(layer).__name__ == "DynamicTanh"]
    assert keras.saving.get_registered_name(type(restored)) == "normbench>DynamicTanh"
    assert restored.get_config()["alpha_init"] == 0.8 and restored.alpha.numpy() == pytest.approx(1.3)
    x = np.random.default_rng(0).normal(size=(8, 5)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
