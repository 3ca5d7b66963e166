"""The plugin system: registering, unregistering, conflicts, broken plugins,
and what a user meets with the core alone."""

import importlib
import sys
import types

import numpy as np
import pytest
from fake_plugins import HALF

import zerograd
from zerograd import Function
from zerograd import OpNotFoundError
from zerograd import PluginError
from zerograd import PluginWarning
from zerograd import Variable
from zerograd import hookimpl


class Triple(Function):
    """3x."""

    def forward(self, x):
        return 3 * x

    def backward(self, gy):
        return 3 * gy


class TriplePlugin:
    @hookimpl
    def zerograd_register_ops(self, registry):
        registry.add("zg_triple", Triple, operators=("__pos__",))


@pytest.fixture
def registered():
    """Register plugins for one test and always unregister them after it."""
    plugins = []

    def register(plugin, name=None):
        zerograd.register_plugin(plugin, name)
        plugins.append(plugin)
        return plugin

    yield register
    for plugin in plugins:
        if zerograd._plugins._host.manager.is_registered(plugin):
            zerograd.unregister_plugin(plugin)


def test_registered_op_appears_and_leaves(registered):
    plugin = registered(TriplePlugin())
    x = Variable(np.array(2.0))
    y = zerograd.ops.zg_triple(x)
    assert y.data == 6.0
    y.backward()
    assert x.grad == 3.0
    from zerograd.ops import zg_triple

    assert zg_triple is zerograd.ops.zg_triple
    assert (+x).data == 6.0  # the claimed operator
    assert "zg_triple" in dir(zerograd.ops)
    zerograd.unregister_plugin(plugin)
    with pytest.raises(AttributeError, match="no op 'zg_triple'"):
        zerograd.ops.zg_triple  # noqa: B018
    with pytest.raises(TypeError, match=r"no operator unary \+ \(__pos__\)"):
        +x  # noqa: B018


def test_registered_op_costs_a_direct_function(registered):
    registered(TriplePlugin())
    op = zerograd.ops.zg_triple
    assert op.__name__ == "zg_triple"
    assert op.__doc__ == "3x."
    assert zerograd.ops.__dict__["zg_triple"] is op  # a plain module attribute


def test_plugin_info_lists_ops_and_operators(registered):
    registered(TriplePlugin(), "triple-plugin")
    info = next(p for p in zerograd.plugins() if p.name == "triple-plugin")
    assert info.ops == ("zg_triple",)
    assert info.operators == ("__pos__",)
    assert info.distribution is None
    assert info.error is None


def test_reflected_operator_swaps_operands(registered):
    def rdiff(x0, x1):
        return Diff()(x0, x1)

    class Diff(Function):
        def forward(self, x0, x1):
            return x0 - 10 * x1

        def backward(self, gy):
            return gy, -10 * gy

    class Plugin:
        @hookimpl
        def zerograd_register_ops(self, registry):
            registry.add("zg_diff", rdiff, operators=("__floordiv__", "__rfloordiv__"))

    registered(Plugin())
    x = Variable(np.array(1.0))
    assert (x // 2.0).data == 1.0 - 20.0
    assert (2.0 // x).data == 2.0 - 10.0
    assert (np.array([2.0, 3.0]) // x).data.tolist() == [-8.0, -7.0]


def test_an_op_with_a_call_of_its_own_is_called_through_it(registered):
    # Operators and zerograd.ops call a plain Function class past its call's
    # checks (and make numbers constants themselves); a class with a __call__
    # of its own gets every call, the operands as written.
    seen = []

    class Logged(Function):
        def __call__(self, *inputs):
            seen.append(tuple(type(x).__name__ for x in inputs))
            return super().__call__(*inputs)

        def forward(self, x0, x1):
            return x0 - 10 * x1

        def backward(self, gy):
            return gy, -10 * gy

    class Plugin:
        @hookimpl
        def zerograd_register_ops(self, registry):
            registry.add("zg_logged", Logged, operators=("__mod__", "__rmod__"))

    registered(Plugin())
    x = Variable(np.array(1.0))
    assert (x % 2.0).data == -19.0
    assert (3 % x).data == -7.0
    assert (x % x).data == -9.0
    assert zerograd.ops.zg_logged(x, x).data == -9.0
    assert seen == [
        ("Variable", "float"),
        ("int", "Variable"),
        ("Variable", "Variable"),
        ("Variable", "Variable"),
    ]


def test_same_op_name_from_two_plugins_is_reached_through_each(registered):
    registered(TriplePlugin(), "first_pack")

    class Other:
        @hookimpl
        def zerograd_register_ops(self, registry):
            registry.add("zg_other", Triple)
            registry.add("zg_triple", Triple)

    registered(Other(), "second_pack")
    with pytest.raises(OpNotFoundError, match=r"'first_pack' and 'second_pack'"):
        zerograd.ops.zg_triple  # noqa: B018
    x = Variable(np.array(2.0))
    assert zerograd.ops.first_pack.zg_triple(x).data == 6.0
    assert zerograd.ops.second_pack.zg_triple(x).data == 6.0
    assert zerograd.ops.zg_other(x).data == 6.0  # its own name: short as ever
    assert "zg_triple" not in dir(zerograd.ops)
    with pytest.raises(AttributeError, match="'Variable' object has no attribute"):
        x.zg_triple  # noqa: B018  (an op, not a method, whoever provides it)


def test_claimed_operator_conflict_names_both(registered):
    registered(TriplePlugin(), "first-pack")

    class Other:
        @hookimpl
        def zerograd_register_ops(self, registry):
            registry.add("zg_plus", Triple, operators=("__pos__",))

    with pytest.raises(PluginError, match=r"'second-pack'.*__pos__.*'first-pack'"):
        zerograd.register_plugin(Other(), "second-pack")


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (42, "as 42, which is neither a zerograd.Function subclass nor a"),
        (dict, "class .dict.>, which is neither a zerograd.Function subclass"),
    ],
)
def test_op_that_is_not_a_function_is_refused(op, message):
    class Bad:
        @hookimpl
        def zerograd_register_ops(self, registry):
            registry.add("zg_bad", op)

    with pytest.raises(PluginError, match=message):
        zerograd.register_plugin(Bad())
    assert not hasattr(zerograd.ops, "zg_bad")


@pytest.mark.parametrize(
    ("name", "operators", "message"),
    [
        ("_private", (), "must be a Python identifier"),
        ("two words", (), "must be a Python identifier"),
        ("zg_ok", ("__init__",), "'__init__'.*not an operator"),
        ("zg_ok", ("__pos__", "__pos__"), "claims Variable.__pos__ twice"),
        ("lambda", (), "not a keyword"),  # zerograd.ops.lambda is a syntax error
        ("None", (), "not a keyword"),
    ],
)
def test_bad_names_and_operators_are_refused(name, operators, message):
    class Bad:
        @hookimpl
        def zerograd_register_ops(self, registry):
            registry.add(name, Triple, operators=operators)

    with pytest.raises(PluginError, match=message):
        zerograd.register_plugin(Bad())
    assert name not in vars(zerograd.ops)


def test_keyword_method_name_is_refused():
    class Bad:
        @hookimpl
        def zerograd_register_ops(self, registry):
            registry.add("zg_ok", Triple, methods=("class",))

    with pytest.raises(PluginError, match=r"'class'.*not a keyword"):
        zerograd.register_plugin(Bad())


def test_soft_keyword_is_a_fine_op_name(registered):
    class Plugin:
        @hookimpl
        def zerograd_register_ops(self, registry):
            registry.add("match", Triple, methods=("match",))

    registered(Plugin())
    x = Variable(np.array(2.0))
    assert zerograd.ops.match(x).data == 6.0
    assert x.match().data == 6.0


def test_hook_that_ends_the_program_is_a_plugin_error():
    class Exits:
        @hookimpl
        def zerograd_register_ops(self, registry):
            raise SystemExit(3)

    with pytest.raises(PluginError, match=r"'exits'.*raised.*SystemExit: 3"):
        zerograd.register_plugin(Exits(), "exits")
    assert zerograd._plugins._host.manager.get_plugin("exits") is None


def _undecorated_module():
    module = types.ModuleType("zg_undecorated")

    def zerograd_register_ops(registry):
        registry.add("zg_never", Triple)

    module.zerograd_register_ops = zerograd_register_ops
    return module


class _Undecorated:
    def zerograd_register_ops(self, registry):
        registry.add("zg_never", Triple)


@pytest.mark.parametrize("plugin", [_undecorated_module(), _Undecorated()])
def test_hook_without_hookimpl_is_a_warning(registered, plugin):
    with pytest.warns(
        PluginWarning, match=r"'undecorated'.*without @zerograd.hookimpl"
    ):
        registered(plugin, "undecorated")
    assert not hasattr(zerograd.ops, "zg_never")


def test_module_namespace_gives_ops_only(registered):
    registered(TriplePlugin())
    own = [name for name in vars(zerograd.ops) if not name.startswith("_")]
    assert set(own) <= set(dir(zerograd.ops))  # no `Any` among the ops
    assert "zg_triple" in zerograd.ops.__all__
    assert zerograd.ops.__all__ == dir(zerograd.ops)


def test_empty_domain_is_refused():
    class Bad:
        @hookimpl
        def zerograd_register_ops(self, registry):
            registry.add("zg_bad", Triple, domain=(1.0, 0.0))

    with pytest.raises(PluginError, match=r"empty domain \(1.0, 0.0\)"):
        zerograd.register_plugin(Bad())


def test_domain_and_example_args_are_kept(registered):
    class Plugin:
        @hookimpl
        def zerograd_register_ops(self, registry):
            registry.add(
                "zg_scaled",
                lambda x, c: Triple()(x),
                domain=(0, None),
                example_args=(2,),
            )

    registered(Plugin())
    info = zerograd.op_info("zg_scaled")
    assert (info.domain, info.example_args) == ((0, None), (2,))


def test_hook_that_raises_is_reported_with_the_plugin_name():
    class Raises:
        @hookimpl
        def zerograd_register_ops(self, registry):
            raise RuntimeError("boom")

    with pytest.raises(PluginError, match=r"'raiser'.*raised.*RuntimeError: boom"):
        zerograd.register_plugin(Raises(), "raiser")
    assert zerograd._plugins._host.manager.get_plugin("raiser") is None


def test_misspelled_hook_is_refused():
    class Typo:
        @hookimpl
        def zerograd_register_op(self, registry):
            pass

    with pytest.raises(PluginError, match="zerograd_register_op"):
        zerograd.register_plugin(Typo(), "typo")
    assert zerograd._plugins._host.manager.get_plugin("typo") is None


def test_registering_twice_is_refused(registered):
    plugin = registered(TriplePlugin())
    with pytest.raises(PluginError, match="already registered"):
        zerograd.register_plugin(plugin)


def test_unregistering_an_unknown_plugin_is_refused():
    with pytest.raises(PluginError, match="not a registered zerograd plugin"):
        zerograd.unregister_plugin(object())


@pytest.fixture
def fake_distribution(write_distribution, monkeypatch):
    """An installed distribution with one broken plugin and good ones: zg-twin
    registers an op of zg-good's name, zg-rival claims zg-claimer's method."""
    twin = """
        import zerograd

        class Quarter(zerograd.Function):
            def forward(self, x):
                return x / 4

            def backward(self, gy):
                return gy / 4

        @zerograd.hookimpl
        def zerograd_register_ops(registry):
            registry.add("zg_half", Quarter)  # zg-good's op name
        """
    claimer = """
        import zerograd

        @zerograd.hookimpl
        def zerograd_register_ops(registry):
            registry.add("zg_claimer", lambda x: x, methods=("zg_method",))
        """
    rival = """
        import zerograd

        @zerograd.hookimpl
        def zerograd_register_ops(registry):
            registry.add("zg_rival", lambda x: x, methods=("zg_method",))
            registry.add("zg_rival_only", lambda x: x)
        """
    folder = write_distribution(
        {
            "zg-broken": "zg_fake_missing_module",
            "zg-good": "zg_fake_good",
            "zg-twin": "zg_fake_twin",
            "zg-claimer": "zg_fake_claimer",
            "zg-rival": "zg_fake_rival",
        },
        {
            "zg_fake_good": HALF,
            "zg_fake_twin": twin,
            "zg_fake_claimer": claimer,
            "zg_fake_rival": rival,
        },
    )
    monkeypatch.syspath_prepend(str(folder))
    importlib.invalidate_caches()
    host = zerograd._plugins._host
    yield
    for name in ("zg-good", "zg-twin", "zg-claimer", "zg-rival"):
        plugin = host.manager.get_plugin(name)
        if plugin is not None:
            zerograd.unregister_plugin(plugin)
        host.failures.pop(name, None)
    host.failures.pop("zg-broken", None)
    for module in ("zg_fake_good", "zg_fake_twin", "zg_fake_claimer", "zg_fake_rival"):
        sys.modules.pop(module, None)


@pytest.mark.usefixtures("fake_distribution")
def test_plugin_that_fails_to_import_is_named_and_others_still_load():
    with pytest.warns(PluginWarning) as warned:
        zerograd.load_plugins("zg-broken", "zg-good")
    message = str(warned[0].message)
    assert "'zg-broken'" in message
    assert "zg_fake_missing_module" in message
    assert "zg-fake 1.0" in message
    assert "ModuleNotFoundError" in message
    assert zerograd.ops.zg_half(Variable(np.array(3.0))).data == 1.5
    infos = {info.name: info for info in zerograd.plugins()}
    assert infos["zg-good"].distribution == "zg-fake"
    assert infos["zg-good"].version == "1.0"
    assert "ModuleNotFoundError" in infos["zg-broken"].error


@pytest.mark.usefixtures("fake_distribution")
def test_installed_plugin_that_clashes_is_refused_whole_and_others_work():
    with pytest.warns(PluginWarning) as warned:
        zerograd.load_plugins("zg-claimer", "zg-rival")
    message = str(warned[0].message)
    assert "'zg-rival'" in message and "'zg-claimer'" in message
    assert "zg_method" in message
    assert zerograd.ops.zg_claimer(2.0) == 2.0
    assert not hasattr(zerograd.ops, "zg_rival_only")  # nothing of zg-rival
    infos = {info.name: info for info in zerograd.plugins()}
    assert "already provides" in infos["zg-rival"].error


@pytest.mark.usefixtures("fake_distribution")
def test_an_op_name_two_installed_plugins_register_is_chosen_by_plugin():
    # Load order must not decide: neither is zerograd.ops.zg_half, both are
    # reached through their plugin, and the short name says so.
    zerograd.load_plugins("zg-good", "zg-twin")
    x = Variable(np.array(3.0))
    with pytest.raises(OpNotFoundError) as error:
        zerograd.ops.zg_half  # noqa: B018
    assert str(error.value) == (
        "zerograd.ops has no op 'zg_half': plugins 'zg-good' and 'zg-twin' both"
        " register an op 'zg_half', and neither is preferred; choose one:"
        " zerograd.ops.zg-good.zg_half or zerograd.ops.zg-twin.zg_half"
        " (zg-good.zg_half(x) in the zerograd command's expressions)"
    )
    assert getattr(zerograd.ops, "zg-good").zg_half(x).data == 1.5
    assert getattr(zerograd.ops, "zg-twin").zg_half(x).data == 0.75
    assert zerograd.op_info("zg-twin.zg_half").plugin == "zg-twin"
    with pytest.raises(KeyError, match="neither is preferred"):
        zerograd.op_info("zg_half")
    infos = {info.name: info for info in zerograd.plugins()}
    assert infos["zg-good"].ops == infos["zg-twin"].ops == ("zg_half",)
    zerograd.unregister_plugin(zerograd._plugins._host.manager.get_plugin("zg-twin"))
    assert zerograd.ops.zg_half(x).data == 1.5  # one provider again: zg-good's


def test_loading_an_unknown_entry_point_name_is_refused():
    with pytest.raises(PluginError, match=r"no installed zerograd plugin.*zg-nothing"):
        zerograd.load_plugins("zg-nothing")


# --- the core alone ---


@pytest.mark.without("zerograd-arith")
def test_core_alone_operator_names_the_arith_pack():
    x = Variable(np.array(1.0))
    with pytest.raises(OpNotFoundError, match=r"\+ .*pip install zerograd-arith"):
        x + x
    with pytest.raises(TypeError, match="zerograd-arith"):
        2.0 * x
    with pytest.raises(TypeError, match="zerograd-arith"):
        np.array([1.0, 2.0]) - x
    with pytest.raises(AttributeError, match="zerograd-arith"):
        zerograd.ops.add  # noqa: B018


@pytest.mark.without("zerograd-elementwise")
def test_core_alone_op_names_the_elementwise_pack():
    with pytest.raises(AttributeError, match=r"'exp'.*zerograd-elementwise"):
        zerograd.ops.exp  # noqa: B018
    with pytest.raises(ImportError):  # Python words this one itself
        from zerograd.ops import exp  # noqa: F401


def test_unknown_op_says_how_to_provide_one():
    with pytest.raises(AttributeError, match=r"'zg_nope'.*register_plugin"):
        zerograd.ops.zg_nope  # noqa: B018


def test_misspelled_op_suggests_the_nearest(registered):
    registered(TriplePlugin())
    with pytest.raises(
        AttributeError, match=r"'zg_tripel' \(did you mean zg_triple\?\)"
    ):
        zerograd.ops.zg_tripel  # noqa: B018
    with pytest.raises(KeyError, match=r"did you mean zg_triple\?"):
        zerograd.op_info("zg_tripel")
    with pytest.raises(AttributeError) as raised:
        zerograd.ops.zg_quite_different  # noqa: B018
    assert "did you mean" not in str(raised.value)


@pytest.mark.requires("zerograd-elementwise")
def test_misspelled_pack_op_suggests_the_nearest():
    with pytest.raises(AttributeError, match=r"'sinn' \(did you mean sin\?\)"):
        zerograd.ops.sinn  # noqa: B018


def test_op_used_as_a_method_says_it_is_an_op(registered):
    registered(TriplePlugin())
    with pytest.raises(AttributeError) as raised:
        Variable(np.array(1.0)).zg_triple  # noqa: B018
    assert str(raised.value) == (
        "'Variable' object has no attribute 'zg_triple': zg_triple is an op, not a"
        " Variable method: call zerograd.ops.zg_triple(x)"
    )


@pytest.mark.requires("zerograd-elementwise")
def test_pack_op_used_as_a_method_says_it_is_an_op():
    with pytest.raises(AttributeError) as raised:
        Variable(np.array(1.0)).exp  # noqa: B018
    message = str(raised.value)
    assert "exp is an op, not a Variable method: call zerograd.ops.exp(x)" in message
    assert "registered" not in message


@pytest.mark.requires("zerograd-tensor")
def test_property_looked_up_as_an_op_names_its_op():
    with pytest.raises(AttributeError, match=r"'T': it is not an op but Variable.T"):
        zerograd.ops.T  # noqa: B018


@pytest.mark.requires("zerograd-elementwise")
def test_unregistered_pack_is_named_as_unregistered():
    plugin = zerograd._plugins._host.manager.get_plugin("elementwise")
    zerograd.unregister_plugin(plugin)
    try:
        with pytest.raises(OpNotFoundError) as raised:
            zerograd.ops.exp  # noqa: B018
        assert str(raised.value) == (
            "zerograd.ops has no op 'exp': no loaded plugin provides it; the"
            " installed plugin(s) elementwise are not loaded (unregistered, or"
            " installed after zerograd loaded its plugins); zerograd.load_plugins()"
            " loads them"
        )
    finally:
        zerograd.load_plugins("elementwise")
    assert zerograd.ops.exp(Variable(np.array(0.0))).data == 1.0


@pytest.mark.without("zerograd-tensor")
def test_core_alone_method_is_missing_and_operator_names_the_packs():
    x = Variable(np.ones((2, 3)))
    with pytest.raises(AttributeError, match=r"no attribute 'reshape'$"):
        x.reshape(3, 2)
    with pytest.raises(AttributeError, match="no attribute 'T'"):
        x.T  # noqa: B018
    with pytest.raises(OpNotFoundError, match=r"\[\] \(__getitem__\).*zerograd-tensor"):
        x[0]


def test_plugin_methods_and_properties_come_and_go(registered):
    class Plugin:
        @hookimpl
        def zerograd_register_ops(self, registry):
            registry.add(
                "zg_triple", Triple, methods=("zg_triple",), properties=("zg_tripled",)
            )

    plugin = registered(Plugin())
    x = Variable(np.array(2.0))
    assert x.zg_triple().data == 6.0
    assert x.zg_tripled.data == 6.0
    info = next(
        p for p in zerograd.plugins() if p.methods == ("zg_triple", "zg_tripled")
    )
    assert info.ops == ("zg_triple",)
    zerograd.unregister_plugin(plugin)
    with pytest.raises(AttributeError, match="no attribute 'zg_triple'"):
        x.zg_triple  # noqa: B018


def test_installed_plugin_with_an_undecorated_hook_is_a_warning(
    write_distribution, monkeypatch
):
    source = (
        "def zerograd_register_ops(registry):\n"
        "    registry.add('zg_never', lambda x: x)\n"
    )
    folder = write_distribution({"zg-undecorated": "zg_fake_undecorated"},
                                {"zg_fake_undecorated": source})  # fmt: skip
    monkeypatch.syspath_prepend(str(folder))
    importlib.invalidate_caches()
    try:
        with pytest.warns(PluginWarning, match=r"'zg-undecorated'.*without @zerograd"):
            zerograd.load_plugins("zg-undecorated")
        assert not hasattr(zerograd.ops, "zg_never")
    finally:
        plugin = zerograd._plugins._host.manager.get_plugin("zg-undecorated")
        if plugin is not None:
            zerograd.unregister_plugin(plugin)
        sys.modules.pop("zg_fake_undecorated", None)


def test_variable_has_no_attribute_hook_once_the_plugins_are_loaded():
    # A class with __getattr__ gets no specialized attribute lookups from
    # CPython: every op call paid for it. An op's name still says it is an op.
    zerograd._plugins._host.autoload()
    assert "__getattr__" not in vars(Variable)
    with pytest.raises(AttributeError):
        Variable(np.array(1.0)).no_such_attribute  # noqa: B018


# --- kernels: work the array API standard lacks, per backend -----------------


def _kernel_plugin(name, backend, kernel):
    class KernelPlugin:
        @hookimpl
        def zerograd_register_ops(self, registry):
            registry.add_kernel(name, backend, kernel)

    return KernelPlugin()


def test_kernel_is_found_by_the_arrays_backend_and_leaves(registered):
    def double(a):
        return 2 * a

    plugin = registered(_kernel_plugin("zg_double", "numpy", double), "doubler")
    assert zerograd.extend.kernel("zg_double", np.ones(2)) is double
    assert zerograd.extend.kernel("zg_double", 1.0) is double  # numbers: numpy's
    assert zerograd.extend.kernel("zg_missing", np.ones(2)) is None
    info = next(p for p in zerograd.plugins() if p.name == "doubler")
    assert info.kernels == ("zg_double[numpy]",)
    zerograd.unregister_plugin(plugin)
    assert zerograd.extend.kernel("zg_double", np.ones(2)) is None


def test_kernel_of_another_backend_is_not_found(registered):
    registered(_kernel_plugin("zg_double", "torch", abs))
    assert zerograd.extend.kernel("zg_double", np.ones(2)) is None


def test_second_kernel_for_one_backend_names_both_plugins(registered):
    registered(_kernel_plugin("zg_double", "numpy", abs), "first-pack")
    second = _kernel_plugin("zg_double", "numpy", abs)
    with pytest.raises(PluginError, match=r"'second-pack'.*'zg_double'.*'first-pack'"):
        zerograd.register_plugin(second, "second-pack")
    # Refused whole: the first plugin's kernel serves on.
    assert zerograd.extend.kernel("zg_double", np.ones(2)) is abs


@pytest.mark.parametrize(
    ("name", "backend", "kernel", "message"),
    [
        ("zg-double", "numpy", abs, "kernel name 'zg-double': it must be an"),
        ("zg_double", None, abs, "backend None: it must be an identifier"),
        ("zg_double", "numpy", 42, "as 42, which is not callable"),
    ],
)
def test_bad_kernels_are_refused(name, backend, kernel, message):
    with pytest.raises(PluginError, match=message):
        zerograd.register_plugin(_kernel_plugin(name, backend, kernel))


def test_kernel_registered_twice_by_one_plugin_is_refused():
    class Twice:
        @hookimpl
        def zerograd_register_ops(self, registry):
            registry.add_kernel("zg_double", "numpy", abs)
            registry.add_kernel("zg_double", "numpy", abs)

    with pytest.raises(PluginError, match="kernel 'zg_double' for numpy twice"):
        zerograd.register_plugin(Twice())
    assert zerograd.extend.kernel("zg_double", np.ones(2)) is None


def test_backward_says_retain_grad_is_its_first_argument():
    y = Variable(np.array(2.0))
    with pytest.raises(TypeError, match=r"first argument is retain_grad.*y\.grad"):
        y.backward(np.array(1.0))
