"""The rule-set parameters a vote applies: chosen from the emulation year's rule set when the
vote opens (`vote_parameters`), stored with the vote as they were, and read back from there by
the counting (`counting_rule`) and the steps that follow (`parameter_value`), so that a vote is
always counted by the rules it was opened under."""

from typing import Any

from app.awards.schemas import AwardTypeOut
from app.rules.schemas import RuleSet
from app.votes import counting

_SHOWN = (
    "approval_denominator",
    "quorum",
    "max_rounds",
    "tie_break",
    "self_approval_allowed",
    "absent_written_votes_count",
)


def _parameter(name: str, parameter: Any) -> dict[str, Any]:
    return {"name": name, **parameter.model_dump(mode="json")}


def vote_parameters(rules: RuleSet, award_type: AwardTypeOut) -> dict[str, Any]:
    """The threshold a cluster's vote applies, and every parameter it uses, as stored."""
    p = rules.parameters
    threshold, name = p.cluster_vote_share, "cluster_vote_share"
    high = p.approval_threshold_high
    if award_type.approval_class.value == "high" and (
        high.value.numerator * threshold.value.denominator
        > threshold.value.numerator * high.value.denominator
    ):
        threshold, name = high, "approval_threshold_high"
    used = [_parameter(name, threshold), *(_parameter(n, getattr(p, n)) for n in _SHOWN)]
    return {"threshold": name, "used": used}


def counting_rule(stored: dict[str, Any]) -> counting.CountingRule:
    """The engine's rule from the parameters stored with a vote."""
    used = {p["name"]: p["value"] for p in stored["used"]}
    share = used[stored["threshold"]]
    return counting.CountingRule(
        approval=counting.Share(share["numerator"], share["denominator"]),
        approval_base=counting.ApprovalBase(used["approval_denominator"]),
        quorum=counting.Share(used["quorum"]["numerator"], used["quorum"]["denominator"]),
        tie_break=tuple(counting.TieBreak(step["step"]) for step in used["tie_break"]),
    )


def parameter_value(stored: dict[str, Any], name: str) -> Any:
    return next(p["value"] for p in stored["used"] if p["name"] == name)
