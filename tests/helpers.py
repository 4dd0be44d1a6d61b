"""Shared test helpers: tolerances with reasons, dense reference propagations."""

import math

import numpy as np

# Exact identities in float64: the recursions are a few hundred multiply-adds per mode per
# step, so rounding stays near 1e-13 relative; 1e-10 leaves margin without hiding real errors.
RTOL_EXACT = 1e-10


def random_rotation(d, seed=0):
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def dense_sgd_risk(H, theta, sigma, lr, batch, normalizer=None):
    """Propagate the full d x d second moment of w - theta* under SGD (Gaussian data).

    S' = S - eta (H S + S H) + eta^2 (1 + 1/B) H S H + (eta^2 / B) (tr(H S) + sigma^2) H
    (Seesaw eq. 6 with the sigma^2 H correction). Works for any symmetric H (no diagonal
    assumption), so it independently checks the per-mode closure. ``normalizer='expected'``
    divides eta by sqrt(E|g|^2) computed from S, ``'variance'`` multiplies by
    sqrt(B)/(sigma sqrt(tr H)).
    """
    S = np.outer(theta, theta)
    trH = np.trace(H)
    out = [0.5 * np.trace(H @ S)]
    for eta, B in zip(lr, batch):
        if normalizer == "expected":
            D = sigma**2 * trH / B + (1 + 1 / B) * np.trace(H @ H @ S) + trH * np.trace(H @ S) / B
            eta = eta / np.sqrt(D)
        elif normalizer == "variance":
            eta = eta * np.sqrt(B) / (sigma * np.sqrt(trH))
        HS = H @ S
        S = S - eta * (HS + HS.T) + eta**2 * (1 + 1 / B) * H @ S @ H + (eta**2 / B) * (np.trace(HS) + sigma**2) * H
        out.append(0.5 * np.trace(H @ S))
    return np.array(out)


def dense_momentum_risk(H, theta, sigma, lr, batch, mu):
    """Full joint second moments of (d, v) = (w - theta*, velocity) under heavy-ball momentum.

    v' = mu v + g, d' = d - eta v', with E[g g^T | d] = H d d^T H (1 + 1/B) + (d^T H d + sigma^2) H / B.
    """
    P = np.outer(theta, theta)  # E[d d^T]
    Q = np.zeros_like(P)  # E[d v^T]
    R = np.zeros_like(P)  # E[v v^T]
    out = [0.5 * np.trace(H @ P)]
    for eta, B in zip(lr, batch):
        R_new = mu**2 * R + mu * (Q.T @ H + H @ Q) + H @ P @ H * (1 + 1 / B) + (np.trace(H @ P) + sigma**2) * H / B
        Dv = mu * Q + P @ H  # E[d v'^T]
        P = P - eta * (Dv + Dv.T) + eta**2 * R_new
        Q = Dv - eta * R_new
        R = R_new
        out.append(0.5 * np.trace(H @ P))
    return np.array(out)


def max_abs_z(mc, exact):
    se = mc.std(axis=0, ddof=1) / np.sqrt(mc.shape[0])
    return float(np.max(np.abs(mc.mean(axis=0) - exact) / se))


def ceil_div(a: int, b: int) -> int:
    """Exact integer ceiling division (no floating point)."""
    return -(-a // b)


def reference_ramp(milestones, budget, b0, seq, lr_factor, batch_factor, lr0=1.0, base=None, warmup=0.0):
    """The repo's converter as a plain per-step loop (docs/equivalence.md 2.2): one milestone per step, ``>=``."""
    seen, cur_f, cur, scale, i = 0, float(b0), b0, 1.0, 0
    batches, lrs, ms_steps, after = [], [], [], []
    while seen < budget:
        if i < len(milestones) and seen >= milestones[i]:
            cur_f *= batch_factor
            cur = math.floor(cur_f)
            scale /= lr_factor
            ms_steps.append(len(batches))
            after.append(cur)
            i += 1
        batches.append(cur)
        lrs.append(float(base(float(seen))) if seen < warmup else lr0 * scale)
        seen += cur * seq
    return dict(batch=np.array(batches), lr=np.array(lrs), milestone_steps=ms_steps, batch_after=after, seen=seen)


def diag_sgd_risk(lam, theta, sigma, lr, batch):
    """Per-mode SGD second moments in NumPy (no JAX, no library code): the diagonal of ``dense_sgd_risk``.

    m_j' = (1 - eta lambda_j)^2 m_j + (eta^2 / B) (lambda_j^2 m_j + lambda_j (sum_k lambda_k m_k + sigma^2)),
    m_j(0) = theta_j^2; returns the risks sum_j lambda_j m_j / 2 at steps 0..K.
    """
    lam = np.asarray(lam, float)
    m = np.asarray(theta, float) ** 2
    out = [0.5 * lam @ m]
    for eta, b in zip(np.broadcast_to(lr, np.shape(batch)), batch):
        m = (1 - eta * lam) ** 2 * m + (eta**2 / b) * (lam**2 * m + lam * (lam @ m + sigma**2))
        out.append(0.5 * lam @ m)
    return np.array(out)


class LazyCheckResults(dict):
    """``results[group]``: the quick-mode results of a registered check group, run on first access only.

    A module-scoped fixture returns one, so each group runs once and only for the tests selected.
    """

    def __missing__(self, group):
        from batchramp_theory.checks import registered

        self[group] = registered()[group](True)
        return self[group]


def assert_group_agrees(results, group: str, prefix: str) -> None:
    """Every result of ``group`` is a ``CheckResult`` named under ``prefix``, with a reason, serialisable, agreeing with theory."""
    import json

    from batchramp_theory.checks import CheckResult

    res = results[group]
    assert res and all(isinstance(r, CheckResult) for r in res)
    bad = [(r.name, r.statistic, r.bound, r.expected) for r in res if not r.agrees]
    assert not bad, bad
    for r in res:
        assert r.name.startswith(prefix) and r.reason
        json.dumps(r.to_dict())  # serialisable
