"""Suites as validated data: YAML in, typed :class:`Suite` out, expanded into :class:`Case` objects."""

from bench.suite.grid import UNTIMED, Case, expand
from bench.suite.loader import load_suite, load_suites
from bench.suite.spec import NormalizerSpec, Suite

__all__ = ["UNTIMED", "Case", "NormalizerSpec", "Suite", "expand", "load_suite", "load_suites"]
