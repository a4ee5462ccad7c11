"""The narrative faithfulness eval holds its floor for the offline narrator on the sandbox's planted cases."""

from __future__ import annotations

import json

import pytest

from cloudoptima_evals.narratives import OFFLINE_FLOOR, run_narrative_eval


def test_offline_narratives_are_fully_faithful() -> None:
    result = run_narrative_eval(seeds=(11, 2024), shape=(3, 120), limit=25)
    for kind in ("root_cause", "narrative"):
        bucket = result[kind]
        assert bucket["count"] >= 4, f"too few {kind} cases to mean anything"
        assert bucket["claims"] >= 10 * bucket["count"], "narratives state numbers, ids and dates to check"
        assert bucket["faithfulness"] >= OFFLINE_FLOOR, bucket["failures"][:3]
        assert bucket["sources"] == {"offline": bucket["count"]}
    assert result["passed"] is True


def test_the_checker_catches_what_the_eval_is_about() -> None:
    from cloudoptima_agents import grounding

    evidence = {"impact": "120.50", "resource": "i-0abc", "day": "2031-03-04"}
    assert grounding.check("Impact 120.50 USD on i-0abc since 2031-03-04.", evidence).ok
    bad = grounding.check("Impact $121 on i-0abd since 2031-03-05.", evidence)
    assert bad.numbers == ["$121"] and bad.identifiers == ["i-0abd"] and bad.dates == ["2031-03-05"]


def test_eval_cli_runs_the_narrative_eval(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cloudoptima_evals.__main__ import main

    assert main(["--narratives", "--seeds", "11", "--limit", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["provider"] == "offline" and result["passed"] is True
    assert result["narrative"]["count"] == 3 and result["root_cause"]["faithfulness"] == 1.0

    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--narratives", "--provider", "anthropic", "--seeds", "11", "--limit", "1"]) == 2
    assert "no LLM is configured" in capsys.readouterr().err
