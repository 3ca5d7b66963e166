"""What the engine checks and explains: numeric data, NaN where an op made it
(detect_anomaly), and a note on any error raised inside an op saying which op
and on what shapes. Kept apart so that the engine reads as the algorithm.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING
from typing import Any

import numpy as np

from zerograd import _backends

if TYPE_CHECKING:
    from zerograd._core import Function


def _data(value: Any) -> Any:
    # The engine's _data, for the checks below: Variable is imported when a
    # check runs (errors, detect_anomaly), as the engine imports this module
    # first; the engine's own copy imports nothing on its paths.
    from zerograd._core import Variable

    return value.data if isinstance(value, Variable) else value


# Integer, unsigned, float and complex. Checked by kind: np.issubdtype costs a
# microsecond, as much as the rest of an op call.
_NUMERIC_KINDS = frozenset("iufc")
# The numpy scalar types of those kinds (np.float64, ...): one set lookup where
# isinstance and a dtype's kind cost three.
_NUMERIC_SCALARS = frozenset(
    t for t in set(np.sctypeDict.values()) if np.dtype(t).kind in _NUMERIC_KINDS
)


def _check_data(data: Any) -> None:
    if type(data) is not np.ndarray:
        if not isinstance(data, np.ndarray):  # another backend's array
            _check_backend_array(data)
            return
        _check_array_type(data)
    if data.dtype.kind not in _NUMERIC_KINDS:
        raise _not_numeric_data(data.dtype)


def _not_numeric_data(dtype: Any) -> TypeError:
    return TypeError(
        f"Variable data must have a numeric dtype (integer, float or complex),"
        f" not {dtype}"
    )


def _check_backend_array(data: Any) -> None:
    if not _backends.is_array(data):
        raise TypeError(
            f"Variable data must be a numpy.ndarray or None (or an array of"
            f" another backend of the array API standard: Dask, CuPy, PyTorch,"
            f" array-api-strict), not {type(data).__name__} ({data!r:.60}); wrap"
            f" it first, e.g. Variable(np.array(...))"
        )
    if not _backends.is_numeric(_backends.namespace(data), data.dtype):
        raise _not_numeric_data(data.dtype)


def _check_array_type(data: Any) -> None:
    # Subclasses that change what ops mean: their results would match neither
    # the subclass's reading nor a plain array's.
    if isinstance(data, np.matrix):
        raise TypeError(
            "numpy.matrix is not accepted (its * is a matrix product, and it keeps"
            " two dimensions): pass np.asarray(m), and use @ for matrix products"
        )
    masked = sys.modules.get("numpy.ma")  # imported by whoever made a masked array
    if masked is not None and isinstance(data, masked.MaskedArray):
        raise TypeError(
            "masked arrays are not accepted (ops and gradients would ignore the"
            " mask): pass m.filled(value) or m.compressed(), a plain numpy.ndarray"
        )


def _check_anomaly(f: Function, stage: str, results: Any, sources: Any) -> None:
    # Only where the op itself made them: NaN in, NaN out is propagation.
    if all(_finite(r) for r in results) or not all(_finite(s) for s in sources):
        return
    raise FloatingPointError(
        f"{type(f).__name__}.{stage} produced NaN or inf from finite"
        f" {'inputs' if stage == 'forward' else 'gradients'} of shapes"
        f" {[np.shape(_data(s)) for s in sources]} (zerograd.detect_anomaly is on)"
    )


def _finite(value: Any) -> bool:
    data = _data(value)
    if data is None:
        return True
    xp = _backends.namespace(data)
    if xp is np:
        if np.asarray(data).dtype.kind not in "fc":
            return True
        return bool(np.isfinite(data).all())
    if not xp.isdtype(data.dtype, ("real floating", "complex floating")):
        return True
    return bool(xp.all(xp.isfinite(data)))  # a Dask array: computed here


def _explain(error: BaseException, f: Function, stage: str, values: Any) -> None:
    datas = [_data(v) for v in values]
    shapes = ", ".join("None" if d is None else str(np.shape(d)) for d in datas)
    kind = "inputs" if stage == "forward" else "output gradients"
    note = f"zerograd: raised in {type(f).__name__}.{stage}, {kind} of shapes {shapes}"
    absent = [str(i) for i, d in enumerate(datas) if d is None]
    if stage == "forward" and absent:
        note += (
            f"; input {', '.join(absent)} is None, which stands for an optional"
            f" input left out (as linear's b): {type(f).__name__} does not take"
            f" None there"
        )
    if stage == "backward" and "read-only" in str(error):
        note += (
            "; the gradients backward receives are read-only, as other gradients"
            " may share them: compute a new array (gy * c), not into gy (gy *= c)"
        )
    if sys.version_info >= (3, 11):
        error.add_note(note)
    else:
        # PEP 678's attribute, which 3.10's traceback ignores; the backport
        # teaches sys.excepthook and traceback to print it, as 3.11 does.
        import exceptiongroup  # type: ignore[import-not-found,unused-ignore]  # noqa: F401

        notes = [*getattr(error, "__notes__", ()), note]
        error.__notes__ = notes  # type: ignore[attr-defined,unused-ignore]


def _not_numeric(f: Function, gx: Any) -> TypeError:
    return TypeError(
        f"{type(f).__name__}.backward returned {type(gx).__name__} {gx!r:.60} as a"
        f" gradient; backward must return one numeric array (or None, for"
        f" no gradient) per input"
    )
