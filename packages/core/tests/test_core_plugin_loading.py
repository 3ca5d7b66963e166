"""How installed plugins load, each in a fresh interpreter: the first use from
many threads at once, `import *`, plugins that end the program at import, and
ZEROGRAD_PLUGINS as people write it."""

import os
import subprocess
import sys
import textwrap

import pytest
from fake_plugins import HALF

# Three fake installed plugins, loaded in the order of their names.
SLOW = """
    import time

    import zerograd

    time.sleep(0.2)  # a slow import: other threads' first uses come meanwhile


    class Twice(zerograd.Function):
        def forward(self, x):
            return 2 * x

        def backward(self, gy):
            return 2 * gy


    @zerograd.hookimpl
    def zerograd_register_ops(registry):
        registry.add("zg_twice", Twice, operators=("__pos__",), methods=("zg_twice",))
    """
REENTRANT = """
    import zerograd

    # A plugin's import may itself touch zerograd.ops while the plugins load.
    assert hasattr(zerograd.ops, "zg_twice")  # loaded before this one
    assert not hasattr(zerograd.ops, "zg_not_an_op")


    class Thrice(zerograd.Function):
        def forward(self, x):
            return 3 * x

        def backward(self, gy):
            return 3 * gy


    @zerograd.hookimpl
    def zerograd_register_ops(registry):
        registry.add("zg_thrice", Thrice)
    """
FAKES = {"zg-a": "zg_fake_slow", "zg-b": "zg_fake_reentrant", "zg-c": "zg_fake_good"}
SOURCES = {"zg_fake_slow": SLOW, "zg_fake_reentrant": REENTRANT, "zg_fake_good": HALF}


def run_python(code, folder=None, **env):
    """Run `code` in a fresh interpreter that finds the fake plugins in folder."""
    environment = {**os.environ, **env}
    if folder is not None:
        path = os.pathsep.join(
            p for p in (str(folder), os.environ.get("PYTHONPATH")) if p
        )
        environment["PYTHONPATH"] = path
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


THREADS = """
    import threading

    import numpy as np

    import zerograd

    barrier = threading.Barrier(12)
    errors = []
    uses = [
        lambda x: (+x).data,
        lambda x: zerograd.ops.zg_thrice(x).data,
        lambda x: x.zg_twice().data,
        lambda x: zerograd.ops.zg_half(x).data,
    ]


    def first_use(i):
        x = zerograd.Variable(np.array(2.0))
        barrier.wait()
        try:
            # each thread starts with another kind of use, then tries them all
            results = [uses[(i + k) % 4](x) for k in range(4)]
            assert sorted(results) == [1.0, 4.0, 4.0, 6.0], results
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")


    threads = [threading.Thread(target=first_use, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("errors:", errors)
    """


@pytest.mark.parametrize("attempt", range(3))
def test_first_use_from_many_threads_sees_every_op(write_distribution, attempt):
    folder = write_distribution(FAKES, SOURCES)
    result = run_python(THREADS, folder, ZEROGRAD_PLUGINS="zg-a,zg-b,zg-c")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "errors: []"


@pytest.mark.requires("zerograd-arith", "zerograd-elementwise")
def test_first_use_of_the_op_packs_from_many_threads():
    code = """
        import threading

        import numpy as np

        import zerograd

        barrier = threading.Barrier(12)
        errors = []


        def first_use():
            barrier.wait()
            try:
                y = zerograd.ops.exp(zerograd.Variable(np.array(0.0)) * 2)
                assert y.data == 1.0
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")


        threads = [threading.Thread(target=first_use) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print("errors:", errors)
        """
    for _ in range(3):
        result = run_python(code)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "errors: []"


def test_import_star_gives_every_registered_op_and_nothing_else(write_distribution):
    folder = write_distribution(FAKES, SOURCES)
    code = """
        from zerograd.ops import *

        print(sorted(name for name in dir() if not name.startswith("__")))
        """
    result = run_python(code, folder, ZEROGRAD_PLUGINS="zg-a,zg-b,zg-c")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['zg_half', 'zg_thrice', 'zg_twice']"


def test_plugin_ending_the_program_at_import_is_a_warning(write_distribution):
    exits = "raise SystemExit(3)\n"
    base = "class Stop(BaseException):\n    pass\n\n\nraise Stop('no thanks')\n"
    folder = write_distribution(
        {"zg-a-exit": "zg_fake_exit", "zg-b-base": "zg_fake_base", "zg-c": "zg_good"},
        {"zg_fake_exit": exits, "zg_fake_base": base, "zg_good": HALF},
    )
    code = """
        import numpy as np

        import zerograd

        print("half:", zerograd.ops.zg_half(zerograd.Variable(np.array(3.0))).data)
        for plugin in zerograd.plugins():
            print(plugin.name, plugin.error)
        """
    plugins = "zg-a-exit,zg-b-base,zg-c"
    result = run_python(code, folder, ZEROGRAD_PLUGINS=plugins)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "half: 1.5"
    assert lines[1] == "zg-c None"
    assert lines[2].startswith("zg-a-exit zerograd plugin 'zg-a-exit'")
    assert lines[2].endswith("failed to import: SystemExit: 3")
    assert lines[3].endswith("failed to import: Stop: no thanks")
    assert result.stderr.count("PluginWarning") == 2


def test_a_hook_declared_by_a_later_plugin_waits_and_an_unknown_one_fails(
    write_distribution,
):
    # zg-a implements a hook that zg-b (loaded after it: names are sorted)
    # declares through plugin_hooks, as zerograd-nn declares its optimizers';
    # zg-c misspells zerograd_register_ops, which nothing declares.
    implements = """
        import zerograd

        @zerograd.hookimpl
        def zerograd_register_things(things):
            things.append("a's thing")
        """
    declares = """
        import zerograd
        from zerograd.extend import hookspec, plugin_hooks

        class Specs:
            @hookspec
            def zerograd_register_things(self, things):
                pass

        plugin_hooks(Specs)
        """
    misspells = """
        import zerograd

        @zerograd.hookimpl
        def zerograd_register_op(registry):
            pass
        """
    folder = write_distribution(
        {"zg-a": "zg_a", "zg-b": "zg_b", "zg-c": "zg_c"},
        {"zg_a": implements, "zg_b": declares, "zg_c": misspells},
    )
    code = """
        import zerograd
        import zg_b

        things = []
        zerograd.extend.plugin_hooks(zg_b.Specs).zerograd_register_things(things=things)
        print(things)
        for plugin in zerograd.plugins():
            print(plugin.name, plugin.error)
        """
    result = run_python(code, folder, ZEROGRAD_PLUGINS="zg-a,zg-b,zg-c")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == ['["a\'s thing"]', "zg-a None", "zg-b None"]
    assert lines[3] == (
        "zg-c zerograd plugin 'zg-c' implements the hook(s) zerograd_register_op,"
        " which no loaded plugin declares (misspelled, or the package declaring"
        " them was not loaded with it), so it was not loaded"
    )
    assert result.stderr.count("PluginWarning") == 1


def test_plugin_interrupted_at_import_loads_at_the_next_use(write_distribution):
    # Ctrl-C during the first op's loading stops it; the next use loads the rest.
    interrupted = """
        import os

        if not os.path.exists("interrupted"):
            open("interrupted", "w").close()
            raise KeyboardInterrupt
        """
    folder = write_distribution(
        {"zg-a-interrupted": "zg_fake_interrupted", "zg-c": "zg_good"},
        {"zg_fake_interrupted": interrupted, "zg_good": HALF},
    )
    code = f"""
        import os

        import numpy as np

        import zerograd

        os.chdir({str(folder)!r})
        x = zerograd.Variable(np.array(3.0))
        try:
            zerograd.ops.zg_half(x)
        except KeyboardInterrupt:
            print("interrupted")
        print("half:", zerograd.ops.zg_half(x).data)
        print([plugin.name for plugin in zerograd.plugins()])
        """
    result = run_python(code, folder, ZEROGRAD_PLUGINS="zg-a-interrupted,zg-c")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "interrupted",
        "half: 1.5",
        "['zg-a-interrupted', 'zg-c']",
    ]


PRINT_PLUGIN_NAMES = """
    import zerograd

    print([plugin.name for plugin in zerograd.plugins()])
    """


def test_plugin_names_in_the_environment_may_have_spaces(write_distribution):
    folder = write_distribution(FAKES, SOURCES)
    result = run_python(
        PRINT_PLUGIN_NAMES,
        folder,
        ZEROGRAD_PLUGINS=" zg-a, zg-c ,,",
        PYTHONWARNINGS="always",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['zg-a', 'zg-c']"
    assert "PluginWarning" not in result.stderr


def test_unknown_plugin_name_in_the_environment_names_the_installed(
    write_distribution,
):
    folder = write_distribution(FAKES, SOURCES)
    result = run_python(
        PRINT_PLUGIN_NAMES,
        folder,
        ZEROGRAD_PLUGINS="zg-a, zg-nope",
        PYTHONWARNINGS="always",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['zg-a']"
    assert "PluginWarning: ZEROGRAD_PLUGINS:" in result.stderr
    assert "entry point name(s) zg-nope;" in result.stderr
    assert "installed are: " in result.stderr
    assert "zg-a, zg-b, zg-c" in result.stderr
