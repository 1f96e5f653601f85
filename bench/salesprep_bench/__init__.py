"""Benchmarks at scale: every pipeline step, peers and the near-physical limit, in one run."""

from salesprep_bench.sizes import SIZES, Size, UnknownSizeError, get_size

__all__ = ["SIZES", "Size", "UnknownSizeError", "get_size", "run_benchmark"]


def run_benchmark(*args, **kwargs):
    """See `salesprep_bench.__main__.run_benchmark`."""
    from salesprep_bench.__main__ import run_benchmark as run

    return run(*args, **kwargs)
