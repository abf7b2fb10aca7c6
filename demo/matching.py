"""Demo data of the matching service: ``seed_demo`` ends with a full match run, so that a new user
of ``make run`` sees suggestions for demo_firm and leads for demo_officer at once."""

import random
from datetime import date
from decimal import Decimal

from matching.models import MatchRun
from matching.services.dispatch import run_dispatch, start_full_run

#: The demo firms' 科创积分 when no score has been computed: demo_firm clears the 60 points of
#: 科创积分贷, demo_firm2 misses them by 5 (a near miss with its advice).
DEMO_SCORES = {"demo_firm": Decimal("72.50"), "demo_firm2": Decimal("55.00")}


def seed_demo_scores(*, today: date) -> int:
    """The 科创积分 that the demo's 科创积分贷 (``min_innovation_score`` 60) lends on, recorded only
    while no score exists at all — the scoring service (``enterprises.scoring``), once it seeds real
    scores, makes this a no-op. Verified firms get a current score (demo_firm and demo_firm2 the
    fixed :data:`DEMO_SCORES`, the others 30–92 points from their USCC), except every fourth
    synthetic one, which stays unscored (the "not scored yet" reason). Returns the rows made."""
    from enterprises.models import Enterprise, InnovationScore
    from enterprises.score import STAGE_GROUPS
    from portal.models import User

    if InnovationScore.objects.exists():
        return 0
    fixed = {
        enterprise_id: DEMO_SCORES[username]
        for username, enterprise_id in User.objects.filter(username__in=DEMO_SCORES).values_list(
            "username", "enterprise_id"
        )
    }
    rows = []
    firms = Enterprise.objects.filter(verification_status=Enterprise.Verification.VERIFIED).order_by("pk")
    for i, firm in enumerate(firms):
        total = fixed.get(firm.pk)
        if total is None:
            if i % 4 == 3:
                continue
            total = Decimal(random.Random(f"score:{firm.uscc}").randint(3000, 9200)) / 100
        rows.append(
            InnovationScore(
                enterprise=firm,
                as_of=today,
                stage_group=STAGE_GROUPS.get(firm.stage, "growth"),
                total=total,
                parts=[],
                advice=[],
                is_latest=True,
            )
        )
    InnovationScore.objects.bulk_create(rows)
    return len(rows)


def seed_matching() -> MatchRun:
    """Queue a full run (trigger 'seed'). It starts when the seed's transaction commits: eagerly
    in-process without Redis, on the worker with it. Eagerly it is also run right here, so that the
    bank history that follows finds its leads even inside an outer transaction (a test); the
    dispatch on commit then finds the run finished. Rerunning it gives the same matches."""
    run = start_full_run(trigger=MatchRun.Trigger.SEED)
    from matching import tasks

    if tasks.run_start.app.conf.task_always_eager:
        run_dispatch(run_id=run.pk)
    run.refresh_from_db()
    return run
