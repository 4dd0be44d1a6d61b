"""The rule algebra of the learning-rate / batch-ramp equivalence (Seesaw, arXiv 2510.14717).

Wherever a base schedule cuts the learning rate by ``cut = gamma > 1``, a ramp rule cuts it by
``lr_factor = alpha`` instead and multiplies the batch by ``batch_factor = beta``, with

    alpha * beta       = gamma     (SGD line: Theorem 1, equal alpha beta and samples per phase)
    alpha * sqrt(beta) = gamma     (normalised-SGD / Adam line: Corollary 1)

Named points: pure LR decay ``(gamma, 1)`` (:func:`lr_decay_rule`); the pure batch ramp of Smith
et al. 2017 ``(1, gamma)`` on the SGD line (:func:`batch_ramp_rule`); Seesaw ``(sqrt(gamma), gamma)``
(:func:`seesaw_rule`, Algorithm 1), the most aggressive NSGD point Lemma 4 admits
(``alpha >= sqrt(beta)``; below it the effective SGD learning rate ``lr / sqrt(E|g|^2) ~ lr sqrt(B)``
grows at every cut and the reduced model diverges). In the continuous limit a rule's batch is
``B_0 r^-q`` with ``q = ln beta / ln gamma`` when the base's learning rate is ``lr_0 r``.
Derivation: docs/equivalence.md, sections 1.1-1.2.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .._validation import check_scalar, renamed_arguments

__all__ = ["RampRule", "ramp_rule", "lr_decay_rule", "batch_ramp_rule", "seesaw_rule", "LINES"]

LINES = ("sgd", "nsgd")
# Relative tolerance for "on the line": the user types the factors to a few digits
# (e.g. 2**0.75 = 1.6818), so exact equality is too strict; 1e-4 still rejects any real mismatch.
_LINE_RTOL = 1e-4


def line_power(line: str) -> float:
    """The exponent ``p`` of the line ``alpha beta^p = gamma``: 1 (``"sgd"``) or 1/2 (``"nsgd"``)."""
    if line not in LINES:
        raise ValueError(f"line must be one of {LINES}, got {line!r}")
    return 1.0 if line == "sgd" else 0.5


class RampRule(NamedTuple):
    """One point ``(lr_factor, batch_factor) = (alpha, beta)`` of the equivalence family of a cut ``gamma``.

    Attributes:
        lr_factor: ``alpha``, the learning-rate divisor per cut.
        batch_factor: ``beta``, the batch multiplier per cut.
        cut: ``gamma``, the base schedule's cut factor.
        line: ``"sgd"`` (``alpha beta = gamma``) or ``"nsgd"`` (``alpha sqrt(beta) = gamma``).
    """

    lr_factor: float
    batch_factor: float
    cut: float
    line: str

    @property
    def alpha(self) -> float:
        """Deprecated alias of :attr:`lr_factor`."""
        return self.lr_factor

    @property
    def beta(self) -> float:
        """Deprecated alias of :attr:`batch_factor`."""
        return self.batch_factor

    @property
    def gamma(self) -> float:
        """Deprecated alias of :attr:`cut`."""
        return self.cut

    @property
    def q(self) -> float:
        """``ln beta / ln gamma``: the ramp's batch is ``B0 r^-q`` in the continuous limit."""
        return math.log(self.batch_factor) / math.log(self.cut)

    @property
    def admissible(self) -> bool:
        """Whether the rule is inside the theory's range.

        NSGD line: ``alpha >= sqrt(beta)`` (Lemma 4; equality is Seesaw). SGD line:
        ``alpha >= 1`` (the learning rate never grows; ``alpha = 1`` is Smith's pure ramp).
        """
        tol = 1e-9
        if self.line == "nsgd":
            return self.lr_factor >= math.sqrt(self.batch_factor) * (1 - tol)
        return self.lr_factor >= 1 - tol

    @property
    def effective_sgd_alpha(self) -> float:
        """The SGD-equivalent learning-rate divisor: ``alpha / sqrt(beta)`` for NSGD (Corollary 1)."""
        return self.lr_factor / math.sqrt(self.batch_factor) if self.line == "nsgd" else self.lr_factor

    def label(self) -> str:
        """``"(alpha, beta)"`` to 4 significant digits."""
        return f"({self.lr_factor:.4g}, {self.batch_factor:.4g})"


@renamed_arguments(gamma="cut", alpha="lr_factor", beta="batch_factor")
def ramp_rule(
    cut: float, *, lr_factor: float | None = None, batch_factor: float | None = None, line: str = "nsgd"
) -> RampRule:
    """The rule on ``line`` for the base cut ``gamma``, from ``lr_factor`` or ``batch_factor`` (or both, checked).

    ``alpha beta = gamma`` (``line="sgd"``, Theorem 1) or ``alpha sqrt(beta) = gamma`` (``"nsgd"``,
    Corollary 1). The old keywords ``gamma``, ``alpha``, ``beta`` are deprecated aliases.

    Raises:
        ValueError: ``cut <= 1``, ``batch_factor < 1``, ``lr_factor <= 0``, neither given, or
            the pair off the line (relative tolerance 1e-4).

    Examples:
        >>> import batchramp_theory as bt
        >>> r = bt.ramp_rule(2.0, batch_factor=2.0, line="nsgd")
        >>> round(r.lr_factor, 6), r.admissible
        (1.414214, True)
    """
    gamma = check_scalar("cut (the base cut factor gamma)", cut, low=1.0, low_open=True)
    p = line_power(line)
    alpha, beta = lr_factor, batch_factor
    if alpha is None and beta is None:
        raise ValueError("give lr_factor or batch_factor (alpha or beta), or both, to define the rule")
    if beta is not None:
        beta = check_scalar("batch_factor (beta)", beta, low=1.0)
    if alpha is not None:
        alpha = check_scalar("lr_factor (alpha)", alpha, low=0.0, low_open=True)
    if alpha is None:
        alpha = gamma / beta**p
    elif beta is None:
        beta = (gamma / alpha) ** (1.0 / p)
        if beta < 1.0 - 1e-12:
            raise ValueError(
                f"lr_factor ({alpha:.6g}) > cut ({gamma:.6g}) would need batch_factor beta < 1 (a shrinking batch)"
            )
        beta = max(beta, 1.0)
    else:
        prod = alpha * beta**p
        if abs(prod - gamma) > _LINE_RTOL * gamma:
            form = "alpha*beta" if line == "sgd" else "alpha*sqrt(beta)"
            raise ValueError(
                f"lr_factor alpha={alpha:.6g}, batch_factor beta={beta:.6g} is off the {line.upper()} line: "
                f"{form} = {prod:.6g} but the cut gamma = {gamma:.6g}"
            )
    return RampRule(float(alpha), float(beta), gamma, line)


@renamed_arguments(gamma="cut")
def lr_decay_rule(cut: float, line: str = "nsgd") -> RampRule:
    """Pure learning-rate decay ``(gamma, 1)``: the base itself (on either line)."""
    return ramp_rule(cut, lr_factor=cut, batch_factor=1.0, line=line)


@renamed_arguments(gamma="cut")
def batch_ramp_rule(cut: float, line: str = "sgd") -> RampRule:
    """Pure batch ramp at constant learning rate, ``alpha = 1``.

    SGD line: ``(1, gamma)`` (Smith et al. 2017). NSGD line: ``(1, gamma^2)``, which violates
    Lemma 4 (``alpha < sqrt(beta)``) and is a negative control.
    """
    return ramp_rule(cut, lr_factor=1.0, line=line)


@renamed_arguments(gamma="cut")
def seesaw_rule(cut: float) -> RampRule:
    """Seesaw ``(sqrt(gamma), gamma)`` on the NSGD line (Algorithm 1; Remark 1)."""
    return ramp_rule(cut, lr_factor=math.sqrt(cut), batch_factor=cut, line="nsgd")
