"""The public names of the matching run services as the one module ``runs`` had them before it was
split by responsibility — ``dispatch`` (enqueueing, the sweep, chunk planning), ``evaluation``
(one chunk judged and written), ``routing`` (branches, the statuses awaiting a first response) and
``escalation`` (overdue leads, passing a need on).

Kept only so that callers written before the split (work on other branches) still import; new code
imports from the modules themselves. Patching a name here (``mock.patch``) changes nothing: patch it
where it is defined."""

from .dispatch import (
    FULL_TRIGGERS,
    enqueue_need_match,
    enqueue_product_match,
    needs_sweep_unmatched,
    needs_unmatched,
    run_dispatch,
    runs_alert_stalled,
    runs_dispatch_pending,
    start_full_run,
)
from .escalation import escalation_candidates, leads_escalate_overdue, pass_need_to_next_product
from .evaluation import (
    ACTIVE_LEAD_STATUSES,
    VERDICT_FIELDS,
    ChunkResult,
    match_needs,
    run_chunk_process,
    run_fail,
    run_finish,
    verdict,
)
from .routing import BranchRouter

__all__ = [
    "ACTIVE_LEAD_STATUSES",
    "FULL_TRIGGERS",
    "VERDICT_FIELDS",
    "BranchRouter",
    "ChunkResult",
    "enqueue_need_match",
    "enqueue_product_match",
    "escalation_candidates",
    "leads_escalate_overdue",
    "match_needs",
    "needs_sweep_unmatched",
    "needs_unmatched",
    "pass_need_to_next_product",
    "run_chunk_process",
    "run_dispatch",
    "run_fail",
    "run_finish",
    "runs_alert_stalled",
    "runs_dispatch_pending",
    "start_full_run",
    "verdict",
]
