"""The fenced code blocks of the docs' markdown pages, for the tests that run them."""

import math
import pathlib
import re

DOCS = pathlib.Path(__file__).parent.parent / "docs"
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
REQUIRES = re.compile(r"<!-- requires:(.*?)-->")


def blocks(page):
    """(language, attributes, text) of each fenced block of the page."""
    for match in FENCE.finditer(page.read_text()):
        attributes = dict(word.split("=", 1) for word in match.group(2).split())
        yield match.group(1), attributes, match.group(3)


# A printed number: 3, -0.5, 1.648721270700128, 2.5e-07, nan, inf.
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|\bnan\b|\binf\b")


def same_printout(actual, expected):
    """Whether `actual` prints what `expected` shows: the same text, with each
    float equal to the precision it carries (relative 1e-10). The last bits of
    exp, sin or tanh depend on the CPU's numpy code (AVX-512 or not), so printed
    values are never compared as strings; numpy's column alignment may shift
    with them, so spaces are not compared."""
    actual_numbers, expected_numbers = NUMBER.findall(actual), NUMBER.findall(expected)
    if len(actual_numbers) != len(expected_numbers):
        return False
    texts = ["".join(part.split()) for part in NUMBER.split(actual)]
    if texts != ["".join(part.split()) for part in NUMBER.split(expected)]:
        return False
    for a, e in zip(actual_numbers, expected_numbers, strict=True):
        if a == e:
            continue
        if not any(c in e for c in ".en") or not any(c in a for c in ".en"):
            return False  # integers are exact
        if not math.isclose(float(a), float(e), rel_tol=1e-10, abs_tol=1e-300):
            return False
    return True
