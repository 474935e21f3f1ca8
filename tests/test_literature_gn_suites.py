"""The literature tier's GroupNorm small-batch suites: a conv workload that runs on built-in data
(suites/literature/gn_small_batch_conv.yaml) and the same suite on CIFAR-10 from Keras's cache
(suites/literature/cifar10/), which a machine without the cache refuses in one line."""

from pathlib import Path

from bench.cli import main
from bench.data import example_shape
from bench.suite.loader import load_suite
from tests.test_keras_cache import cache, place_cifar  # noqa: F401  (cache is a fixture)

LITERATURE = Path(__file__).resolve().parents[1] / "suites" / "literature"
BUILT_IN = LITERATURE / "gn_small_batch_conv.yaml"
CIFAR = LITERATURE / "cifar10" / "gn_small_batch_cifar10.yaml"


def test_the_built_in_workload_is_a_downsampling_conv_net_on_32x32_images():
    suite = load_suite(BUILT_IN)
    assert suite.dataset.name == "digit_scenes"  # scikit-learn's digits drawn here: no file, no download
    assert example_shape(suite.dataset.name, suite.dataset.options) == (32, 32, 3)
    # the CIFAR ResNet: stages at 32x32, 16x16 and 8x8
    assert suite.model.name == "resnet" and (suite.model.options["depth"] - 2) % 6 == 0
    assert {"batch", "group", "batch_renorm"} <= {n.label for n in suite.normalizers}


def test_the_gn_trend_is_claimed_between_the_smallest_batch_and_8():
    """Batch 8, where the GN paper has BN and GN within a point; the largest batch (32) stays in the
    grid to show the set is neither saturated nor failed."""
    suite = load_suite(BUILT_IN)
    sizes = suite.grid["batch_size"]
    (trend,) = [c for c in suite.claims if c.trend]
    assert (trend.candidate, trend.reference, trend.expect) == ("group", "batch", "better_by_at_least")
    assert trend.trend == ({"batch_size": min(sizes)}, {"batch_size": 8}) and trend.size > 0
    assert min(sizes) == 2 and max(sizes) == 32
    assert all("Wu & He (2018)" in c.source or "Ioffe (2017)" in c.source for c in suite.claims)


def test_the_cifar_suite_is_the_built_in_one_on_another_dataset(cache):  # noqa: F811
    place_cifar(cache, 10)
    built_in, cifar = load_suite(BUILT_IN), load_suite(CIFAR)
    assert cifar.dataset.name == "keras" and cifar.dataset.options["id"] == "cifar10"
    assert example_shape(cifar.dataset.name, cifar.dataset.options) == (32, 32, 3)
    for part in ("model", "training", "normalizers", "grid", "seeds", "verdicts", "claims"):
        assert cifar.document[part] == built_in.document[part], part


def test_the_cifar_suite_without_a_cache_is_one_line(cache, capsys):  # noqa: F811
    assert main(["check", str(CIFAR)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no cached copy of cifar10" in err
