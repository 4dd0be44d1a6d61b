"""Where the engines' arrays live: the placement hook shared by the recursions and the simulator.

Both engines compute along an embarrassingly parallel axis: the **schedule** axis of
:func:`batchramp_theory.expected_risk` (one independent scan per schedule) and the **runs** axis
of :func:`batchramp_theory.simulate` (one independent run per key). A :class:`Placement` says
where arrays go: the engine pads that axis to a multiple of :attr:`Placement.shards`, places it
with :meth:`Placement.shard`, places everything else with :meth:`Placement.replicate`, and
brings results back with :meth:`Placement.fetch`. The default, :data:`LOCAL`, leaves arrays on
JAX's default device; :class:`batchramp_theory.sharding.MeshPlacement` shards the axis over a
device mesh. The engine code is the same either way, so the numbers are too.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Placement", "LOCAL", "pad_rows"]


class Placement:
    """The default placement: every array on JAX's default device, one shard."""

    shards = 1

    def shard(self, x, axis: int):
        """Place ``x`` with its (padded) parallel axis ``axis`` split over the shards."""
        return x

    def replicate(self, tree):
        """Place a pytree of arrays that every shard reads whole."""
        return tree

    def fetch(self, x) -> np.ndarray:
        """Bring a (possibly sharded) result to the host."""
        return np.asarray(x)

    def padded(self, n: int) -> int:
        """``n`` rounded up to a multiple of :attr:`shards`."""
        return -(-n // self.shards) * self.shards


LOCAL = Placement()


def pad_rows(a, rows: int):
    """Pad the leading axis of ``a`` to ``rows`` by repeating row 0 (padded rows are computed and dropped).

    Works on NumPy arrays, JAX arrays and JAX key arrays.
    """
    n = a.shape[0]
    if rows == n:
        return a
    return a[np.concatenate([np.arange(n), np.zeros(rows - n, dtype=np.int64)])]
