"""Tests of extraction into the raw landing zone, over HTTP against the emulator."""
