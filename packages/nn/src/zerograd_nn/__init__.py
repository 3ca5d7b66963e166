"""zerograd-nn: layers, models, optimizers, datasets and data loaders for
zerograd, with DeZero's API (steps 44-54 of "Deep Learning from Scratch 3").

    import zerograd
    import zerograd_nn as nn

    model = nn.MLP((10, 3))
    optimizer = nn.optimizers.SGD(lr=1.0).setup(model)  # or nn.optimizer("sgd", lr=1.0)
    for x, t in nn.DataLoader(nn.datasets.Spiral(), batch_size=30):
        loss = zerograd.ops.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        optimizer.update()

The ops of training (linear, sigmoid, softmax_cross_entropy, dropout, ...)
are in `zerograd.ops`, registered by this package's plugin. Optimizers are
plugins too: `optimizer(name, **settings)` makes any registered one, and a
package registers its own through the hook `zerograd_register_optimizers`.
"""

from zerograd_nn import _plugins
from zerograd_nn import dataloaders
from zerograd_nn import datasets
from zerograd_nn import layers
from zerograd_nn import models
from zerograd_nn import optimizers
from zerograd_nn._plugins import OptimizerInfo
from zerograd_nn._plugins import OptimizerNotFoundError
from zerograd_nn._plugins import OptimizerRegistry
from zerograd_nn._plugins import OptimizerSpecs
from zerograd_nn._plugins import optimizer
from zerograd_nn._plugins import optimizer_info
from zerograd_nn._plugins import registered_optimizers
from zerograd_nn.dataloaders import DataLoader
from zerograd_nn.dataloaders import SeqDataLoader
from zerograd_nn.dataloaders import progress
from zerograd_nn.datasets import Dataset
from zerograd_nn.layers import LSTM
from zerograd_nn.layers import RNN
from zerograd_nn.layers import BatchNorm
from zerograd_nn.layers import Conv2d
from zerograd_nn.layers import Deconv2d
from zerograd_nn.layers import Dropout
from zerograd_nn.layers import EmbedID
from zerograd_nn.layers import Layer
from zerograd_nn.layers import Linear
from zerograd_nn.layers import Parameter
from zerograd_nn.layers import WeightsError
from zerograd_nn.models import MLP
from zerograd_nn.models import Model
from zerograd_nn.models import Sequential
from zerograd_nn.optimizers import Optimizer

__all__ = [
    "LSTM",
    "MLP",
    "RNN",
    "BatchNorm",
    "Conv2d",
    "DataLoader",
    "Dataset",
    "Deconv2d",
    "Dropout",
    "EmbedID",
    "Layer",
    "Linear",
    "Model",
    "Optimizer",
    "OptimizerInfo",
    "OptimizerNotFoundError",
    "OptimizerRegistry",
    "OptimizerSpecs",
    "Parameter",
    "SeqDataLoader",
    "Sequential",
    "WeightsError",
    "dataloaders",
    "datasets",
    "layers",
    "models",
    "optimizer",
    "optimizer_info",
    "optimizers",
    "progress",
    "registered_optimizers",
]

# Last, once every name above exists: declaring the optimizers' hook loads the
# installed plugins, zerograd-nn's own ops among them (its entry-point module
# may import from this package). Declared at import, so that a plugin
# implementing the hook can be registered with zerograd.register_plugin.
_plugins._relay()
