"""zerograd-nn: layers, optimizers and datasets (being written)."""
