import pytest

from bench.core.errors import FieldError
from bench.core.params import Param, at_least, in_unit_interval, parse_options, positive


def test_float_accepts_ints_and_numeric_strings():
    assert Param(float).parse(1, "x") == 1.0
    assert Param(float).parse("1e-3", "x") == 0.001


@pytest.mark.parametrize("value", [True, "abc", [1], float("nan"), float("inf")])
def test_float_rejects_non_numbers(value):
    with pytest.raises(FieldError) as info:
        Param(float).parse(value, "training.learning_rate")
    assert info.value.field == "training.learning_rate"


def test_int_rejects_bool_and_float():
    for value in (True, 2.5):
        with pytest.raises(FieldError, match="must be an integer"):
            Param(int).parse(value, "x")


def test_checks_report_the_value():
    with pytest.raises(FieldError, match=r"must be > 0, got -1"):
        Param(float, check=positive).parse(-1, "eps")
    with pytest.raises(FieldError, match=r"must be in \[0, 1\), got 1"):
        Param(float, check=in_unit_interval).parse(1, "m")


def test_list_items_are_checked_with_their_index():
    with pytest.raises(FieldError) as info:
        Param(list, item=int, check=at_least(1)).parse([16, 0], "model.widths")
    assert info.value.field == "model.widths[1]"


def test_parse_options_fills_defaults_and_rejects_unknown_keys():
    specs = {"a": Param(int, 3), "b": Param(str, "x", choices=("x", "y"))}
    assert parse_options(specs, {"b": "y"}, "s") == {"a": 3, "b": "y"}
    with pytest.raises(FieldError, match=r"unknown key \(known: a, b\)") as info:
        parse_options(specs, {"c": 1}, "s")
    assert info.value.field == "s.c"


def test_required_option_missing():
    with pytest.raises(FieldError, match="is required"):
        parse_options({"a": Param(int)}, {}, "s")
