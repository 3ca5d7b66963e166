"""zerograd-testing: the test kit for zerograd op authors.

- `gradcheck(fn, *inputs)`: analytic against numerical gradients, element by element.
- `gradgradcheck(fn, *inputs)`: the same for second derivatives.
- `conformance_tests(plugin, cases=...)`: a pytest test class checking every op
  of a plugin, on the calls `Case(shapes, args, kwargs)` describes for each op.
- `zerograd_testing.strategies`: hypothesis strategies for shapes, arrays, Variables.
- a pytest plugin (fixtures `zerograd_rng`, `zerograd_plugin`, `gradcheck`;
  option `--zerograd-seed`), loaded by pytest itself.
"""

from zerograd_testing import strategies
from zerograd_testing._conformance import DEFAULT_BOUNDS
from zerograd_testing._conformance import Case
from zerograd_testing._conformance import conformance_tests
from zerograd_testing._gradcheck import GradcheckError
from zerograd_testing._gradcheck import gradcheck
from zerograd_testing._gradcheck import gradgradcheck

__all__ = [
    "Case",
    "DEFAULT_BOUNDS",
    "GradcheckError",
    "conformance_tests",
    "gradcheck",
    "gradgradcheck",
    "strategies",
]
