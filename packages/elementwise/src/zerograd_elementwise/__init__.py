"""zerograd-elementwise: square and exp (the book's first), log, sin, cos, tanh,
sqrt; abs, log1p, expm1; the activations sigmoid, relu, leaky_relu, softplus;
clip, maximum and minimum.

Each op computes with the namespace xp, forward and derivative: numpy (or
zerograd's Python floats, for 0-d float64 values) in forward and at first
order, zerograd's ops where a derivative of higher order is recorded (the
operators there need zerograd-arith). The derivative is stated once, as a rule
`vjp(xp, x or y, gy)`. An op whose derivative is written in its output (exp,
tanh, sqrt) reads the output, already computed. An op with a kink takes its
derivative from a mask, `gy * (x > 0)`: a comparison gives a boolean array on
arrays and Variables alike, a constant of the graph, made a weight of gy's
dtype (`_weights`). A forward that needs functions zerograd's floats lack
(maximum, logaddexp) takes no xp: it runs on arrays, with the namespace of
their backend (numpy's, or another one of the array API standard). The hook
at the bottom registers them.
"""

import numbers

from zerograd.extend import Function
from zerograd.extend import Variable
from zerograd.extend import device
from zerograd.extend import hookimpl
from zerograd.extend import namespace


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


class Abs(Function):
    """|x|, elementwise: d/dx = sign x, 0 at x = 0."""

    def forward(self, xp, x):
        return abs(x)

    def vjp(self, xp, x, gy):
        return gy * (_weights(x > 0, 1, 0, gy) - _weights(x < 0, 1, 0, gy))


class Log1p(Function):
    """log(1 + x), elementwise, for x > -1, precise for small x: d/dx = 1/(1 + x)."""

    def forward(self, xp, x):
        return xp.log1p(x)

    def vjp(self, xp, x, gy):
        return gy / (1 + x)


class Expm1(Function):
    """eˣ - 1, elementwise, precise for small x: d/dx = eˣ."""

    reads = "outputs"

    def forward(self, xp, x):
        return xp.expm1(x)

    def vjp(self, xp, y, gy):
        return gy * (y + 1)


class Sigmoid(Function):
    """The logistic function 1 / (1 + e⁻ˣ), elementwise: d/dx = y (1 - y).

    The derivative is read from the output, as PyTorch's: where y is near 1,
    1 - y has y's absolute precision, not its relative one (4e-14 at x = 6;
    above x = 37, y rounds to 1 and the derivative, 1e-16 or less, to 0).
    """

    reads = "outputs"

    def forward(self, x):
        # e^-|x| never overflows, and e/(1 + e) keeps the relative precision
        # of small results, which 1/2 + tanh(x/2)/2 loses below x = -20 or so.
        xp = namespace(x)
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1, e) / (1 + e)

    def vjp(self, xp, y, gy):
        return gy * y * (1 - y)


class ReLU(Function):
    """max(x, 0), elementwise: d/dx = 1 for x > 0, else 0 (0 at x = 0)."""

    def forward(self, x):
        return namespace(x).maximum(x, 0)

    def vjp(self, xp, x, gy):
        return gy * _weights(x > 0, 1, 0, gy)


class LeakyReLU(Function):
    """x for x > 0, slope * x elsewhere: d/dx = 1 for x > 0, else slope."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        return namespace(x).where(x > 0, x, x * self.slope)

    def vjp(self, xp, x, gy):
        return gy * _weights(x > 0, 1, self.slope, gy)


class Softplus(Function):
    """log(1 + eˣ), elementwise, without overflow: d/dx = sigmoid x = 1 - e⁻ʸ."""

    reads = "outputs"

    def forward(self, x):
        return namespace(x).logaddexp(0, x)

    def vjp(self, xp, y, gy):
        # sigmoid(x) = 1 - 1/(1 + eˣ) = 1 - e^-y, written with ops numpy has;
        # -expm1(-y) keeps its precision where it is small (x very negative).
        return gy * -xp.expm1(-y)


class Clip(Function):
    """x limited to [x_min, x_max] (None: no limit), as np.clip: d/dx = 1 inside
    the interval, its ends included (as Chainer and PyTorch), 0 outside."""

    def __init__(self, x_min, x_max):
        self.x_min = x_min
        self.x_max = x_max

    def forward(self, x):
        return namespace(x).clip(x, self.x_min, self.x_max)

    def vjp(self, xp, x, gy):
        if self.x_min is None and self.x_max is None:
            return gy
        inside = True
        if self.x_min is not None:
            inside = inside & (x >= self.x_min)
        if self.x_max is not None:
            inside = inside & (x <= self.x_max)
        return gy * _weights(inside, 1, 0, gy)


class Maximum(Function):
    """The larger of a and b, elementwise, broadcasting as numpy does: the
    gradient goes to the larger, half to each where they are equal (so that
    maximum(x, x) has derivative 1), and to a NaN, which np.maximum returns."""

    def forward(self, x0, x1):
        return namespace(x0, x1).maximum(x0, x1)

    def vjp(self, xp, x0, x1, gy):
        w0 = _weights((x0 > x1) | (x0 != x0), 1, 0, gy, ties=x0 == x1)
        return gy * w0, gy * (1 - w0)


class Minimum(Function):
    """The smaller of a and b, elementwise, broadcasting as numpy does: the
    gradient goes to the smaller, half to each where they are equal, and to a
    NaN, which np.minimum returns."""

    def forward(self, x0, x1):
        return namespace(x0, x1).minimum(x0, x1)

    def vjp(self, xp, x0, x1, gy):
        w0 = _weights((x0 < x1) | (x0 != x0), 1, 0, gy, ties=x0 == x1)
        return gy * w0, gy * (1 - w0)


def _weights(mask, inside, outside, gy, ties=None):
    """`inside` where the boolean `mask` holds, `outside` elsewhere, 1/2 at
    `ties`: a constant array of gy's dtype, so float32 gradients stay float32.

    `x != x` is NaN's test that works on Variables too (np.isnan does not).
    The mask's backend (numpy's, or another) makes the weights.
    """
    xp = namespace(mask)
    dtype, where = gy.dtype, device(mask)
    w = xp.where(
        mask,
        xp.asarray(inside, dtype=dtype, device=where),
        xp.asarray(outside, dtype=dtype, device=where),
    )
    if ties is not None:
        w = xp.where(ties, xp.asarray(0.5, dtype=dtype, device=where), w)
    return w


def leaky_relu(x, slope=0.2):
    """x for x > 0, slope * x elsewhere (DeZero's F.leaky_relu; slope a number)."""
    if not isinstance(slope, numbers.Real) or isinstance(slope, bool):
        raise TypeError(
            f"leaky_relu's slope must be a real number, such as 0.2, not"
            f" {type(slope).__name__} {slope!r:.60}"
        )
    return LeakyReLU(float(slope))(x)


def clip(x, x_min, x_max):
    """x limited to [x_min, x_max], as np.clip(x, x_min, x_max): each limit a
    number, an array broadcasting with x, or None for no limit."""
    for name, bound in (("x_min", x_min), ("x_max", x_max)):
        if isinstance(bound, Variable):
            raise TypeError(
                f"clip's {name} is a constant (no gradient flows to it), not a"
                f" Variable: pass a number, an array ({name}.data) or None"
            )
    return Clip(x_min, x_max)(x)


@hookimpl
def zerograd_register_ops(registry):
    registry.add("square", Square)
    registry.add("exp", Exp)
    registry.add("log", Log, domain=(0, None))
    registry.add("sin", Sin)
    registry.add("cos", Cos)
    registry.add("tanh", Tanh)
    registry.add("sqrt", Sqrt, domain=(0, None))
    registry.add("abs", Abs, operators=("__abs__",), methods=("abs",))
    registry.add("log1p", Log1p, domain=(-1, None))
    registry.add("expm1", Expm1)
    registry.add("sigmoid", Sigmoid)
    # Kinks at 0 (and at clip's limits, and where maximum's inputs meet): the
    # conformance cases in the tests keep away from them.
    registry.add("relu", ReLU)
    registry.add("leaky_relu", leaky_relu)
    registry.add("softplus", Softplus)
    registry.add("clip", clip, example_args=(-1.0, 1.0))
    registry.add("maximum", Maximum)
    registry.add("minimum", Minimum)
