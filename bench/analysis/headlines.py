"""Headline kinds: the comparisons a suite can name as the answer to its question, one entry each.

An entry carries everything the rest of normbench needs: the comparison it computes per setting
(:mod:`bench.analysis.comparisons`), the record field it reads (its direction comes from the field
table), the verdict options it needs set, its table header and the sentences that sum it up. The
suite loader validates ``verdicts.headline`` against this registry, the verdicts run every entry,
the report's findings lead with the suite's kind, and seed planning (``--settle``) spends seeds on
the suite's open headline comparisons, whatever their kind. A new kind is one
:func:`register_headline` call.

``VERDICT_OPTIONS`` is the schema of a suite's ``verdicts`` section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from bench.analysis import comparisons, sentences, time_to_accuracy
from bench.core.params import Param, in_unit_interval, positive
from bench.results.fields import FIELDS, accuracy_fields


@dataclass(frozen=True)
class HeadlineKind:
    """One kind of headline comparison."""

    name: str
    summary: str  # what it compares, in the findings' opening sentence
    header: tuple[str, str]  # table columns: the candidate (value), the effect [95% interval]
    compare: Callable[..., list]  # (kind, setting, group, options, rounds) -> [Verdict]
    describe: Callable[[list, dict], list[str]]  # (verdicts of this kind, options) -> sentences
    field: Callable[[dict], str]  # the record field it compares, from the verdict options
    requires: tuple[str, ...] = ()  # verdict options that must be non-empty for it to compare anything
    within_candidate: bool = False  # two fields of one candidate: the runner-up names a field, not a candidate

    def direction(self, options: dict) -> str:
        """``higher`` or ``lower``: which way is better, from the field table."""
        return FIELDS[self.field(options)].better or "higher"


HEADLINES: dict[str, HeadlineKind] = {}


def register_headline(kind: HeadlineKind) -> HeadlineKind:
    HEADLINES[kind.name] = kind
    return kind


def unregister_headline(name: str) -> None:
    """Remove a kind added with :func:`register_headline` (tests register throwaway ones)."""
    HEADLINES.pop(name, None)


def _accuracy_field(options: dict) -> str:
    return options["accuracy_field"]


register_headline(HeadlineKind(
    "accuracy", "best accuracy against the runner-up, per setting", ("best accuracy", "lead [95% interval]"),
    comparisons.best_against_runner_up, sentences.best_sentences, _accuracy_field))
register_headline(HeadlineKind(
    "baseline", "each candidate's accuracy against the baseline, per setting",
    ("candidate (accuracy)", "difference [95% interval]"), comparisons.against_baseline,
    sentences.paired_sentences, _accuracy_field, requires=("baseline",)))
register_headline(HeadlineKind(
    "versus_field", "two accuracies of the same models, per candidate and setting",
    ("candidate: accuracy", "difference [95% interval]"), comparisons.against_field,
    sentences.paired_sentences, _accuracy_field, requires=("versus_field",), within_candidate=True))
register_headline(HeadlineKind(
    "baseline_speed", "each candidate's training speed against the baseline's, per setting",
    ("candidate (samples/s)", "speed ratio [95% interval]"), comparisons.speed_against_baseline,
    sentences.relative_speed_sentences, lambda options: "train_samples_per_sec", requires=("baseline",)))
register_headline(HeadlineKind(
    "throughput", "fastest training against the runner-up, per setting",
    ("fastest (samples/s)", "speed-up [95% interval]"), comparisons.fastest_against_runner_up, sentences.speed_sentences, lambda options: "train_samples_per_sec"))
register_headline(HeadlineKind(
    "time_to_accuracy", "time to the suite's quality_target, each candidate against the baseline (else the "
    "fastest against the runner-up), per setting", ("candidate: seeds reached, median time", "time ratio [95% interval]"),
    time_to_accuracy.against_reference, time_to_accuracy.sentences, lambda options: time_to_accuracy.FIELD))


def _registered(value: str) -> str | None:
    return None if value in HEADLINES else f"must be one of {', '.join(map(repr, HEADLINES))}"


def _accuracy_field_choice(value: str) -> str | None:
    return None if value in accuracy_fields() else f"must be one of {', '.join(map(repr, accuracy_fields()))}"


def _optional_accuracy_field(value: str) -> str | None:
    return None if value == "" else _accuracy_field_choice(value)


# What the report's verdicts compare, and how close two candidates must be to count as a decided tie.
VERDICT_OPTIONS: Mapping[str, Param] = {
    "candidates": Param(str, "normalizer", help="what competes at each setting: the normalizers, or the "
                                                "values of one grid axis (e.g. fine_tune_bn)"),
    "baseline": Param(str, "", help="a candidate every other one is also compared with at each setting "
                                    "(e.g. batch, to ask whether renorm beats it); empty: none"),
    "accuracy_field": Param(str, "test_accuracy", _accuracy_field_choice,
                            help="the record's accuracy the verdicts compare (e.g. test_accuracy_precise_bn)"),
    "versus_field": Param(str, "", _optional_accuracy_field,
                          help="a second accuracy of the same cases that accuracy_field is compared with, per "
                               "candidate (e.g. test_accuracy: what PreciseBN adds to the moving averages); "
                               "empty: none"),
    "headline": Param(str, "accuracy", _registered,
                      help="which verdicts answer the suite's question and lead its findings: a headline kind "
                           "(bench/analysis/headlines.py): accuracy (best against runner-up), baseline (each "
                           "candidate against the baseline), versus_field (accuracy_field against versus_field), "
                           "baseline_speed (each candidate's training speed against the baseline's), "
                           "throughput (fastest against runner-up) or time_to_accuracy (time to the "
                           "training.quality_target, censored where not reached)"),
    "accuracy": Param(float, 0.01, in_unit_interval,
                      help="accuracy difference (a fraction: 0.01 = 1 point) within which two settings tie"),
    "throughput": Param(float, 0.05, in_unit_interval,
                        help="relative throughput difference within which two settings tie"),
    "looks": Param(int, 1, positive,
                   help="how many times a comparison may be judged as seeds are added (normbench run --budget "
                        "sets it from the seed cap): every interval is widened over the looks (Bonferroni), "
                        "so stopping at the first decided look keeps the error rates; 1: a fixed-seed run"),
    "max_seeds": Param(int, 48, positive,
                       help="the seed cap of a budgeted run (normbench run --max-seeds sets it): an open "
                            "comparison that needs more is reported as smaller than the cap can show"),
}
DEFAULTS = {name: param.default for name, param in VERDICT_OPTIONS.items()}


def missing_requirement(options: dict) -> str | None:
    """The verdict option the suite's headline kind needs but the suite left empty, or None."""
    kind = HEADLINES[options.get("headline", DEFAULTS["headline"])]
    for name in kind.requires:
        if not options.get(name):
            return f"is {kind.name}, but verdicts.{name} is not set"
    return None
