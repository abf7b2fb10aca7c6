"""What a viewer may read of a match's reasons and score parts: the one place that turns the
engine's stored text into what a bank without consent sees.

The engine's reasons quote the firm's figures ("上年营业收入 46,980.00万元", "成立于 2016-05-01",
"发明专利 3 件", "科创积分 72.5 分" — the 科创积分 is computed from the firm's annual figures, so it
reveals what ``financials`` does). Each criterion and score factor reveals one profile group (or none: the need and
the product are the bank's own business, city and industry are always visible). A viewer whose
``groups`` (from ``enterprises.selectors.enterprise_profile_for_bank``) lack that group gets a text
built from the code, the verdict and the points alone — never from the stored reason, so no firm
figure can leak through it. Unknown codes count as revealing a group (the safe side)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from enterprises.consent import ProfileGroup

from .engine import CRITERIA, SCORE_FACTORS

_HIDDEN = "?"  # an unknown code: treated as revealing a group no one outside the firm holds

#: Which profile group a hard criterion's reason reveals (None: nothing beyond name, city,
#: industry, the need and the product).
CRITERION_GROUP: dict[str, str | None] = {
    "city": None,
    "industry": None,
    "stage": ProfileGroup.BASIC,
    "qualification": ProfileGroup.QUALIFICATIONS,
    "revenue": ProfileGroup.FINANCIALS,
    "years": ProfileGroup.BASIC,
    "export": ProfileGroup.FINANCIALS,
    "invention_patents": ProfileGroup.IP,
    "innovation_score": ProfileGroup.FINANCIALS,  # the 科创积分 is built from the firm's figures
    "amount": None,
    "term": None,
    "revenue_share": ProfileGroup.FINANCIALS,
    "guarantee": None,
    "rate": None,
}

#: Which profile group a score factor's reason reveals.
SCORE_GROUP: dict[str, str | None] = {
    "amount_fit": None,
    "rate_headroom": None,
    "rd_intensity": ProfileGroup.FINANCIALS,
    "ip_strength": ProfileGroup.IP,
    "qualification_strength": ProfileGroup.QUALIFICATIONS,
    "stage_fit": ProfileGroup.BASIC,
    "innovation_score": ProfileGroup.FINANCIALS,
}

# Every criterion and score factor of the engine says which group its reason reveals: a new one
# without an entry would otherwise fall back to generic text silently.
if CRITERION_GROUP.keys() != CRITERIA.keys() or SCORE_GROUP.keys() != SCORE_FACTORS.keys():
    raise ImportError("matching.explain: CRITERION_GROUP / SCORE_GROUP do not cover the engine's codes")


def grade(points: int, max_points: int) -> str:
    """A word for a score part's share of its maximum: 优秀 ≥ 90 %, 良好 ≥ 60 %, 一般 ≥ 30 %, else 较弱."""
    if max_points <= 0:
        return _("不适用")
    if points * 10 >= max_points * 9:
        return _("优秀")
    if points * 10 >= max_points * 6:
        return _("良好")
    if points * 10 >= max_points * 3:
        return _("一般")
    return _("较弱")


def generic_criterion(code: str, met: bool) -> dict:
    """A criterion as a viewer without consent reads it: its label and verdict only."""
    label = CRITERIA.get(code, _("其他条件"))
    text = _("%(label)s满足产品要求") if met else _("%(label)s不满足产品要求")
    return {
        "code": code,
        "label": label,
        "met": bool(met),
        "reason": text % {"label": label},
        "generic": True,
    }


def generic_score_part(code: str, points: int, max_points: int) -> dict:
    """A score part as a viewer without consent reads it: label, grade and points only."""
    label = SCORE_FACTORS.get(code, _("其他因素"))
    text = _("%(label)s：%(grade)s（%(points)s/%(max)s）") % {
        "label": label,
        "grade": grade(points, max_points),
        "points": points,
        "max": max_points,
    }
    return {
        "code": code,
        "label": label,
        "points": int(points),
        "max_points": int(max_points),
        "reason": text,
        "generic": True,
    }


def explain(*, reasons: Iterable[dict], score_parts: Iterable[dict], groups: Iterable[str]) -> dict:
    """The reasons and score parts a viewer who may see the profile ``groups`` reads: the stored
    text where the viewer holds the group it reveals, else the generic text."""
    held = frozenset(groups)

    def visible(group: str | None) -> bool:
        return group is None or group in held

    out_reasons = [
        dict(r)
        if visible(CRITERION_GROUP.get(r.get("code"), _HIDDEN))
        else generic_criterion(r.get("code", ""), r.get("met", False))
        for r in reasons or ()
    ]
    out_parts = [
        dict(p)
        if visible(SCORE_GROUP.get(p.get("code"), _HIDDEN))
        else generic_score_part(p.get("code", ""), p.get("points", 0), p.get("max_points", 0))
        for p in score_parts or ()
    ]
    return {"reasons": out_reasons, "score_parts": out_parts}


def match_explanation(match, groups: Iterable[str]) -> dict:
    """``explain`` for one stored Match."""
    return explain(reasons=match.reasons, score_parts=match.score_parts, groups=groups)


def reasons_text(explained: dict) -> str:
    """The explained reasons and score parts as one line per item (exports)."""
    lines = [f"{r['label']}：{r['reason']}" for r in explained["reasons"]]
    lines += [
        r["reason"] if r.get("generic") else f"{r['label']} +{r['points']}/{r['max_points']}：{r['reason']}"
        for r in explained["score_parts"]
    ]
    return "\n".join(lines)
