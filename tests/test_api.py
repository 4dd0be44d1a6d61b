"""Every public name is importable and documented."""

import inspect

import batchramp_theory as bt

PUBLIC = [n for n in dir(bt) if not n.startswith("_") and n not in {"annotations"}]


def test_public_names_are_documented():
    missing = []
    for name in PUBLIC:
        obj = getattr(bt, name)
        if inspect.ismodule(obj) or name == "__version__":
            continue
        if not (inspect.getdoc(obj) or "").strip():
            missing.append(name)
    assert not missing, f"public names without a docstring: {missing}"


def test_core_interface_exists():
    for name in ["Problem", "power_law_problem", "Schedule", "SGD", "Momentum", "NormalizedSGD", "Adam",
                 "SignSGD", "expected_risk", "simulate", "stability_limit", "DivergenceError"]:
        assert hasattr(bt, name), name
