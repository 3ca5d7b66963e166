"""Ops written seeds-style, as a third party would, for the core's tests: the
core alone has none. Backward works on arrays (first order only)."""

import numpy as np

from zerograd import Function


class Square(Function):
    def forward(self, x):
        return x**2

    def backward(self, gy):
        return 2 * self.inputs[0].data * gy


class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        return np.exp(self.inputs[0].data) * gy


class Add(Function):
    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        return gy, gy


class Log(Function):
    def forward(self, x):
        return np.log(x)

    def backward(self, gy):
        return gy / self.inputs[0].data


class Sqrt(Function):
    def forward(self, x):
        return np.sqrt(x)

    def backward(self, gy):
        return gy / (2 * self.outputs[0]().data)


class Mul(Function):
    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs[0].data, self.inputs[1].data
        return gy * x1, gy * x0


class Reshape(Function):
    """Its backward returns a view of gy, as numpy's reshape does."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy):
        return gy.reshape(self.inputs[0].data.shape)


class Split(Function):
    """Two outputs: the elements of a 2-vector."""

    def forward(self, x):
        return x[0], x[1]

    def backward(self, g0, g1):
        return np.stack([g0, g1])
