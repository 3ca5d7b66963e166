"""zerograd-cli: the `zerograd` command (cli.py) and its demo (demo.py)."""
