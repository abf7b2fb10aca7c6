"""Demo data of the matching service: ``seed_demo`` ends with a full match run, so that a new user
of ``make run`` sees suggestions for demo_firm and leads for demo_officer at once."""


from matching import tasks
from matching.models import MatchRun
from matching.services.dispatch import run_dispatch, start_full_run


def seed_matching() -> MatchRun:
    """Queue a full run (trigger 'seed'). It starts when the seed's transaction commits: eagerly
    in-process without Redis, on the worker with it. Eagerly it is also run right here, so that the
    bank history that follows finds its leads even inside an outer transaction (a test); the
    dispatch on commit then finds the run finished. Rerunning it gives the same matches."""
    run = start_full_run(trigger=MatchRun.Trigger.SEED)

    if tasks.run_start.app.conf.task_always_eager:
        run_dispatch(run_id=run.pk)
    run.refresh_from_db()
    return run
