"""The batchramp CLI: check, reproduce, and clear errors."""

import json
import math

import pytest
from scipy.special import gamma as gamma_fn

from batchramp_theory.cli import main


def test_check_quick_core_writes_json(tmp_path, capsys):
    out = tmp_path / "checks.json"
    assert main(["check", "--quick", "--select", "core", "--json", str(out)]) == 0
    records = json.loads(out.read_text())
    names = {r["name"] for r in records}
    assert "core.mc_vs_exact.sgd" in names and "core.mc_vs_exact.negative_control" in names
    neg = next(r for r in records if r["name"] == "core.mc_vs_exact.negative_control")
    assert neg["expected"] == "fail" and neg["passed"] is False and neg["agrees"] is True
    assert all(set(r) >= {"name", "statistic", "bound", "passed", "expected", "reason"} for r in records)
    # The sampler's law beyond second moments (checks/core.py): both statistics pass, both negative
    # controls (the sigma a.n sign flipped) fail, and the flipped sampler's second moments pass.
    law = {r["name"]: r for r in records if r["name"].startswith("core.sampler_law.")}
    assert {n: (r["passed"], r["agrees"]) for n, r in law.items()} == {
        "core.sampler_law.third_moments": (True, True),
        "core.sampler_law.ks": (True, True),
        "core.sampler_law.negative_control.third_moments": (False, True),
        "core.sampler_law.negative_control.ks": (False, True),
        "core.sampler_law.negative_control.second_moments_blind": (True, True),
    }


@pytest.mark.parametrize("name", ["step_reduction", pytest.param("mc_vs_exact", marks=pytest.mark.slow)])
def test_reproduce_one_figure(tmp_path, name):
    # step_reduction is the cheapest figure (seconds); mc_vs_exact, a Monte Carlo one, is slow.
    assert main(["reproduce", name, "--quick", "--out", str(tmp_path)]) == 0
    for ext in ("png", "pdf", "json"):
        assert (tmp_path / f"{name}.{ext}").stat().st_size > 0
    report = (tmp_path / "REPORT.md").read_text()
    assert name in report and "PASS" in report and "FAIL" not in report
    claims = json.loads((tmp_path / f"{name}.json").read_text())["claims"]
    # A claim's record: the figure fields first, then those of a check result (one result type).
    assert claims and all(list(c)[:6] == ["figure", "name", "measured", "predicted", "passed", "detail"] for c in claims)
    assert all(c["figure"] == name and c["statistic"] == c["measured"] and c["agrees"] for c in claims)
    assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
    if name == "step_reduction":
        # The claims' numbers against closed forms computed here (docs/equivalence.md, "Lemma 1 and
        # the general formula"): quadrature is good to ~1e-13, 1e-10 leaves margin.
        by_name = {c["name"]: c["measured"] for c in claims}
        power_mean = lambda q: gamma_fn((q + 1) / 2) / (math.sqrt(math.pi) * gamma_fn(q / 2 + 1))  # noqa: E731
        exact = {
            "quarter cosine (Lemma 1): continuous-limit reduction": 1 - 2 / math.pi,
            "half cosine to 0: continuous-limit reduction": 0.5,
            "OLMo: 10% warmup, half cosine to 0.1: continuous-limit reduction": 1 - (0.1 + 0.9 * 0.55),
            "quarter cosine: step ratio mean r^q at q=0.5": power_mean(0.5),
            "quarter cosine: step ratio mean r^q at q=0.75": power_mean(0.75),
        }
        for key, want in exact.items():
            assert by_name[key] == pytest.approx(want, rel=1e-10), key
        # the published step counts are reproduced exactly (tests/test_seesaw.py has the tables)
        assert [v for k, v in by_name.items() if "max relative step-count error" in k] == [0.0, 0.0, 0.0]


def test_unknown_figure_is_a_clear_error(tmp_path, capsys):
    assert main(["reproduce", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown figure" in capsys.readouterr().err


def test_unknown_check_group_is_a_clear_error(capsys):
    assert main(["check", "--select", "nope"]) == 2
    assert "no check group" in capsys.readouterr().err


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "reproduce" in out and "check" in out
