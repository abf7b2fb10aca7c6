"""科创积分 service: computes the scores of :mod:`enterprises.score` from the database and stores them.

Who is scored. A cohort is every *verified* firm of one stage group (种子期/初创期, 成长期, 成熟期)
that reported at least one of the last three financial years (``AnnualFigures`` of the years
``as_of.year − 3 … as_of.year − 1``); its valid qualifications on ``as_of`` are counted into the
latest year (``qualifications_held``). An unverified firm, or one with no figures in those years,
is in no cohort and gets no score (its earlier current score, if any, stops being current).

What is stored. One :class:`InnovationScore` row per firm per computation, the newest one
``is_latest``; the history is kept. A firm whose result (group, total, percentile, cohort size,
parts and advice) is the same as its current row gets no new row, so the history lists changes
only: ``as_of`` is the day the current result was first computed, ``computed_at`` the last time a
recompute confirmed it. ``parts`` and ``advice`` are
stored as the API returns them: numbers as decimal strings (points and totals to 0.01, money in yuan
to 0.01, shares and growth rates as fractions to 0.0001, counts as whole numbers); the advice also
keeps the figure it names and the target value (``figure``, ``target``), which the API leaves out.

When. Nightly for every group (the ``enterprises.score_recompute`` beat entry, portal/celery.py),
and for the firm's group after a change that moves it — :func:`score_recompute_later`, called by the
services that verify a firm, change its qualifications or its annual figures.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from celery import current_app
from django.db import connection, transaction
from django.utils import timezone

from . import score as engine
from .models import AnnualFigures, Enterprise, InnovationScore, Qualification

logger = logging.getLogger(__name__)

#: How many financial years before the year of ``as_of`` are scored.
YEARS_SCORED = 3
_LOCK = (16_2026, 1)  # the advisory lock that serialises recomputes (matching uses 4_2026)
CENT = Decimal("0.01")
SHARE = Decimal("0.0001")


def scored_years(as_of: date) -> range:
    """The financial years a recompute on ``as_of`` reads: the three before ``as_of``'s year."""
    return range(as_of.year - YEARS_SCORED, as_of.year)


def stage_group(enterprise) -> str:
    return engine.STAGE_GROUPS.get(enterprise.stage, "early")


# ------------------------------------------------------------------------------------------------
# JSON as the API returns it
# ------------------------------------------------------------------------------------------------

_KINDS = {i.code: i.kind for i in engine.INDICATORS}


def _q(value: Decimal, step: Decimal) -> str:
    return str(Decimal(value).quantize(step, rounding=ROUND_HALF_UP))


def _value_json(code: str, value: Decimal | None) -> str | None:
    if value is None:
        return None
    kind = _KINDS[code]
    if kind == "money":
        return _q(value, CENT)
    if kind == "count":
        return str(int(value))
    return _q(value, SHARE)


def part_json(part: engine.Part) -> dict:
    return {
        "code": part.code,
        "label": part.label,
        "class": part.cls,
        "value": _value_json(part.code, part.value),
        "points": _q(part.points, CENT),
        "max_points": _q(part.max_points, CENT),
        "reason": part.reason,
    }


def advice_json(advice: engine.Advice) -> dict:
    target = advice.target
    return {
        "code": advice.code,
        "label": advice.label,
        "text": advice.text,
        "points_gain": _q(advice.points_gain, CENT),
        "figure": advice.figure,
        "target": _q(target, CENT) if engine.FIGURES[advice.figure][1] == "money" else str(int(target)),
    }


# ------------------------------------------------------------------------------------------------
# Building the cohorts
# ------------------------------------------------------------------------------------------------


def cohort_figures(*, as_of: date, groups: Iterable[str] | None = None) -> list[engine.FirmFigures]:
    """The firms to score on ``as_of`` (verified, of ``groups``, with figures in the scored years),
    each with its figures by year and its valid qualifications counted into the latest year.
    Three queries, whatever the number of firms."""
    wanted = set(groups) if groups is not None else set(engine.STAGE_GROUP_LABELS)
    stages = [s for s, g in engine.STAGE_GROUPS.items() if g in wanted]
    firms = dict(
        Enterprise.objects.filter(
            verification_status=Enterprise.Verification.VERIFIED, stage__in=stages
        ).values_list("pk", "stage")
    )
    years_wanted = scored_years(as_of)
    years: dict[int, dict[int, dict]] = {}
    rows = AnnualFigures.objects.filter(
        enterprise__verification_status=Enterprise.Verification.VERIFIED,
        enterprise__stage__in=stages,
        year__gte=years_wanted.start,
        year__lt=years_wanted.stop,
    ).values("enterprise_id", "year", *AnnualFigures.FIGURE_FIELDS)
    for row in rows:
        firm_id = row.pop("enterprise_id")
        if firm_id in firms:
            years.setdefault(firm_id, {})[row.pop("year")] = row
    held: dict[int, int] = {}
    quals = Qualification.objects.filter(enterprise_id__in=list(years), issued_on__lte=as_of).only(
        "enterprise_id", "kind", "issued_on", "expires_on"
    )
    for qual in quals:
        if qual.counts_on(as_of):
            held[qual.enterprise_id] = held.get(qual.enterprise_id, 0) + 1
    out = []
    for firm_id, by_year in years.items():
        by_year[max(by_year)]["qualifications_held"] = held.get(firm_id, 0)
        out.append(engine.FirmFigures(firm_id, firms[firm_id], by_year))
    return out


# ------------------------------------------------------------------------------------------------
# Recomputing and storing
# ------------------------------------------------------------------------------------------------

_SAME = ("stage_group", "total", "percentile", "cohort_size", "parts", "advice")


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(_LOCK))


def score_recompute(*, as_of: date | None = None, groups: Iterable[str] | None = None) -> dict:
    """Score every cohort of ``groups`` (all stage groups by default) as of ``as_of`` (today) and
    store one row per firm whose result changed, flipping ``is_latest`` in the same transaction.

    Returns counts: ``scored`` (firms in the cohorts), ``written`` (new rows), ``unchanged``,
    ``cleared`` (firms of these groups no longer scored: their current row stops being current)."""
    as_of = as_of or timezone.localdate()
    wanted = sorted(set(groups) if groups is not None else set(engine.STAGE_GROUP_LABELS))
    unknown = set(wanted) - set(engine.STAGE_GROUP_LABELS)
    if unknown:
        raise ValueError(f"unknown stage groups: {sorted(unknown)}")
    with transaction.atomic():
        _lock()  # one recompute at a time: two would both flip and both insert a latest row
        firms = cohort_figures(as_of=as_of, groups=wanted)
        scores = engine.score_cohort(firms)
        sizes: dict[str, int] = {}
        for s in scores.values():
            sizes[s.group] = sizes.get(s.group, 0) + 1
        current = {
            row["enterprise_id"]: row
            for row in InnovationScore.objects.filter(is_latest=True).values("pk", "enterprise_id", *_SAME)
        }
        now = timezone.now()
        new_rows, flip, same = [], [], []
        for firm_id, s in scores.items():
            fields = {
                "stage_group": s.group,
                "total": s.total.quantize(CENT),
                "percentile": s.percentile,
                "cohort_size": sizes[s.group],
                "parts": [part_json(p) for p in s.parts],
                "advice": [advice_json(a) for a in s.advice],
            }
            old = current.get(firm_id)
            if old is not None and all(old[k] == fields[k] for k in _SAME):
                same.append(old["pk"])
                continue
            if old is not None:
                flip.append(old["pk"])
            new_rows.append(
                InnovationScore(enterprise_id=firm_id, as_of=as_of, computed_at=now, is_latest=True, **fields)
            )
        gone = [
            row["pk"]
            for firm_id, row in current.items()
            if row["stage_group"] in wanted and firm_id not in scores
        ]
        if flip or gone:
            InnovationScore.objects.filter(pk__in=flip + gone).update(is_latest=False)
        InnovationScore.objects.bulk_create(new_rows, batch_size=1000)
        if same:  # checked again and still right: when it was last checked, not a new row
            InnovationScore.objects.filter(pk__in=same).update(computed_at=now)
    result = {
        "scored": len(scores),
        "written": len(new_rows),
        "unchanged": len(scores) - len(new_rows),
        "cleared": len(gone),
    }
    logger.info("innovation scores recomputed as of %s for %s: %s", as_of, ",".join(wanted), result)
    return result


# ------------------------------------------------------------------------------------------------
# Recomputing later (after the caller's transaction commits)
# ------------------------------------------------------------------------------------------------


def score_recompute_later(enterprise) -> None:
    """Ask for the firm's stage cohort to be re-scored after the current transaction commits.

    Calls in one transaction are coalesced into one task (one per set of groups); a rolled-back
    transaction asks for nothing. Without a broker (eager mode) the recompute runs in this process
    right after the commit; a failure is logged, never raised — the nightly recompute catches up."""
    score_groups_recompute_later([stage_group(enterprise)])


def score_groups_recompute_later(groups: Iterable[str]) -> None:
    groups = set(groups)
    conn = transaction.get_connection()
    if conn.in_atomic_block:
        for entry in conn.run_on_commit:
            pending = getattr(entry[1], "score_groups", None)
            if pending is not None and not entry[1].sent:
                pending.update(groups)
                return

    def send():
        send.sent = True  # a later call starts a new task (tests run callbacks inside one transaction)
        _enqueue(sorted(send.score_groups))

    send.score_groups = groups
    send.sent = False
    transaction.on_commit(send)


def _enqueue(groups: list[str]) -> None:
    # The task ``enterprises.score_recompute`` is looked up by name in the Celery app's registry
    # (``EnterprisesConfig.ready`` imports the task module): the task calls this module, so this
    # module never imports the tasks.
    try:
        current_app.tasks["enterprises.score_recompute"].apply_async(kwargs={"groups": groups}, retry=False)
    except Exception:  # a broker down or a failed eager run must not fail the firm's action
        logger.warning(
            "innovation score recompute of %s not run; the nightly run catches up", groups, exc_info=True
        )


__all__ = [
    "advice_json",
    "cohort_figures",
    "part_json",
    "score_groups_recompute_later",
    "score_recompute",
    "score_recompute_later",
    "scored_years",
    "stage_group",
]
