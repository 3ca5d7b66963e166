"""Array backends: which namespace an op computes with, by the type of its arrays.

numpy arrays (and numpy scalars, Python numbers) compute with numpy itself, the
fast path: one dict lookup by type. Any other array that the Python array API
standard covers (array-api-strict, Dask, CuPy, PyTorch tensors) computes with
its namespace as array-api-compat gives it, looked up once per array type and
cached; array-api-compat is imported only when such an array first appears.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# The namespace of each array type met so far; numpy's own types map to numpy.
_NAMESPACES: dict[type, Any] = {np.ndarray: np}
_NAMESPACES.update((t, np) for t in set(np.sctypeDict.values()))
# Python's numbers and None (an optional input left out) combine with any backend.
_NEUTRAL = frozenset((float, int, bool, complex, type(None)))


def namespace(*values: Any) -> Any:
    """The array namespace that `values` (arrays, numbers) compute with: numpy
    for numpy arrays and plain numbers, else the standard namespace of their
    arrays (`array_api_compat.array_namespace`). Arrays of two backends in one
    op are an error naming both."""
    found = None
    for v in values:
        t = type(v)
        if t in _NEUTRAL:
            continue
        xp = _NAMESPACES.get(t)
        if xp is None:
            xp = _namespace_of_type(v)
        if found is None:
            found, first = xp, t
        elif xp is not found:
            raise TypeError(
                f"one op got arrays of two backends: {_name(first)} and {_name(t)};"
                f" an op computes with one array backend: convert one operand"
                f" (e.g. with the other's namespace: xp.asarray(...))"
            )
    return np if found is None else found


def _namespace_of_type(v: Any) -> Any:
    import array_api_compat

    if array_api_compat.is_numpy_array(v):  # an ndarray subclass (GradientArray)
        xp = np
    else:
        xp = array_api_compat.array_namespace(v)
    _NAMESPACES[type(v)] = xp
    return xp


def is_array(value: Any) -> bool:
    """Whether `value` is an array that a Variable may hold (of any backend)."""
    if isinstance(value, np.ndarray):
        return True
    if type(value) in _NAMESPACES:  # a backend already met (or a numpy scalar)
        return not isinstance(value, np.generic)
    if not hasattr(value, "shape") or not hasattr(value, "dtype"):
        return False  # lists, numbers: array-api-compat is not imported for them
    import array_api_compat

    return bool(array_api_compat.is_array_api_obj(value))


def is_numeric(xp: Any, dtype: Any) -> bool:
    """Whether `dtype` of the namespace `xp` is an integer, float or complex."""
    if xp is np:
        return bool(np.dtype(dtype).kind in "iufc")
    return bool(xp.isdtype(dtype, ("integral", "real floating", "complex floating")))


def device(array: Any) -> Any:
    """The device `array` lives on (array-api-compat's `device`): "cpu" for
    numpy arrays."""
    if namespace(array) is np:  # numpy's arrays and scalars, Python's numbers
        return "cpu"
    import array_api_compat

    return array_api_compat.device(array)


def backend_key(xp: Any) -> str:
    """The array library behind the namespace `xp`, by its module's name:
    numpy, dask, cupy, torch, array_api_strict."""
    if xp is np:
        return "numpy"
    return str(xp.__name__).removeprefix("array_api_compat.").split(".")[0]


def backend_name(array: Any) -> str:
    """The backend of an array, as users name it: numpy, dask, cupy, torch,
    array_api_strict; with its device where it is not the CPU."""
    return backend_label(namespace(array), device(array))


def backend_label(xp: Any, device: Any) -> str:
    """backend_name's words for a namespace and a device."""
    name = backend_key(xp)
    where = str(device)  # "cpu"; array-api-strict's Device('CPU_DEVICE')
    return name if "cpu" in where.lower() else f"{name} on {where}"


def to_numpy(array: Any) -> np.ndarray:
    """A numpy copy of an array of any backend on the host (computed, for Dask)."""
    if isinstance(array, np.ndarray):
        return array
    module = type(array).__module__.split(".")[0]
    if module == "dask":
        return np.asarray(array.compute())
    if module == "cupy":
        return array.get()
    if module == "torch":
        return array.detach().cpu().numpy()
    return np.from_dlpack(array)


def _name(t: type) -> str:
    # The library, as users know it: numpy, array_api_strict, dask, torch, cupy.
    return "numpy" if _NAMESPACES.get(t) is np else t.__module__.split(".")[0]
