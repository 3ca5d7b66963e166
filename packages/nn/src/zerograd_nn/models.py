"""Models: DeZero's Model, with a picture of its graph, Sequential and MLP
(DeZero's models.py, step 45)."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

import zerograd
from zerograd import Variable
from zerograd_nn.layers import Layer
from zerograd_nn.layers import Linear

__all__ = ["MLP", "Model", "Sequential", "sigmoid"]


class Model(Layer):
    """A Layer that is a whole network; `plot` draws its graph."""

    def plot(
        self, *inputs: Any, to_file: str | pathlib.Path = "model.png"
    ) -> pathlib.Path:
        """Run `forward` on `inputs` and draw the graph it records, with shapes
        and dtypes, to `to_file` (.png, .svg or .pdf) with Graphviz; see
        `zerograd.plot_graph`. `zerograd.to_dot(model(x), verbose=True)` gives
        the DOT text with nothing installed."""
        y = self.forward(*inputs)
        return zerograd.plot_graph(y, to_file, verbose=True)


class Sequential(Model):
    """The layers applied in turn: `Sequential(Linear(10), relu, Linear(1))`.

    Layers are attributes l0, l1, ... (the names of its weights file); plain
    functions such as `zerograd.ops.relu` may stand between them.
    """

    def __init__(self, *layers: Callable[[Any], Any]) -> None:
        super().__init__()
        self.layers = []
        for i, layer in enumerate(layers):
            setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x


def sigmoid(x: Any) -> Variable:
    """zerograd-elementwise's sigmoid(x), looked up when called: MLP's default
    activation (the op comes from a plugin, loaded at first use). Named by its
    pack: another pack's `sigmoid` (the activations example's) makes the plain
    name ambiguous, and the user's choice there is not this layer's."""
    return zerograd.ops.elementwise.sigmoid(x)


class MLP(Model):
    """A multi-layer perceptron: one Linear per output size, `activation`
    between them (DeZero's default, sigmoid), none after the last."""

    def __init__(
        self,
        fc_output_sizes: Iterable[int],
        activation: Callable[[Any], Any] = sigmoid,
    ) -> None:
        super().__init__()
        self.activation = activation
        self.layers = []
        for i, out_size in enumerate(fc_output_sizes):
            layer = Linear(out_size)
            setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def forward(self, x: Any) -> Any:
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)
