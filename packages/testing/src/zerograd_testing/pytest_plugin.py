"""zerograd's pytest plugin, loaded by pytest itself through the `pytest11`
entry point once zerograd-testing is installed.

Fixtures: `zerograd_rng` (a numpy Generator seeded by --zerograd-seed),
`zerograd_plugin` (register plugins for one test, unregistered after it),
`gradcheck`. The report header lists the zerograd plugins loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import zerograd
from zerograd_testing._gradcheck import gradcheck as _gradcheck


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("zerograd").addoption(
        "--zerograd-seed",
        type=int,
        default=0,
        help="seed of the random points zerograd's conformance tests draw (default 0)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    loaded = [f"{p.name} ({p.source})" for p in zerograd.plugins() if p.error is None]
    failed = [p.name for p in zerograd.plugins() if p.error is not None]
    header = f"zerograd plugins: {', '.join(loaded) or 'none'}"
    if failed:
        header += f"; failed to load: {', '.join(failed)}"
    return header


@pytest.fixture
def zerograd_rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A numpy random Generator seeded by --zerograd-seed: reproducible points."""
    return np.random.default_rng(request.config.getoption("zerograd_seed"))


@pytest.fixture
def zerograd_plugin() -> Iterator[Callable[..., str]]:
    """`zerograd_plugin(plugin, name=None)` registers a plugin for this test only."""
    registered: list[Any] = []

    def register(plugin: Any, name: str | None = None) -> str:
        plugin_name = zerograd.register_plugin(plugin, name)
        registered.append(plugin)
        return plugin_name

    yield register
    for plugin in reversed(registered):
        zerograd.unregister_plugin(plugin)


@pytest.fixture
def gradcheck() -> Callable[..., bool]:
    """zerograd_testing.gradcheck, as a fixture."""
    return _gradcheck
