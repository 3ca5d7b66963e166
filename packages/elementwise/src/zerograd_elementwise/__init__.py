"""zerograd-elementwise: square and exp (the book's first), log, sin, cos, tanh, sqrt.

Each op computes with the namespace xp, forward and derivative: numpy (or
zerograd's Python floats, for 0-d float64 values) in forward and at first
order, zerograd's ops where a derivative of higher order is recorded (the
operators there need zerograd-arith). The derivative is stated once, as a rule
`vjp(xp, x or y, gy)`. An op whose
derivative is written in its output (exp, tanh, sqrt) reads the output, already
computed. The hook at the bottom registers them.
"""

from zerograd.extend import Function
from zerograd.extend import hookimpl


class Square(Function):
    """x², elementwise: d/dx = 2x."""

    def forward(self, xp, x):
        return x * x

    def vjp(self, xp, x, gy):
        return 2 * x * gy


class Exp(Function):
    """eˣ, elementwise: d/dx = eˣ."""

    reads = "outputs"

    def forward(self, xp, x):
        return xp.exp(x)

    def vjp(self, xp, y, gy):
        return y * gy


class Log(Function):
    """The natural logarithm, elementwise, for x > 0: d/dx = 1/x."""

    def forward(self, xp, x):
        return xp.log(x)

    def vjp(self, xp, x, gy):
        return gy / x


class Sin(Function):
    """sin x, elementwise: d/dx = cos x."""

    def forward(self, xp, x):
        return xp.sin(x)

    def vjp(self, xp, x, gy):
        return xp.cos(x) * gy


class Cos(Function):
    """cos x, elementwise: d/dx = -sin x."""

    def forward(self, xp, x):
        return xp.cos(x)

    def vjp(self, xp, x, gy):
        return -xp.sin(x) * gy


class Tanh(Function):
    """tanh x, elementwise: d/dx = 1 - tanh² x."""

    reads = "outputs"

    def forward(self, xp, x):
        return xp.tanh(x)

    def vjp(self, xp, y, gy):
        return (1 - y * y) * gy


class Sqrt(Function):
    """√x, elementwise, for x > 0: d/dx = 1 / (2√x)."""

    reads = "outputs"

    def forward(self, xp, x):
        return xp.sqrt(x)

    def vjp(self, xp, y, gy):
        return gy / (2 * y)


@hookimpl
def zerograd_register_ops(registry):
    registry.add("square", Square)
    registry.add("exp", Exp)
    registry.add("log", Log, domain=(0, None))
    registry.add("sin", Sin)
    registry.add("cos", Cos)
    registry.add("tanh", Tanh)
    registry.add("sqrt", Sqrt, domain=(0, None))
