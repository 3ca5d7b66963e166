"""Test-wide markers: which zerograd distributions a test needs, or needs absent.

tox installs one combination of packages per environment; a test that needs a
pack that is not installed there is skipped for that reason, and a test of what
a user meets without a pack runs only where the pack is absent.
"""

import importlib.metadata

import pytest

# For the tests of zerograd-testing's pytest plugin, run in a pytester session.
pytest_plugins = ["pytester"]


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requires(*distributions): skip unless all are installed"
    )
    config.addinivalue_line(
        "markers", "without(*distributions): skip unless none is installed"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("requires"):
        missing = [d for d in mark.args if not _installed(d)]
        if missing:
            pytest.skip(f"needs {', '.join(missing)}, not installed here")
    for mark in item.iter_markers("without"):
        present = [d for d in mark.args if _installed(d)]
        if present:
            pytest.skip(f"checks life without {', '.join(present)}, installed here")
