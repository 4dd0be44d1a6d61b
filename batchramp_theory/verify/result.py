"""The one result type of the verification layer: a measured statistic held to a stated bound.

``batchramp check`` (:mod:`batchramp_theory.checks`) and the figures' claims
(:mod:`batchramp_theory.figures`) both produce :class:`CheckResult`. A figure's claim is a
``CheckResult`` that also names its ``figure`` and states the prediction as text
(``predicted``); :class:`Claim` builds one with the figures' historical argument order.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["CheckResult", "Claim", "agrees"]


class CheckResult(NamedTuple):
    """Outcome of one check or figure claim.

    Attributes:
        name: dotted name of a check, e.g. ``"sgd.equivalence.decay_vs_ramp"``, or the claim's
            sentence in a figure.
        statistic: the measured number (ratio, z-score, exponent, ...).
        bound: the tolerance it was held to (a number: ``statistic <= bound``; or a
            ``(low, high)`` band), or ``None`` where a figure's claim is not a single band.
        passed: whether ``statistic`` lies within ``bound`` (for a figure: whether the claim holds).
        expected: ``"pass"``, or ``"fail"`` for a negative control.
        reason: one line saying what was compared and why the bound is what it is.
        figure: the figure a claim belongs to (``None`` for a registered check).
        predicted: a figure claim's prediction as text (``"<= 0.05"``, ``"in [0.85, 1.1] (linear rule)"``).
    """

    name: str
    statistic: float
    bound: float | tuple[float, float] | None
    passed: bool
    expected: str = "pass"
    reason: str = ""
    figure: str | None = None
    predicted: str | None = None

    @property
    def agrees(self) -> bool:
        """Whether the outcome is what the theory expected: ``passed == (expected == "pass")``."""
        return self.passed == (self.expected == "pass")

    @property
    def measured(self) -> float:
        """The figures' name for ``statistic``."""
        return self.statistic

    @property
    def detail(self) -> str:
        """The figures' name for ``reason``."""
        return self.reason

    def to_dict(self) -> dict:
        """JSON-ready record.

        A check gives ``name, statistic, bound, passed, expected, reason, agrees``; a figure
        claim (``figure`` set) gives ``figure, name, measured, predicted, passed, detail`` (the
        fields of ``figures/NAME.json``) followed by ``statistic, bound, expected, reason, agrees``.
        """
        d = {
            "name": self.name,
            "statistic": float(self.statistic),
            "bound": _bound(self.bound),
            "passed": bool(self.passed),
            "expected": self.expected,
            "reason": self.reason,
            "agrees": bool(self.agrees),
        }
        if self.figure is None:
            return d
        claim = {"figure": self.figure, "name": self.name, "measured": float(self.statistic), "predicted": self.predicted,
                 "passed": bool(self.passed), "detail": self.reason}
        return claim | {k: v for k, v in d.items() if k not in claim}


def _bound(bound):
    if bound is None:
        return None
    if isinstance(bound, tuple):
        return [float(b) for b in bound]
    return float(bound)


class Claim(CheckResult):
    """A figure's claim: a :class:`CheckResult` built with the figures' argument order.

    ``Claim(figure, name, measured, predicted, passed, detail)`` is
    ``CheckResult(name, measured, bound, passed, "pass", detail, figure, predicted)``; ``bound``
    (keyword) is the numeric band when the claim is one (the helpers in
    :mod:`batchramp_theory.verify.bands` fill it in).

    Examples:
        >>> c = Claim("fig", "max |z|", 2.0, "<= 5", True, "10 steps", bound=5.0)
        >>> isinstance(c, CheckResult), c.measured, c.statistic, c.detail, c.agrees
        (True, 2.0, 2.0, '10 steps', True)
    """

    __slots__ = ()

    def __new__(cls, figure, name, measured, predicted, passed, detail, *, bound=None, expected="pass"):
        return CheckResult.__new__(cls, name, measured, bound, passed, expected, detail, figure, predicted)

    def __getnewargs_ex__(self):  # copy and pickle go through __new__'s argument order
        return (self.figure, self.name, self.statistic, self.predicted, self.passed, self.reason), {
            "bound": self.bound, "expected": self.expected}


def agrees(results) -> bool:
    """Whether every result agrees with theory (see :attr:`CheckResult.agrees`)."""
    return all(r.agrees for r in results)
