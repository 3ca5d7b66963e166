"""Arbitrary inputs thrown at Variable, Function and the plugin registry: each
either works or raises the documented exception with its explanation."""

import numpy as np
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import zerograd
from zerograd import Function
from zerograd import PluginError
from zerograd import Variable

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.complex_numbers(),
    st.text(max_size=5),
    st.binary(max_size=5),
    st.lists(
        st.one_of(st.integers(-5, 5), st.floats(), st.text(max_size=2)), max_size=4
    ),
    hnp.arrays(
        hnp.scalar_dtypes() | hnp.byte_string_dtypes() | hnp.unicode_string_dtypes(),
        hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
    ),
    st.builds(object),
)


class Double(Function):
    def forward(self, x):
        return x * 2

    def backward(self, gy):
        return gy * 2


def numeric_array(value):
    return isinstance(value, np.ndarray) and value.dtype.kind in "iufc"


@settings(max_examples=300, deadline=None)
@given(anything)
def test_variable_takes_numeric_arrays_or_says_what_it_takes(data):
    try:
        Variable(data)
    except TypeError as error:
        assert "numpy.ndarray or None" in str(error) or "numeric dtype" in str(error)
        assert not (data is None or numeric_array(data))
    else:
        assert data is None or numeric_array(data)


@settings(max_examples=300, deadline=None)
@given(anything)
@example(10**100)  # beyond int64: an object array, refused
@example([1, "a"])
def test_function_takes_operands_or_says_what_it_takes(value):
    try:
        with np.errstate(all="ignore"):  # inf and NaN propagate, as in numpy
            y = Double()(value)
    except TypeError as error:
        if value is None:  # an optional input left out: the op says if it takes it
            assert "optional input" in str(getattr(error, "__notes__", "")), error
        else:
            assert "accepted are" in str(error) or "numeric dtype" in str(error), error
    else:
        assert isinstance(y, Variable) and y.data.dtype.kind in "iufc"


@settings(max_examples=200, deadline=None)
@given(name=anything, op=anything, operators=st.lists(anything, max_size=3))
def test_registry_refuses_bad_registrations_with_a_plugin_error(name, op, operators):
    class Plugin:
        @zerograd.hookimpl
        def zerograd_register_ops(self, registry):
            registry.add(name, op, operators=operators)

    plugin = Plugin()
    try:
        zerograd.register_plugin(plugin)
    except PluginError:
        assert not zerograd._plugins._host.manager.is_registered(plugin)
    else:  # only a valid name with a callable op and known operators gets here
        zerograd.unregister_plugin(plugin)
        assert callable(op)
