"""Every ``convexcheck explain`` topic runs and its numbers say what its text claims."""

from __future__ import annotations

import json

import pytest

from convexcheck.cli import main
from convexcheck.explain.topics import TOPICS, explain_topic


@pytest.fixture(scope="module")
def answers() -> dict[str, dict]:
    return {name: explain_topic(name) for name in TOPICS}


def test_at_least_eight_topics() -> None:
    assert len(TOPICS) >= 8


@pytest.mark.parametrize("name", sorted(TOPICS))
def test_topic_runs_and_is_json(answers: dict, name: str) -> None:
    answer = answers[name]
    assert answer["text"] and answer["numbers"]
    json.dumps(answer)
    # timings live in benchmarks/ (docs/benchmarks.md); here only that the field is reported
    assert answer["seconds"] >= 0


def test_topic_claims_hold(answers: dict) -> None:
    nn = answers["why-nn-nonconvex"]["numbers"]
    assert nn["permutation_symmetry"]["witnessed"] and nn["multiplicative_weights"]["witnessed"]
    assert answers["logistic-regression-is-convex"]["numbers"]["verdict"] == "yes"
    assert answers["logistic-regression-is-convex"]["numbers"]["all_nonnegative"]
    xy = answers["xy-saddle"]["numbers"]
    assert xy["joint_convex"] == "no" and xy["convex_in_x_with_y_fixed_at_2"] == "yes"
    deep = answers["deep-linear-networks"]["numbers"]
    assert deep["deep_hessian_min_eigenvalue"] < 0 < deep["shallow_hessian_min_eigenvalue"]
    for shift in answers["l2-shifts-hessian"]["numbers"]["shifts"]:
        assert shift["measured_shift"] == pytest.approx(2 * shift["lambda"], abs=1e-9)
    strong = answers["strong-convexity"]["numbers"]
    assert strong["holds_everywhere_checked"]
    assert strong["mu_equals_lambda_min"] >= strong["penalty_alone_guarantees_mu"]
    trace = answers["saddle-points-vs-local-minima"]["numbers"]["trace"]
    assert trace[-1]["loss"] < trace[0]["loss"]
    l1 = answers["l1-vs-l2"]["numbers"]
    assert l1["chord_gaps_at_t_half"][0]["l1_gap"] == 0 < l1["chord_gaps_at_t_half"][0]["l2_gap"]
    assert answers["relu-rescaling"]["numbers"]["rescaling_symmetry"]["witnessed"]
    frozen = answers["frozen-features-are-convex"]["numbers"]
    assert frozen["frozen_verdict"] == "yes" and frozen["unfrozen_verdict"] == "no"
    assert frozen["frozen_parameters"] == ["0.weight", "0.bias"]


def test_cli_lists_and_explains(capsys: pytest.CaptureFixture) -> None:
    assert main(["explain"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in TOPICS)
    assert main(["explain", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["topics"]) == len(TOPICS)
    assert main(["explain", "l1-vs-l2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["topic"] == "l1-vs-l2"
    assert main(["explain", "xy-saddle"]) == 0
    assert "Numbers (computed now" in capsys.readouterr().out


def test_cli_unknown_topic_is_exit_2(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["explain", "no-such-topic"])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("convexcheck: error: unknown topic")
