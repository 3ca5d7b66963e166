"""Source of a well-behaved plugin module, for the tests that install fake
distributions (the root conftest's write_distribution fixture): op zg_half."""

HALF = """
    import zerograd


    class Half(zerograd.Function):
        def forward(self, x):
            return x / 2

        def backward(self, gy):
            return gy / 2


    @zerograd.hookimpl
    def zerograd_register_ops(registry):
        registry.add("zg_half", Half)
    """
