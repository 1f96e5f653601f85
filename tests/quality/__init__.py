"""Tests of the Great Expectations checkpoints."""
