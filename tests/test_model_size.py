"""The width study (model_size.py): shapes, the LR-reparametrisation identity, bad inputs."""

import jax
import numpy as np
import pytest

import batchramp_theory as bt
from batchramp_theory.model_size import width_study

jax.config.update("jax_enable_x64", True)


def test_scaling_none_multiplies_tr_k_by_width():
    a = bt.random_features(64, 32, 2.0, 0.5, seed=2)
    b = bt.random_features(64, 32, 2.0, 0.5, seed=2, scaling="none")
    np.testing.assert_allclose(b.problem.eigenvalues, 32 * a.problem.eigenvalues, rtol=1e-10)
    np.testing.assert_allclose(b.approximation_error, a.approximation_error, rtol=1e-8, atol=1e-14)


def test_width_study_eta_star_rescales_exactly_with_the_parametrisation():
    kw = dict(dim=64, widths=[8, 16], capacity=2.0, source=0.5, noise=0.5, batches=[1, 4], budget=256)
    st = width_study(**kw)
    naive = width_study(**kw, scaling="none")
    # K -> w K is absorbed exactly by eta -> eta / w: same tuned loss, eta* divided by the width
    np.testing.assert_allclose(naive.best_loss, st.best_loss, rtol=1e-6)
    np.testing.assert_allclose(naive.best_lr * np.array([[8], [16]]), st.best_lr, rtol=1e-6)
    assert st.best_lr.shape == (2, 2) and st.critical_batch.shape == (2,)
    # negative control: the raw eta* does move under the naive scaling
    assert np.all(np.abs(naive.best_lr / st.best_lr - 1) > 0.5)


def test_bad_inputs():
    with pytest.raises(ValueError, match="scaling"):
        bt.random_features(10, 4, 2.0, 0.5, scaling="ntk")
    with pytest.raises(ValueError, match="tolerance"):
        width_study(10, [4], 2.0, 0.5, 0.5, [1], 16, tolerance=0.0)
