"""Hypothesis strategies for zerograd: shapes, arrays and Variables within a
domain, and whole argument tuples for a registered op.

    from hypothesis import given
    from zerograd_testing import gradcheck, strategies as zst

    @given(zst.op_inputs("log"))
    def test_log(xs):
        gradcheck(zerograd.ops.log, *xs)

Values are finite and drawn from the domain shrunk by a margin (and bounded by
DEFAULT_BOUNDS where it is open), so that numerical differentiation stays in it.
"""

from __future__ import annotations

from typing import Any
from typing import Literal

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import zerograd
from zerograd import Variable
from zerograd_testing._conformance import arity
from zerograd_testing._conformance import sample_interval

Domain = tuple[float | None, float | None]


def shapes(max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, from () up to `max_dims` axes of 1 to `max_side`."""
    return hnp.array_shapes(
        min_dims=0, max_dims=max_dims, min_side=1, max_side=max_side
    )


def arrays(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    dtype: Any = np.float64,
    domain: Domain = (None, None),
) -> st.SearchStrategy[np.ndarray]:
    """Float arrays of `shape` (any shape when None) with values in `domain`."""
    low, high = sample_interval(domain)
    width: Literal[32, 64] = 32 if np.dtype(dtype) == np.float32 else 64
    if width == 32:  # hypothesis wants bounds a float32 represents: round inwards
        low32, high32 = np.float32(low), np.float32(high)
        low = float(low32 if low32 >= low else np.nextafter(low32, np.float32(np.inf)))
        high = float(high32 if high32 <= high else np.nextafter(high32, np.float32(0)))
    elements = st.floats(low, high, width=width, allow_nan=False, allow_infinity=False)
    return hnp.arrays(dtype, shapes() if shape is None else shape, elements=elements)


def variables(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    dtype: Any = np.float64,
    domain: Domain = (None, None),
) -> st.SearchStrategy[Variable]:
    """Leaf Variables whose data is drawn by `arrays(shape, dtype, domain)`."""
    return arrays(shape, dtype, domain).map(Variable)


def op_inputs(
    op_name: str,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    dtype: Any = np.float64,
) -> st.SearchStrategy[tuple[Variable, ...]]:
    """Arguments for `zerograd.ops.<op_name>`: as many Variables as it takes, of
    one shape, in its registered domain, followed by its example_args."""
    info = zerograd.op_info(op_name)
    n = arity(info)

    def build(common_shape: tuple[int, ...]) -> st.SearchStrategy[tuple[Any, ...]]:
        one = variables(common_shape, dtype, info.domain)
        return st.tuples(*[one] * n).map(lambda xs: (*xs, *info.example_args))

    return (
        shapes()
        if shape is None
        else st.just(shape)
        if isinstance(shape, tuple)
        else shape
    ).flatmap(build)
