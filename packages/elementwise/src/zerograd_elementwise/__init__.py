"""zerograd-elementwise: square and exp (the seeds), log, sin, cos, tanh, sqrt.

Each op is a Function subclass on numpy arrays; the hook at the bottom
registers them. Backward reuses the forward output where the derivative is
written in it (exp, tanh, sqrt), as it is already computed.
"""

import numpy as np

import zerograd
from zerograd import Function


class Square(Function):
    def forward(self, x):
        return x**2

    def backward(self, gy):
        x = self.inputs[0].data
        return 2 * x * gy


class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        y = self.outputs[0]().data
        return y * gy


class Log(Function):
    def forward(self, x):
        return np.log(x)

    def backward(self, gy):
        x = self.inputs[0].data
        return gy / x


class Sin(Function):
    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        x = self.inputs[0].data
        return np.cos(x) * gy


class Cos(Function):
    def forward(self, x):
        return np.cos(x)

    def backward(self, gy):
        x = self.inputs[0].data
        return -np.sin(x) * gy


class Tanh(Function):
    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy):
        y = self.outputs[0]().data
        return (1 - y * y) * gy


class Sqrt(Function):
    def forward(self, x):
        return np.sqrt(x)

    def backward(self, gy):
        y = self.outputs[0]().data
        return gy / (2 * y)


@zerograd.hookimpl
def zerograd_register_ops(registry):
    registry.add("square", Square)
    registry.add("exp", Exp)
    registry.add("log", Log, domain=(0, None))
    registry.add("sin", Sin)
    registry.add("cos", Cos)
    registry.add("tanh", Tanh)
    registry.add("sqrt", Sqrt, domain=(0, None))
