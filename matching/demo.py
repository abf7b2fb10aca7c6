"""Demo data of the matching service: ``seed_demo`` ends with a full match run, so that a new user
of ``make run`` sees suggestions for demo_firm and leads for demo_officer at once."""

from matching.models import MatchRun
from matching.services.runs import start_full_run


def seed_matching() -> MatchRun:
    """Queue a full run (trigger 'seed'). It starts when the seed's transaction commits: eagerly
    in-process without Redis, on the worker with it. Rerunning it gives the same matches."""
    return start_full_run(trigger=MatchRun.Trigger.SEED)
