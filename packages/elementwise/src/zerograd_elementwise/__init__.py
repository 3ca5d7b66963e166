"""zerograd-elementwise: square and exp (the book's first), log, sin, cos, tanh, sqrt.

Each op is a Function subclass: backward on arrays (first order, fast) and
backward_graph on Variables (any order; it uses the arithmetic operators, so
higher orders need zerograd-arith). The hook at the bottom registers them.
Backward reuses the forward output where the derivative is written in it (exp,
tanh, sqrt), as it is already computed.
"""

import numpy as np

import zerograd
from zerograd import Function


class Square(Function):
    """x², elementwise: d/dx = 2x."""

    def forward(self, x):
        return x**2

    def backward(self, gy):
        x = self.inputs[0].data
        return 2 * x * gy

    def backward_graph(self, gy):
        return 2 * self.inputs[0] * gy


class Exp(Function):
    """eˣ, elementwise: d/dx = eˣ."""

    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        y = self.outputs[0]().data
        return y * gy

    def backward_graph(self, gy):
        return self.outputs[0]() * gy


class Log(Function):
    """The natural logarithm, elementwise, for x > 0: d/dx = 1/x."""

    def forward(self, x):
        return np.log(x)

    def backward(self, gy):
        x = self.inputs[0].data
        return gy / x

    def backward_graph(self, gy):
        return gy / self.inputs[0]


class Sin(Function):
    """sin x, elementwise: d/dx = cos x."""

    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        x = self.inputs[0].data
        return np.cos(x) * gy

    def backward_graph(self, gy):
        return Cos()(self.inputs[0]) * gy


class Cos(Function):
    """cos x, elementwise: d/dx = -sin x."""

    def forward(self, x):
        return np.cos(x)

    def backward(self, gy):
        x = self.inputs[0].data
        return -np.sin(x) * gy

    def backward_graph(self, gy):
        return -Sin()(self.inputs[0]) * gy


class Tanh(Function):
    """tanh x, elementwise: d/dx = 1 - tanh² x."""

    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy):
        y = self.outputs[0]().data
        return (1 - y * y) * gy

    def backward_graph(self, gy):
        y = self.outputs[0]()
        return (1 - y * y) * gy


class Sqrt(Function):
    """√x, elementwise, for x > 0: d/dx = 1 / (2√x)."""

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, gy):
        y = self.outputs[0]().data
        return gy / (2 * y)

    def backward_graph(self, gy):
        return gy / (2 * self.outputs[0]())


@zerograd.hookimpl
def zerograd_register_ops(registry):
    registry.add("square", Square)
    registry.add("exp", Exp)
    registry.add("log", Log, domain=(0, None))
    registry.add("sin", Sin)
    registry.add("cos", Cos)
    registry.add("tanh", Tanh)
    registry.add("sqrt", Sqrt, domain=(0, None))
