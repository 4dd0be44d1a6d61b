"""Tests and doctests run in float64 (exact identities are checked at 1e-10 relative)."""

import jax

jax.config.update("jax_enable_x64", True)
