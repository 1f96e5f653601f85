"""Benchmarks at scale: every pipeline step, peers and the near-physical limit, in one run."""

from salesprep.bench.sizes import SIZES, Size, UnknownSizeError, get_size

__all__ = ["SIZES", "Size", "UnknownSizeError", "get_size", "run_benchmark"]


def run_benchmark(*args, **kwargs):
    """See `salesprep.bench.__main__.run_benchmark`."""
    from salesprep.bench.__main__ import run_benchmark as run

    return run(*args, **kwargs)
