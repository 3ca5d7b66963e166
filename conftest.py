"""Test-wide markers: which zerograd distributions a test needs, or needs absent.

tox installs one combination of packages per environment; a test that needs a
pack that is not installed there is skipped for that reason, and a test of what
a user meets without a pack runs only where the pack is absent.
"""

import importlib.metadata
import textwrap

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
    config.addinivalue_line(
        "markers", "gpu: needs a GPU (CuPy's); skipped, saying why, where none is"
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


@pytest.fixture
def write_distribution(tmp_path):
    """Write an "installed" distribution zg-fake 1.0 into tmp_path: its metadata,
    the zerograd entry points {name: module} and the modules {name: source}.
    Put tmp_path on sys.path (or PYTHONPATH) and importlib.metadata finds it."""

    def write(entry_points, modules):
        dist_info = tmp_path / "zg_fake-1.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: zg-fake\nVersion: 1.0\n"
        )
        lines = "".join(f"{name} = {module}\n" for name, module in entry_points.items())
        (dist_info / "entry_points.txt").write_text(f"[zerograd]\n{lines}")
        for module, source in modules.items():
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        return tmp_path

    return write
