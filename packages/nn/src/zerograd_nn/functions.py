"""zerograd-nn's ops (placeholder module, being written)."""

from zerograd.extend import hookimpl


@hookimpl
def zerograd_register_ops(registry):
    pass
