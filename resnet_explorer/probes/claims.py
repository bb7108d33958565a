"""What a paper claims, checked against a probe's seeds: was the finding reproduced?

An experiment lists its paper's findings as `Claim`s between two of its designs ("plain-56 ends
with a higher training loss than plain-20"). `finding` checks each against the pairwise
verdicts of `probes.stats.summarize` and says, in words and with the figures and intervals,
whether the finding was reproduced at this budget: every claim held, some did, none did, or
there were too few seeds to say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from resnet_explorer.probes import stats

Relation = Literal["higher", "lower", "not_higher"]
_NAMES = {"final_train_loss": "training loss", "early_train_loss": "early training loss"}


@dataclass(frozen=True)
class Claim:
    """``a``'s ``metric`` is ``relation`` ``b``'s: ``higher`` / ``lower`` (distinguishably, over
    the seeds) or ``not_higher`` (lower, or not distinguishable)."""

    a: str
    b: str
    relation: Relation
    metric: str = "final_train_loss"

    def words(self) -> str:
        what = _NAMES.get(self.metric, self.metric.replace("_", " "))
        if self.relation == "not_higher":
            return f"{self.a} does not end with a higher {what} than {self.b}"
        return f"{self.a} ends with a {self.relation} {what} than {self.b}"

    def check(self, statistics: Mapping[str, Any]) -> tuple[bool | None, str]:
        """(held, evidence): None when the seeds cannot tell."""
        v = stats.verdict(statistics, self.a, self.b, self.metric)
        if v is None or v["difference"] is None or v["n"] < 2:
            return None, f"{self.words()}: too few seeds to tell"
        d = v["difference"]
        figures = f"{d['mean']:+.4f} [{d['lo']:+.4f}, {d['hi']:+.4f}], {d['method']}"
        higher = v["distinguishable"] and d["mean"] > 0
        lower = v["distinguishable"] and d["mean"] < 0
        held = {"higher": higher, "lower": lower, "not_higher": not higher}[self.relation]
        if v["distinguishable"]:
            side, k = ("higher", v["n"] - v["better"]) if higher else ("lower", v["better"])
            how = f"{self.a} ended {side} in {k} of {v['n']} seeds, difference {figures}"
        else:
            how = f"not distinguishable at this budget, difference {figures}"
        return held, f"{self.words()} ({'held' if held else 'did not hold'}: {how})"


def finding(claims: Sequence[Claim], statistics: Mapping[str, Any] | None) -> dict[str, Any]:
    """Whether ``claims`` held in ``statistics``: ``{"verdict", "sentence", "claims"}`` with
    the verdict ``reproduced``, ``partly reproduced``, ``not reproduced`` or ``no verdict``."""
    if not claims:
        return {"verdict": "no verdict", "sentence": "", "claims": []}
    checked = [(c, *c.check(statistics or {})) for c in claims]
    known = [held for _, held, _ in checked if held is not None]
    if len(known) < len(checked):
        verdict = "no verdict"
        head = "Too few seeds to say whether the paper's finding was reproduced"
    elif all(known):
        verdict, head = "reproduced", "Reproduced at this budget"
    elif any(known):
        verdict, head = "partly reproduced", "Partly reproduced at this budget"
    else:
        verdict, head = "not reproduced", "Not reproduced at this budget"
    sentence = f"{head}: " + "; ".join(text for _, _, text in checked) + "."
    return {
        "verdict": verdict,
        "sentence": sentence,
        "claims": [
            {"claim": c.words(), "held": held, "evidence": text} for c, held, text in checked
        ],
    }
