"""Sweeps that outgrow one device: the same jitted entry points, sharded over a 1-d device mesh.

The exact recursion of a stack of ``S`` schedules is ``S`` independent scans (one ``vmap``), and a
Monte Carlo of ``R`` runs is ``R`` independent runs. Both axes are embarrassingly parallel, so
sharding them is only a matter of *placement*: the inputs are laid out with a
:class:`jax.sharding.NamedSharding` over a 1-d mesh of devices (axis ``"grid"``), padded to a
multiple of the device count, and ``jit`` partitions the computation along that axis with no
communication (GSPMD). The numbers are those of the unsharded call: each schedule and each run
goes through the same operations on whichever device holds it.

- :func:`sharded_expected_risk` shards the **schedule** axis of :func:`batchramp_theory.expected_risk`.
- :func:`sharded_simulate` shards the **runs** axis of :func:`batchramp_theory.simulate` (the
  largest axis of a Monte Carlo; run ``i`` keeps its key ``split(seed, num_runs)[i]``).

Multi-host: after ``jax.distributed.initialize(...)`` every process runs the same program;
:func:`device_mesh` then spans ``jax.devices()`` (all processes' devices), inputs are built with
:func:`jax.make_array_from_callback` (each process supplies its own shards) and results are
gathered with :func:`jax.experimental.multihost_utils.process_allgather`. With one process
(the default) this is plain multi-device. ``examples/multihost_sweep.py`` is a runnable example
and docs/performance.md describes the set-up.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from .optimizers import SGD
from .placement import Placement
from .problem import Problem
from .recursions import expected_risk
from .simulate import simulate

__all__ = ["device_mesh", "MeshPlacement", "sharded_expected_risk", "sharded_simulate", "AXIS"]

AXIS = "grid"


def device_mesh(devices=None) -> Mesh:
    """A 1-d :class:`~jax.sharding.Mesh` (axis ``"grid"``) over ``devices`` (default: ``jax.devices()``,
    i.e. every device of every process)."""
    devs = list(jax.devices() if devices is None else devices)
    if not devs:
        raise ValueError("devices must be non-empty")
    return Mesh(np.array(devs), (AXIS,))


def _global(mesh: Mesh, host: np.ndarray, axis: int | None) -> jax.Array:
    """A global array from a host array that every process holds, sharded along ``axis`` (None: replicated)."""
    spec = [None] * host.ndim
    if axis is not None:
        spec[axis] = AXIS
    sharding = NamedSharding(mesh, P(*spec))
    return jax.make_array_from_callback(host.shape, sharding, lambda idx: host[idx])


def _fetch(x: jax.Array) -> np.ndarray:
    if jax.process_count() == 1:
        return np.asarray(x)
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(x, tiled=True))


class MeshPlacement(Placement):
    """Placement over a 1-d device mesh: the engine's parallel axis (schedules or runs) is split
    along the mesh axis ``"grid"`` with a :class:`~jax.sharding.NamedSharding`; everything else
    is replicated (:mod:`batchramp_theory.placement`)."""

    def __init__(self, mesh: Mesh):
        self.mesh = mesh
        self.shards = mesh.size

    def shard(self, x, axis: int):
        if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            impl = jax.random.key_impl(x)
            data = np.asarray(jax.random.key_data(x))
            return jax.random.wrap_key_data(_global(self.mesh, data, axis), impl=impl)
        return _global(self.mesh, np.asarray(x), axis)

    def replicate(self, tree):
        return jax.tree_util.tree_map(lambda a: _global(self.mesh, np.asarray(a), None), tree)

    def fetch(self, x) -> np.ndarray:
        return _fetch(x)


def sharded_expected_risk(problem: Problem, schedules, optimizer=SGD(), *, record_steps=None,
                          on_divergence: str = "raise", mesh: Mesh | None = None) -> np.ndarray:
    """:func:`batchramp_theory.expected_risk` of a stack of schedules, the stack sharded over devices.

    The ``(S, K)`` schedule arrays are padded to a multiple of the mesh size (repeating the first
    schedule) and placed with ``NamedSharding(mesh, P("grid", None))``; the problem is
    replicated. Same arguments and result as ``expected_risk`` (``(S, K_max+1)``, or ``(K+1,)``
    for a single schedule), and the same numbers.

    Examples:
        >>> import batchramp_theory as bt
        >>> p = bt.power_law_problem(50, 2.0, 0.5, noise=0.5)
        >>> grid = [bt.constant(lr, 4, 100) for lr in (0.1, 0.2, 0.3)]
        >>> bt.sharded_expected_risk(p, grid).shape
        (3, 101)
    """
    mesh = device_mesh() if mesh is None else mesh
    return expected_risk(problem, schedules, optimizer, record_steps=record_steps, on_divergence=on_divergence,
                         placement=MeshPlacement(mesh))


def sharded_simulate(problem: Problem, schedule, optimizer=SGD(), num_runs: int = 1, seed=0, *,
                     record_steps=None, sampler: str = "exact", features: str = "gaussian",
                     chunk_size: int | None = None, progress: bool = False, on_divergence: str = "raise",
                     mesh: Mesh | None = None) -> np.ndarray:
    """:func:`batchramp_theory.simulate` with the runs sharded over the devices of ``mesh``.

    The runs axis (of the iterate ``(S, R, d)``, the optimizer state and the run keys) is padded to
    a multiple of the mesh size and placed with ``NamedSharding(mesh, P(None, "grid", None))``; the
    schedule arrays are replicated. Same arguments and result as ``simulate`` and the same
    numbers: run ``i`` uses ``split(seed, num_runs)[i]`` whatever the device count.

    Examples:
        >>> import batchramp_theory as bt
        >>> p = bt.power_law_problem(64, 2.0, 0.5, noise=0.5)
        >>> bt.sharded_simulate(p, bt.constant(0.5, 16, steps=100), num_runs=8, seed=0).shape
        (8, 101)
    """
    mesh = device_mesh() if mesh is None else mesh
    return simulate(
        problem, schedule, optimizer, num_runs, seed, record_steps=record_steps, sampler=sampler,
        features=features, chunk_size=chunk_size, progress=progress, on_divergence=on_divergence,
        placement=MeshPlacement(mesh),
    )
