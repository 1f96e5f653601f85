"""Data quality: Great Expectations checkpoints on the raw landing zone and the marts."""
