"""zerograd-activations: the activation functions of neural networks, as a
third party writes a zerograd op-pack. Everything comes from `zerograd`'s
public API: Function, hookimpl, and the registry the hook receives.

sigmoid and softplus state their derivative once, as a rule on the namespace xp
(numpy at first order, zerograd.ops at higher orders: any order). relu and
leaky_relu keep the book's `backward` on arrays: their derivative is a mask, a
constant, and they are first-order ops.
"""

import numpy as np

from zerograd.extend import Function
from zerograd.extend import hookimpl


class Sigmoid(Function):
    """1 / (1 + e^-x), computed as 0.5 tanh(x / 2) + 0.5, which never overflows."""

    reads = "outputs"

    def forward(self, x):
        return np.tanh(x * 0.5) * 0.5 + 0.5

    def vjp(self, xp, y, gy):
        return gy * y * (1 - y)


class ReLU(Function):
    """max(x, 0); the gradient at 0 is taken as 0."""

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, gy):
        return gy * (self.inputs[0].data > 0)


class LeakyReLU(Function):
    """x for x > 0, slope * x otherwise."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        return np.where(x > 0, x, x * self.slope)

    def backward(self, gy):
        x = self.inputs[0].data
        return np.where(x > 0, gy, gy * self.slope)


class Softplus(Function):
    """log(1 + e^x), computed without overflow for large x."""

    def forward(self, x):
        return np.logaddexp(0, x)

    def vjp(self, xp, x, gy):  # the sigmoid of x
        return gy * (xp.tanh(x * 0.5) * 0.5 + 0.5)


def leaky_relu(x, slope=0.2):
    return LeakyReLU(slope)(x)


@hookimpl
def zerograd_register_ops(registry):
    registry.add("sigmoid", Sigmoid)
    registry.add("relu", ReLU)
    registry.add("leaky_relu", leaky_relu)
    registry.add("softplus", Softplus)
