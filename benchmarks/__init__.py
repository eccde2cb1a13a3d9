"""Load benchmarks: Tessera against node-oidc-provider, and a soak test (see README.md).

`benchmarks/run` is the entry point; `python -m benchmarks --help` lists the flags.
"""
