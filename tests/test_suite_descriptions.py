"""Suite descriptions say what a suite asks and what the literature claims, never this project's results.

A description is shipped with every run and shown in the report, so a figure from one run ("at batch
2 BN scored 0.728") goes stale as soon as the next run disagrees. The report (and docs/findings.md,
rendered from a committed run) carries this project's numbers; a description may carry:

- configuration (learning rate 0.1, momentum 0.99, 12 epochs) and what follows from it arithmetically
  (0.99^42 = 0.66, 4,038 steps at batch 2);
- a paper's figures, in a sentence or clause that cites it ("Wu & He, 2018", "He et al. 2016",
  "Ioffe (2017)").

It may not carry run dates, wording that announces a result of this project ("found in the default
run", "measured on the 2-core VM", "observed"), or a measured-looking figure (a decimal, a signed
difference, a ratio like 1.8x, a percentage, a time or a rate) outside a cited sentence or clause
unless the figure is one of the suite's own configuration values.

Only yaml, re and pathlib are imported: the bench package is free to move.
"""
import re
from pathlib import Path

import yaml

SUITES = Path(__file__).resolve().parents[1] / "suites"

ISO_DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")

RESULT_PHRASES = re.compile(
    r"\b(?:found in|we found|default run|measured on|observed|(?:on (?:the|a|an) )?2-core VM|"
    r"on (?:the|an) H200|this run|probed on)\b",
    re.IGNORECASE,
)

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_NAME = r"[A-Z][A-Za-z'\u2019-]+"
# "Wu & He, 2018", "Ioffe, 2017", "Ioffe (2017)", "He et al. 2016", "Xiong et al. (2020)",
# "Williams, Waterman & Patterson, 2009". Not a date: the year may not run on into "-11-27".
CITATION = re.compile(
    rf"\b(?!(?:{_MONTHS}|Since|In|On|At|Of|Until)\b){_NAME}"
    rf"(?:\s+et\s+al\.?|\s+(?:&|and)\s+{_NAME})?\s*,?\s*\(?(?:19|20)\d\d[a-z]?\)?(?![\d-])"
)

# Version numbers are not figures: "TensorFlow 2.13-2.15", "Keras 3.1".
VERSION = re.compile(
    r"\b(?:TensorFlow|Keras|JAX|PyTorch|torch|Python|tensorflow-addons|CUDA|version)\s+v?\d+(?:\.\d+)+"
    r"(?:\s*(?:-|\u2013|to)\s*\d+(?:\.\d+)+)?",
    re.IGNORECASE,
)

# The result of a calculation shown in full is derived, not measured: "0.99^42 = 0.66".
CALCULATION = re.compile(
    r"\d+(?:\.\d+)?\s*(?:\^|\*\*|\*|\u00d7|/)\s*\d+(?:\.\d+)?\s*(?:=|\u2248)\s*~?\s*(?P<result>\d+(?:\.\d+)?)"
)

FIGURE = re.compile(
    r"(?<![\w.^/])"
    r"(?P<sign>[+\u2212\u00b1]|-(?=\d))?"
    r"(?P<number>\d+(?:,\d{3})*(?:\.\d+)?)"
    r"(?P<range>\s*(?:-|\u2013|to)\s*\d+(?:,\d{3})*(?:\.\d+)?)?"
    r"(?P<unit>\s?%|x\b|\u00d7|\s?samples/s\b|\s?[GMT]B/s\b|\s?ms\b|\s?s\b|\s?min\b)?"
)

SENTENCE_END = re.compile(r"(?<![Aa]l\.)(?<!e\.g\.)(?<!i\.e\.)(?<!vs\.)(?<=[.!?;])\s+(?=[A-Z(\"'])")


def config_numbers(suite: dict) -> set[float]:
    """Every number in a suite's configuration (all keys but name and description)."""
    found: set[float] = set()

    def walk(value):
        if isinstance(value, bool):
            return
        if isinstance(value, (int, float)):
            found.add(float(value))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk({k: v for k, v in suite.items() if k not in ("name", "description")})
    return found


def _mask(text: str, spans) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "#" * (end - start)
    return "".join(chars)


def _is_measured_looking(match: re.Match, allowed: set[float]) -> bool:
    number, unit, rng = match["number"], (match["unit"] or "").strip(), match["range"]
    if unit == "x" or unit == "\u00d7":
        # "1.8x" and "11-17x" are ratios; "a 4x MLP" is a design.
        return "." in number or bool(rng)
    if unit:
        return True  # percentages, rates, times
    if "." not in number and not match["sign"]:
        return False  # integers: counts, sizes, shapes, steps
    if match["sign"]:
        return True
    values = [number] + ([re.sub(r"^\s*(?:-|\u2013|to)\s*", "", rng)] if rng else [])
    return any(float(v.replace(",", "")) not in allowed for v in values)


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(" ".join(text.split())) if s]


def problems(description: str, allowed=()) -> list[str]:
    """What in ``description`` reads as this project's measured results; ``allowed``: config numbers."""
    allowed = {float(a) for a in allowed}
    text = " ".join(description.split())
    found = [f"run date {m.group()!r}" for m in ISO_DATE.finditer(text)]
    found += [f"result wording {m.group()!r}" for m in RESULT_PHRASES.finditer(text)]
    for sentence in sentences(text):
        if CITATION.search(sentence):
            continue
        masked = _mask(sentence, [m.span() for m in VERSION.finditer(sentence)])
        masked = _mask(masked, [m.span("result") for m in CALCULATION.finditer(masked)])
        for m in FIGURE.finditer(masked):
            if _is_measured_looking(m, allowed):
                found.append(f"uncited figure {m.group().strip()!r} in {sentence!r}")
    return found


def shipped_suites():
    return sorted(SUITES.rglob("*.yaml"))


def test_there_are_suites_with_descriptions():
    paths = shipped_suites()
    assert len(paths) >= 10, SUITES
    for path in paths:
        suite = yaml.safe_load(path.read_text())
        assert isinstance(suite.get("description"), str) and suite["description"].strip(), path


def test_descriptions_carry_no_measured_results_or_run_dates():
    failures = []
    for path in shipped_suites():
        suite = yaml.safe_load(path.read_text())
        for problem in problems(suite.get("description") or "", config_numbers(suite)):
            failures.append(f"{path.relative_to(SUITES.parent)}: {problem}")
    assert not failures, "descriptions carry this project's results (the report has them):\n" + "\n".join(failures)


# Copied from descriptions that carried one run's results.
BAD = [
    "Found in the default run on the 2-core VM (2026-11-27, 5 seeds): at batch 2 BN scored 0.728",
    "at batch 2 BN scored 0.728 and every alternative was clearly better (frozen 0.960, LN 0.940)",
    "renorm was also clearly, slightly, better at batch 8 and 32 (+0.014, +0.008)",
    "JAX trained fastest, 1.6-2.1x TensorFlow, eager PyTorch slowest.",
    "On an H200 (JAX and PyTorch only) the accuracies agreed likewise and JAX trained 11-17x faster.",
    "a lean version at Adam 0.01, 4 epochs, 3 seeds took 106-151 s of case time there",
    "faster to train (median 56,595 vs 49,339 samples/s float32, 57,398 vs 33,340 bfloat16).",
    "RMSNorm took 46-100% of LayerNorm's time (median 72%) over the 16 settings",
    "jax.jit reached 1.4-1.7 TB/s for BN and RMSNorm forward+backward (65% and 87% of JAX's copy rate)",
    "BN is clearly best (0.636 vs none 0.602, RMSNorm 0.569, LN 0.553, GN 0.532)",
    "A least-squares fit against the class patterns scores 0.952 on this set with the moves left out.",
    "Measured on 2026-11-27: the moving averages gave 0.591 / 0.147 / 0.134 at momentum 0.9 / 0.99.",
    "The previous step took 13.0 s.",
    "In the default run the suite trained in 13 min.",
    "The paper trains Inception-v3 with 4-example batches. BN at batch 2 scored 0.728 here.",
]

# Configuration, arithmetic on it, and papers' figures with their citations.
GOOD = [
    ("Wu & He, 2018: ResNet-50 ImageNet error at 2 images per GPU, BN 34.7% vs GN 24.1%.", ()),
    ("Ioffe (2017) trains Inception-v3 on ImageNet with 4-example batches: 74.2% top-1 with BN, 76.5% "
     "with renorm.", ()),
    ("RMSNorm matches LayerNorm while reducing running time by 7%-64% (Zhang & Sennrich, 2019).", ()),
    ("ResNet-20 (He et al. 2016, 0.27M parameters) on a CIFAR-shaped synthetic set.", ()),
    ("BN, GN and LN are trained for 6 epochs, learning rate 0.1 at batch 32.", (0.1,)),
    ("After n steps the initial values still weigh momentum^n (0.99^42 = 0.66 after one epoch).", (0.99,)),
    ("12 epochs are 4,032 steps at batch 4 and 120 at batch 128; shapes 32x32x64 and 56x56x256.", ()),
    ("tensorflow-addons imports only with TensorFlow 2.13-2.15, end of life since May 2024.", ()),
    ("Epsilon 1e-8, 1e-4 and 1e-1 is crossed with learning rates 0.5 and 8.", (0.5, 8)),
    ("The report (and docs/findings.md, rendered from a committed run) gives the numbers.", ()),
]


def test_checker_flags_results_copied_from_old_descriptions():
    missed = [snippet for snippet in BAD if not problems(snippet)]
    assert not missed, f"not flagged: {missed}"


def test_checker_passes_configuration_and_cited_figures():
    flagged = {snippet: problems(snippet, allowed) for snippet, allowed in GOOD}
    assert not any(flagged.values()), {s: p for s, p in flagged.items() if p}


def test_a_citation_covers_only_its_own_sentence():
    text = "Wu & He (2018) compare BN and GN on ImageNet. Here BN scored 0.728 at batch 2."
    assert [p for p in problems(text) if "0.728" in p]


def test_configuration_values_are_allowed_only_in_their_own_suite():
    text = "Learning rate 0.05 at batch 32."
    assert problems(text) and not problems(text, {0.05, 32})
