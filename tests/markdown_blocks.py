"""The fenced code blocks of the docs' markdown pages, for the tests that run them."""

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
