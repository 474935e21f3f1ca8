import numpy as np
import pytest

from bench.data import load_dataset

# the sum of |pixels| of make_synthetic(samples=200, image_size=8, channels=2, classes=5, noise=0.0)'s
# training set before shift and overlap existed
PLAIN_SYNTHETIC_CHECKSUM = 17994.586


def test_digits_ships_with_scikit_learn_and_splits_stratified():
    data = load_dataset("digits", {"test_fraction": 0.25, "input_scale": 1 / 16})
    assert data.x_train.shape[1:] == (8, 8, 1) and data.x_train.dtype == np.float32
    assert len(data.x_train) + len(data.x_test) == 1797
    assert 0.0 <= data.x_train.min() and data.x_train.max() == 1.0
    assert np.bincount(data.y_test, minlength=10).min() >= 40  # every class is tested


def test_synthetic_is_seeded_and_shaped():
    options = dict(samples=120, image_size=6, channels=3, classes=4, noise=0.3, test_fraction=0.25,
                   input_scale=2.0)
    first, second = load_dataset("synthetic", options), load_dataset("synthetic", options)
    assert first.x_train.shape[1:] == (6, 6, 3) and first.classes == 4
    assert len(first.x_train) + len(first.x_test) == 120 and len(first.x_test) == 4 * 8  # 25% of 30 per class
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.y_test, second.y_test)


def test_synthetic_nuisances_keep_labels_and_leave_plain_sets_as_they_were():
    from bench.data.synthetic import make_synthetic

    base = dict(samples=200, image_size=8, channels=2, classes=5, noise=0.0)
    plain = make_synthetic(**base)
    # the plain set is what it was before shift and overlap existed (a fixed checksum of its pixels)
    assert float(np.abs(plain.x_train).sum()) == pytest.approx(PLAIN_SYNTHETIC_CHECKSUM, rel=1e-6)
    hard = make_synthetic(**base, shift=3, overlap=0.8)
    np.testing.assert_array_equal(plain.y_train, hard.y_train)
    np.testing.assert_array_equal(hard.x_train, make_synthetic(**base, shift=3, overlap=0.8).x_train)
    assert not np.allclose(plain.x_train, hard.x_train)
    # shift alone only moves each example's pattern: per-example pixel sums are unchanged (no noise)
    moved = make_synthetic(**base, shift=3)
    np.testing.assert_allclose(moved.x_train.sum(axis=(1, 2)), plain.x_train.sum(axis=(1, 2)), rtol=1e-4, atol=1e-3)
    assert not np.allclose(moved.x_train, plain.x_train)


def test_train_size_matches_the_built_datasets():
    from bench.data import train_size
    from bench.data.digits import CLASS_COUNTS as DIGITS_CLASS_COUNTS
    from sklearn.datasets import load_digits

    assert tuple(np.bincount(load_digits().target)) == DIGITS_CLASS_COUNTS
    for name, options in [
        ("digits", {"test_fraction": 0.25, "input_scale": 1 / 16}),
        ("digits", {"test_fraction": 0.1, "input_scale": 1.0}),
        ("synthetic", dict(samples=123, image_size=4, channels=1, classes=7, noise=0.1, test_fraction=0.3,
                           input_scale=1.0)),
    ]:
        assert train_size(name, options) == len(load_dataset(name, options).x_train)


def test_shifted_dataset_is_an_affine_copy():
    data = load_dataset("digits", {"test_fraction": 0.25, "input_scale": 1 / 16})
    inverted = data.shifted(-1.0, 1.0)
    np.testing.assert_allclose(inverted.x_train, 1.0 - data.x_train)
    np.testing.assert_array_equal(inverted.y_test, data.y_test)
    assert inverted.x_train.dtype == np.float32 and data.x_train.max() == 1.0 and inverted.x_train.min() == 0.0


def test_mnist1d_is_generated_locally_as_one_channel_sequences():
    import numpy as np

    from bench.data import example_shape, load_dataset, train_size

    options = {"samples": 500, "test_fraction": 0.2, "input_scale": 1.0}
    state = np.random.get_state()
    first, second = load_dataset("mnist1d", options), load_dataset("mnist1d", options)
    assert np.array_equal(np.random.get_state()[1], state[1])  # the package's global seeding is undone
    assert first.x_train.shape == (400, 40, 1) and first.x_test.shape == (100, 40, 1) and first.classes == 10
    assert len(first.x_train) == train_size("mnist1d", options) and example_shape("mnist1d", options) == (40, 1)
    assert np.array_equal(first.x_train, second.x_train) and set(np.unique(first.y_train)) == set(range(10))


def test_every_catalog_dataset_has_a_module_and_every_module_an_entry():
    from bench.suite import catalog
    from bench.data import MODULES, _module

    assert sorted(MODULES) == sorted(catalog.DATASETS)
    for name in MODULES:
        module = _module(name)
        assert callable(module.load) and callable(module.train_size) and callable(module.example_shape), name


def test_digit_scenes_render_scikit_learn_digits_as_seeded_colour_scenes():
    from bench.data import example_shape, train_size

    options = dict(image_size=24, copies=2, min_size=10, max_size=30, exposure=3.0, noise=0.05,
                   test_fraction=0.25)
    first, second = load_dataset("digit_scenes", options), load_dataset("digit_scenes", options)
    np.testing.assert_array_equal(first.x_train, second.x_train)
    assert first.x_train.shape[1:] == (24, 24, 3) == example_shape("digit_scenes", options)
    assert len(first.x_train) == train_size("digit_scenes", options) == 2 * 1347
    assert len(first.x_test) == 2 * 450 and np.bincount(first.y_test, minlength=10).min() >= 80
    # each image's own colour and exposure: its channel means spread between images far more, relative
    # to the pixels' spread within an image, than the synthetic set's (the per-example statistics a
    # batch of two estimates poorly)
    def between_over_within(x):
        return float((x.mean(axis=(1, 2)).std(axis=0) / x.std(axis=(1, 2)).mean(axis=0)).min())

    synthetic = load_dataset("synthetic", dict(samples=400, image_size=24, channels=3, classes=10, noise=1.0,
                                               test_fraction=0.25, input_scale=1.0, shift=4, overlap=1.0))
    assert between_over_within(first.x_train) > 3 * between_over_within(synthetic.x_train)

def test_digit_scenes_keep_each_source_digit_on_one_side_of_the_split():
    from bench.data.digit_scenes import make_digit_scenes

    # no noise, no exposure, the digit filling the canvas: a scene is background + strokes x (ink -
    # background), so each scene's strokes come back exactly (every digit's corner pixel is blank)
    data = make_digit_scenes(image_size=8, copies=1, min_size=8, max_size=8, exposure=1.0, noise=0.0)

    def strokes(x):
        offset = x.mean(axis=-1).reshape(len(x), -1)
        offset = offset - offset[:, :1]
        peak = np.take_along_axis(offset, np.abs(offset).argmax(axis=1)[:, None], axis=1)
        return {tuple(row) for row in np.round(offset / peak, 3)}

    train, test = strokes(data.x_train), strokes(data.x_test)
    assert len(train) > 1300 and len(test) > 440  # the strokes are recovered (digits barely repeat)
    assert not train & test


def test_digit_scenes_whose_digits_cannot_fit_are_one_line_at_load(tmp_path, capsys):
    from bench.cli import main

    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\ndataset: {name: digit_scenes, image_size: 16, min_size: 20}\n"
                     "model: {name: cnn}\nnormalizers: {batch: {}}\nseeds: [0]\n")
    assert main(["check", str(suite)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "dataset.min_size" in err and "image_size 16" in err, err
