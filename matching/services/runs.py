"""Matching runs: the upsert of matches, lead routing, response deadlines, withdrawal and escalation.

Contract functions called by the other apps (keep their names and signatures):
``enqueue_need_match``, ``enqueue_product_match``, ``start_full_run``, ``pass_need_to_next_product``.

How a run works
---------------
Every run — one need, one product, or everything — is a :class:`MatchRun` split into
:class:`MatchRunChunk` rows, each a list of need ids. A chunk is processed in ONE transaction:

1. lock its needs (PostgreSQL advisory locks, see :func:`_lock_needs`);
2. load the published products once (their engine facts, institution and routing), the chunk's
   needs with their firms' qualifications and IP in bulk (prefetch), and the existing matches of
   those needs (light columns only);
3. judge every need against the products with ``engine.Matcher``: it screens each pair with the
   engine's ``failed_count`` and evaluates only pairs that are eligible or near misses — the only
   pairs that are stored — working out each firm's own part of the score once;
4. write them: new (need, product) rows are copied straight into the table (PostgreSQL COPY),
   existing rows get one bulk upsert on (need, product) that refreshes the engine's verdict
   (score, reasons, missing …) and never touches what a bank did (status, officer, timestamps);
5. route new leads, withdraw matches that no longer hold, and mark the chunk done with a
   conditional UPDATE that adds its figures to the run (F() increments) only the first time.

Because of (4) and (5) a chunk can run any number of times (``acks_late``: a worker killed mid-chunk
rolls its transaction back and the message is redelivered) and the rows come out the same.

Two runs at once
----------------
The upsert alone would keep rows unique, but two runs reading different states of a need (before
and after the firm edited it) could commit in the "wrong" order and leave the older verdict. So a
chunk takes transaction-scoped advisory locks on the buckets of need ids it covers (64 ids a
bucket, taken in order, so two chunks never deadlock): two runs touching the same need are
serialised, and each one reads and writes that need's matches as a unit. A run cuts its chunks on
bucket boundaries, so its own chunks never wait for each other and run in parallel. SQLite (the
embedded demo, tasks run eagerly in one process) serialises writers by itself.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from enterprises.models import Enterprise, FinancingNeed
from lenders.models import Branch, Institution
from lenders.services import webhook_leads_created
from matching import engine
from matching.facts import city_names, firm_facts, need_facts, product_facts
from matching.models import Match, MatchRun, MatchRunChunk
from matching.services.lead_lifecycle import CLOSED_STATES as CLOSED_LEAD_STATES
from matching.services.lead_lifecycle import TRANSITIONS as LEAD_TRANSITIONS
from portal.api.caching import lists_changed
from portal.models import Role, User
from portal.services import NotAllowedError, ServiceError, notification_send, transition_record
from portal.workdays import add_working_days
from products.models import Product

logger = logging.getLogger(__name__)

#: Lead statuses in which a bank is still working the lead (a withdrawal closes them): the
#: sources of the lead table's ``withdraw``.
ACTIVE_LEAD_STATUSES = tuple(LEAD_TRANSITIONS["withdraw"].moves)

#: Columns the upsert refreshes on an existing (need, product) row: the engine's verdict only.
VERDICT_FIELDS = [
    "enterprise",
    "institution",
    "score",
    "reasons",
    "score_parts",
    "missing",
    "is_near_miss",
    "run",
    "updated_at",
]

_LOCK_NAMESPACE = 4_2026  # first key of the advisory locks taken by matching runs
_LOCK_BUCKET = 64  # need ids per advisory lock; chunks of a run are cut on these boundaries


# =============================================================================================
# Contract: enqueueing
# =============================================================================================


def enqueue_need_match(need) -> None:
    """After the caller's transaction commits, match this need against all published products."""
    run = MatchRun.objects.create(trigger=MatchRun.Trigger.NEED, need=need)
    _dispatch_on_commit(run.pk)


def enqueue_product_match(product) -> None:
    """After commit, match this product against all open needs of verified firms."""
    run = MatchRun.objects.create(trigger=MatchRun.Trigger.PRODUCT, product=product)
    _dispatch_on_commit(run.pk)


def start_full_run(*, trigger: str, user=None, chunk_size: int | None = None) -> MatchRun:
    """Queue a full run (every open need × every published product) and return its MatchRun.

    ``trigger`` is a :class:`MatchRun.Trigger` value ('manual', 'nightly', 'seed'); a manual run
    needs provincial staff. ``chunk_size`` (needs per chunk) defaults to ``settings.MATCH_CHUNK_SIZE``.
    """
    if trigger not in MatchRun.Trigger.values:
        raise ServiceError(f"未知的触发方式：{trigger}", field="trigger")
    if trigger == MatchRun.Trigger.MANUAL and (user is None or getattr(user, "role", None) != Role.STAFF):
        raise NotAllowedError("只有省级专班可以发起全量匹配")
    run = MatchRun.objects.create(trigger=trigger, created_by=user if user is not None and user.pk else None)
    _dispatch_on_commit(run.pk, chunk_size)
    return run


def _dispatch_on_commit(run_id: int, chunk_size: int | None = None) -> None:
    transaction.on_commit(lambda: _dispatch(run_id, chunk_size))


def _dispatch(run_id: int, chunk_size: int | None = None) -> bool:
    """Send the run to the broker, once, without retrying. When the broker is unreachable (Redis
    down) the caller's request must not fail: the run is marked failed with the reason, a warning is
    logged, and :func:`needs_sweep_unmatched` matches the need later. Returns True when sent."""
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    from matching import tasks

    if tasks.run_start.app.conf.task_always_eager:  # no broker: the run happens in this process
        if settings.MATCH_EAGER_BACKGROUND and MatchRun.objects.filter(
            pk=run_id, trigger=MatchRun.Trigger.MANUAL
        ).exists():
            _run_in_background(run_id, chunk_size or settings.MATCH_EAGER_CHUNK_SIZE)
        else:
            tasks.run_start.apply_async((run_id, chunk_size))
        return True
    try:
        tasks.run_start.apply_async((run_id, chunk_size), retry=False)
    except (OperationalError, RedisError, OSError) as exc:
        logger.warning("matching run %s not queued, broker unreachable: %s", run_id, exc)
        MatchRun.objects.filter(pk=run_id, status=MatchRun.Status.QUEUED).update(
            status=MatchRun.Status.PENDING_DISPATCH,
            error="消息队列暂不可用，任务待派发（定时补偿每分钟重试）。",
        )
        return False
    return True


def runs_dispatch_pending() -> int:
    """Send every run left "待派发" (pending dispatch) while the broker was down, oldest first; stop
    at the first that still cannot be sent. Each is claimed with a conditional UPDATE, so two sweeps
    never send one run twice. Returns the number sent."""
    sent = 0
    for run_id in (
        MatchRun.objects.filter(status=MatchRun.Status.PENDING_DISPATCH)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        if not MatchRun.objects.filter(pk=run_id, status=MatchRun.Status.PENDING_DISPATCH).update(
            status=MatchRun.Status.QUEUED, error=""
        ):
            continue
        if not _dispatch(run_id):
            break
        sent += 1
    return sent


def runs_alert_stalled(*, minutes: int | None = None) -> int:
    """Alert provincial staff, once per run, about each run that has made no progress (started,
    a chunk finished) for ``settings.MATCH_RUN_STALL_MINUTES``. Returns the number of runs alerted."""
    from django.db.models import Max
    from django.db.models.functions import Coalesce, Greatest

    minutes = minutes or settings.MATCH_RUN_STALL_MINUTES
    cutoff = timezone.now() - timedelta(minutes=minutes)
    stalled = list(
        MatchRun.objects.filter(
            status__in=(MatchRun.Status.PENDING_DISPATCH, MatchRun.Status.QUEUED, MatchRun.Status.RUNNING),
            stall_alerted_at__isnull=True,
        )
        .annotate(
            progressed=Greatest(
                "created_at",
                Coalesce("started_at", "created_at"),
                Coalesce(Max("chunks__finished_at"), "created_at"),
            )
        )
        .filter(progressed__lt=cutoff)
        .order_by("pk")
    )
    alerted = 0
    staff = list(User.objects.filter(role=Role.STAFF, is_active=True))
    for run in stalled:
        if not MatchRun.objects.filter(pk=run.pk, stall_alerted_at__isnull=True).update(
            stall_alerted_at=timezone.now()
        ):
            continue
        notification_send(
            users=staff,
            title=f"匹配任务 #{run.pk} 已停滞",
            body=(
                f"匹配任务 #{run.pk}（{run.get_trigger_display()}，{run.get_status_display()}）已超过 {minutes} "
                f"分钟没有进展（已完成分片 {run.chunks_done}/{run.total_chunks}），请检查消息队列和工作进程。"
            ),
            url="/matching/runs/",
        )
        alerted += 1
    if alerted:
        logger.error("matching: %s runs without progress for %s minutes, staff alerted", alerted, minutes)
    return alerted


# =============================================================================================
# Catching up: needs not matched since they last changed
# =============================================================================================

#: Triggers whose runs cover every open need (a need run covers only its own need).
FULL_TRIGGERS = (MatchRun.Trigger.NIGHTLY, MatchRun.Trigger.MANUAL, MatchRun.Trigger.SEED)


def needs_unmatched():
    """Open needs of verified firms that no successful run has matched since they last changed —
    THE rule of "not matched yet": a run counts when it succeeded and started (read its needs) at or
    after the need's ``updated_at``, and it is either this need's own run or a full run."""
    from django.db.models import Exists, OuterRef

    covering = MatchRun.objects.filter(
        status=MatchRun.Status.SUCCEEDED, started_at__gte=OuterRef("updated_at")
    )
    own = covering.filter(trigger=MatchRun.Trigger.NEED, need_id=OuterRef("pk"))
    full = covering.filter(trigger__in=FULL_TRIGGERS)
    return (
        FinancingNeed.objects.filter(
            status=FinancingNeed.Status.OPEN,
            enterprise__verification_status=Enterprise.Verification.VERIFIED,
        )
        .exclude(Exists(own))
        .exclude(Exists(full))
    )


def needs_sweep_unmatched(*, in_flight_minutes: int = 10) -> int:
    """Send the runs waiting "待派发" (:func:`runs_dispatch_pending`), then queue a need run for every
    need of :func:`needs_unmatched` that has no run waiting for dispatch, or queued or running since
    less than ``in_flight_minutes`` (those are on their way). Periodic (portal/celery.py, every
    minute) and idempotent: a need matched twice gets the same rows. Returns the number of runs sent."""
    from django.db.models import Exists, OuterRef

    since = timezone.now() - timedelta(minutes=in_flight_minutes)
    sent = runs_dispatch_pending()  # runs left waiting while the broker was down go first
    in_flight = MatchRun.objects.filter(
        Q(status__in=(MatchRun.Status.QUEUED, MatchRun.Status.RUNNING), created_at__gte=since)
        | Q(status=MatchRun.Status.PENDING_DISPATCH),
        trigger=MatchRun.Trigger.NEED,
        need_id=OuterRef("pk"),
    )
    queued = 0
    for need in needs_unmatched().exclude(Exists(in_flight)).order_by("pk").iterator():
        run = MatchRun.objects.create(trigger=MatchRun.Trigger.NEED, need=need)
        if not _dispatch(run.pk):
            break  # the broker is still down: the run waits "待派发" for the next sweep
        queued += 1
    if queued:
        logger.info("matching sweep queued %s need runs", queued)
    return sent + queued


# =============================================================================================
# Planning and progress
# =============================================================================================


def _run_in_background(run_id: int, chunk_size: int) -> threading.Thread:
    """No broker (the embedded demo): run a manual full run in a daemon thread of this process,
    its chunks one after the other (each its own transaction, so /matching/runs/ shows the progress),
    on the thread's own database connection, closed at the end. A failure marks the run failed."""
    from matching import tasks

    def work() -> None:
        try:
            tasks.run_start.apply_async((run_id, chunk_size))
        except Exception as exc:
            logger.exception("background matching run %s failed", run_id)
            run_fail(run_id=run_id, error=f"后台匹配失败：{exc}")
        finally:
            connection.close()

    thread = threading.Thread(target=work, name=f"matching-run-{run_id}", daemon=True)
    thread.start()
    return thread


def run_dispatch(*, run_id: int, chunk_size: int | None = None, queue: str | None = None) -> None:
    """Plan the run into chunks (once) and process the chunks not done yet: inline for a
    one-chunk run, else as a Celery chord whose callback closes the run. Safe to call twice.

    ``queue`` is where the chunk tasks go (the queue this dispatch came from; default routing
    when None)."""
    from celery import chord

    from matching import tasks

    run = MatchRun.objects.filter(pk=run_id).first()
    if run is None or run.status in (MatchRun.Status.SUCCEEDED, MatchRun.Status.FAILED):
        return
    _plan(run_id, chunk_size or settings.MATCH_CHUNK_SIZE)
    run.refresh_from_db()
    pending = list(run.chunks.filter(done=False).values_list("index", flat=True))
    options = {"queue": queue} if queue else {}
    if not pending:
        run_finish(run_id=run_id)
    elif run.total_chunks == 1:
        run_chunk_process(run_id=run_id, index=pending[0])
    else:
        header = [tasks.run_chunk.si(run_id, i).set(**options) for i in pending]
        chord(header)(tasks.run_finish.si(run_id=run_id).set(**options))


@transaction.atomic
def _plan(run_id: int, chunk_size: int) -> None:
    run = MatchRun.objects.select_for_update().get(pk=run_id)
    if run.status != MatchRun.Status.QUEUED:
        return  # planned already (a redelivered message)
    need_ids = _need_ids_for(run)
    size = max(1, chunk_size)
    chunks = _chunks(need_ids, size)
    MatchRunChunk.objects.bulk_create(
        [MatchRunChunk(run=run, index=i, need_ids=ids) for i, ids in enumerate(chunks)]
    )
    products = _published_products(run).count()
    run.status = MatchRun.Status.RUNNING
    run.started_at = timezone.now()
    run.total_chunks = len(chunks)
    run.pairs_total = len(need_ids) * products
    run.save(update_fields=["status", "started_at", "total_chunks", "pairs_total"])


def _chunks(need_ids: list[int], size: int) -> list[list[int]]:
    """Split sorted need ids into chunks of at least ``size`` ids, cut only where the advisory lock
    bucket changes (:func:`_lock_needs`), so that two chunks of one run never wait for each other."""
    chunks: list[list[int]] = []
    current: list[int] = []
    for need_id in need_ids:
        if len(current) >= size and need_id // _LOCK_BUCKET != current[-1] // _LOCK_BUCKET:
            chunks.append(current)
            current = []
        current.append(need_id)
    if current:
        chunks.append(current)
    return chunks


def _need_ids_for(run: MatchRun) -> list[int]:
    """The needs a run covers: those to match, plus those whose stored matches may no longer hold."""
    if run.trigger == MatchRun.Trigger.NEED:
        return [run.need_id] if run.need_id else []
    open_needs = FinancingNeed.objects.filter(status=FinancingNeed.Status.OPEN)
    stale = Match.objects.exclude(need__status=FinancingNeed.Status.OPEN)
    if run.trigger == MatchRun.Trigger.PRODUCT:
        if not run.product_id:
            return []
        open_needs = open_needs.filter(enterprise__verification_status=Enterprise.Verification.VERIFIED)
        stale = Match.objects.filter(product_id=run.product_id)
    ids = set(open_needs.values_list("pk", flat=True))
    ids.update(stale.values_list("need_id", flat=True).distinct())
    return sorted(ids)


def _published_products(run: MatchRun):
    qs = Product.objects.filter(status=Product.Status.PUBLISHED)
    if run.trigger == MatchRun.Trigger.PRODUCT:
        qs = qs.filter(pk=run.product_id)
    return qs


def run_finish(*, run_id: int) -> bool:
    """Close the run if every chunk is done (whoever gets there first: the chord callback or the
    last chunk). Returns True when this call closed it."""
    closed = MatchRun.objects.filter(
        pk=run_id, status=MatchRun.Status.RUNNING, chunks_done__gte=F("total_chunks")
    ).update(status=MatchRun.Status.SUCCEEDED, finished_at=timezone.now())
    if not closed:
        closed = MatchRun.objects.filter(pk=run_id, status=MatchRun.Status.QUEUED, total_chunks=0).update(
            status=MatchRun.Status.SUCCEEDED, started_at=timezone.now(), finished_at=timezone.now()
        )
    if closed:
        timings = [
            {"index": c["index"], "needs": len(c["need_ids"]), "seconds": round(c["seconds"] or 0, 3)}
            for c in MatchRunChunk.objects.filter(run_id=run_id)
            .order_by("index")
            .values("index", "need_ids", "seconds")
        ]
        MatchRun.objects.filter(pk=run_id).update(chunk_timings=timings)
    return bool(closed)


def run_fail(*, run_id: int, error: str) -> None:
    MatchRun.objects.filter(pk=run_id).exclude(status=MatchRun.Status.SUCCEEDED).update(
        status=MatchRun.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


# =============================================================================================
# One chunk
# =============================================================================================


@dataclass
class ChunkResult:
    pairs: int = 0
    matches: int = 0
    near_misses: int = 0
    leads: int = 0


def run_chunk_process(*, run_id: int, index: int) -> ChunkResult | None:
    """Match one chunk of a run and record its progress once. Safe to run twice."""
    chunk = MatchRunChunk.objects.select_related("run").filter(run_id=run_id, index=index).first()
    if chunk is None or chunk.done:
        return None
    MatchRunChunk.objects.filter(pk=chunk.pk).update(attempts=F("attempts") + 1)
    started = time.perf_counter()
    try:
        with transaction.atomic():
            result = match_needs(run=chunk.run, need_ids=chunk.need_ids)
            seconds = time.perf_counter() - started
            first = MatchRunChunk.objects.filter(pk=chunk.pk, done=False).update(
                done=True,
                pairs_evaluated=result.pairs,
                matches_count=result.matches,
                near_misses_count=result.near_misses,
                leads_count=result.leads,
                seconds=seconds,
                finished_at=timezone.now(),
            )
            if first:
                MatchRun.objects.filter(pk=run_id).update(
                    chunks_done=F("chunks_done") + 1,
                    pairs_evaluated=F("pairs_evaluated") + result.pairs,
                    matches_count=F("matches_count") + result.matches,
                    near_misses_count=F("near_misses_count") + result.near_misses,
                    leads_count=F("leads_count") + result.leads,
                )
    except Exception as exc:
        logger.exception("matching run %s chunk %s failed", run_id, index)
        run_fail(run_id=run_id, error=f"分片 {index}：{exc}")
        raise
    run_finish(run_id=run_id)
    return result


@contextmanager
def _gc_paused():
    """Pause Python's cyclic garbage collector while a chunk is matched (:func:`match_needs`). The
    chunk allocates millions of small, acyclic objects (criteria, score parts, rows) that it keeps
    until the write, and each automatic collection walks all of them again: about half the chunk's
    Python time. Reference counting still frees everything; the collector runs again afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@_gc_paused()
def match_needs(*, run: MatchRun, need_ids: list[int]) -> ChunkResult:
    """Match the given needs against the run's products and write the result (call inside a
    transaction). The heart of every run; see the module docstring."""
    result = ChunkResult()
    if not need_ids:
        return result
    _lock_needs(need_ids)
    now = timezone.now()
    today = timezone.localdate(now)
    threshold = settings.MATCH_LEAD_THRESHOLD
    product_run = run.trigger == MatchRun.Trigger.PRODUCT

    product_rows = list(_published_products(run).select_related("criteria", "institution").order_by("pk"))
    products = [(p.pk, p.institution_id) for p in product_rows]
    # Guarantee institutions' products are a referral after a collateral or credit-history decline
    # (matching.services.guarantee), never a first lead: the firm sees them as suggestions.
    referral_only = {p.pk for p in product_rows if p.institution.kind == Institution.Kind.GUARANTEE}
    matcher = engine.Matcher([product_facts(p) for p in product_rows], on=today, city_names=city_names())
    needs_qs = (
        FinancingNeed.objects.filter(pk__in=need_ids, status=FinancingNeed.Status.OPEN)
        .select_related("enterprise__city")
        .prefetch_related("enterprise__qualifications", "enterprise__ip_assets")
        .order_by("pk")
    )
    existing_qs = Match.objects.filter(need_id__in=need_ids)
    if product_run:
        existing_qs = existing_qs.filter(product_id=run.product_id)
    existing = {
        (row[1], row[2]): row
        for row in existing_qs.values_list(
            "pk", "need_id", "product_id", "status", "is_lead", "claimed_at", "first_response_at"
        )
    }
    router = BranchRouter.load()
    deadline = add_working_days(now, settings.LEAD_RESPONSE_WORKING_DAYS)

    rows: list[tuple] = []  # see _write
    eligible_keys: set[tuple[int, int]] = set()
    lead_keys: set[tuple[int, int]] = set()  # pairs that qualify as a lead now
    route_of: dict[tuple[int, int], int | None] = {}
    firm_cache: dict[int, engine.FirmFacts] = {}
    n_needs = 0
    first_bank = _renewal_first_institutions(need_ids)
    for need in needs_qs:
        n_needs += 1
        firm = need.enterprise
        ff = firm_cache.get(firm.pk)
        if ff is None:
            ff = firm_cache[firm.pk] = firm_facts(firm)
        verified = firm.verification_status == Enterprise.Verification.VERIFIED
        pairs = list(matcher.pairs(ff, need_facts(need)))
        held_for = _held_for(need.pk, first_bank.get(need.pk), pairs, products, threshold)
        for index, ev in pairs:
            product_id, institution_id = products[index]
            key = (need.pk, product_id)
            eligible = ev.eligible
            branch_id = None
            new_lead = False
            if eligible:
                result.matches += 1
                eligible_keys.add(key)
                if (
                    verified
                    and ev.score >= threshold
                    and held_for in (None, institution_id)
                    and product_id not in referral_only
                ):
                    lead_keys.add(key)
                    branch_id = route_of[key] = router.route(institution_id, ff.city, ff.city_parent)
                    new_lead = key not in existing  # a new lead: routed in the INSERT itself
            else:  # a near miss keeps the criteria it fails and the advice; never shown to a bank
                result.near_misses += 1
            rows.append(
                (
                    need.pk,
                    product_id,
                    firm.pk,
                    institution_id,
                    ev,
                    eligible,
                    new_lead,
                    branch_id if new_lead else None,
                )
            )
    result.pairs = n_needs * len(products)

    if rows:
        _write(rows, existing=existing.keys(), run_id=run.pk, now=now, deadline=deadline)
    new_leads: dict[int | None, int] = defaultdict(int)
    for key in lead_keys - existing.keys():
        new_leads[route_of[key]] += 1
    new_leads_count = len(lead_keys - existing.keys())

    # Existing rows: promote, demote, withdraw or delete, each with a conditional UPDATE that
    # leaves alone what a bank changed in the meantime.
    stored = {(r[0], r[1]) for r in rows}
    promote: dict[int | None, list[int]] = defaultdict(list)
    demote: list[int] = []
    withdraw: list[tuple[int, str]] = []
    delete: list[int] = []
    for key, (pk, _need, _product, status, is_lead, claimed_at, first_response_at) in existing.items():
        acted = is_lead and (
            status != Match.Status.SUGGESTED or claimed_at is not None or first_response_at is not None
        )
        holds = key in eligible_keys
        if key in lead_keys and not is_lead and status == Match.Status.SUGGESTED:
            promote[route_of[key]].append(pk)
        elif holds:
            continue
        elif acted:
            if status in ACTIVE_LEAD_STATUSES:
                withdraw.append((pk, status))
        elif key in stored:
            if is_lead:
                demote.append(pk)  # a lead nobody touched that became a near miss
        else:
            delete.append(pk)
    promoted: list[int] = []
    for branch_id, pks in promote.items():
        n = Match.objects.filter(pk__in=pks, is_lead=False, status=Match.Status.SUGGESTED).update(
            is_lead=True, branch_id=branch_id, routed_at=now, response_deadline=deadline
        )
        new_leads[branch_id] += n
        new_leads_count += n
        promoted.extend(pks)
    if promoted:
        webhook_leads_created(match_ids=promoted)
    if demote:
        Match.objects.filter(
            pk__in=demote,
            status=Match.Status.SUGGESTED,
            claimed_at__isnull=True,
            first_response_at__isnull=True,
        ).update(is_lead=False, branch=None, assigned_officer=None, routed_at=None, response_deadline=None)
    if delete:
        Match.objects.filter(pk__in=delete).filter(
            Q(is_lead=False)
            | Q(status=Match.Status.SUGGESTED, claimed_at__isnull=True, first_response_at__isnull=True)
        ).delete()
    if withdraw:
        _withdraw(withdraw, now)
    result.leads = new_leads_count
    _tell_branches(new_leads)
    lists_changed("matching.match")
    return result


def _renewal_first_institutions(need_ids: list[int]) -> dict[int, int]:
    from .loans import renewal_first_institutions

    return renewal_first_institutions(need_ids)


def _held_for(need_id: int, first_institution: int | None, pairs, products, threshold: int) -> int | None:
    """A renewal need is offered first to its loan's institution: while that institution has a lead
    on the need it has not declined (or let expire), or qualifies for one in this run, the other
    institutions' matches stay suggestions, not leads. Once it declines or lets the lead expire,
    ``pass_need_to_next_product`` hands the need to the next-ranked institution as for any need,
    and later runs route it normally. Returns the institution holding the need, or None."""
    if first_institution is None:
        return None
    closed = CLOSED_LEAD_STATES
    statuses = set(
        Match.objects.filter(need_id=need_id, institution_id=first_institution, is_lead=True).values_list(
            "status", flat=True
        )
    )
    if statuses & closed and not statuses - closed:
        return None  # the first institution said no: the need is open to all
    if statuses:
        return first_institution  # its lead still stands
    for index, ev in pairs:
        if products[index][1] == first_institution and ev.eligible and ev.score >= threshold:
            return first_institution
    return None


# A chunk's result rows: (need_id, product_id, enterprise_id, institution_id, evaluation, eligible,
# new_lead, branch_id). ``new_lead``: a pair not stored yet that qualifies as a lead — the INSERT
# routes it (branch, routed_at, response_deadline); an existing row's lead columns are never
# written here (promotion has its own conditional UPDATE).


def verdict(evaluation: engine.Evaluation, eligible: bool) -> tuple[list, list, list]:
    """What a match row stores of the engine's verdict: (reasons, score_parts, missing).

    An eligible pair keeps every criterion with its reason and the score's parts; a near miss keeps
    only the criteria it fails and the advice for each (never shown to a bank)."""
    if eligible:
        data = evaluation.as_dict()
        return data["criteria"], data["score_parts"], []
    return [c.as_dict() for c in evaluation.failed], [], engine.advice(evaluation)


class _VerdictJson:
    """:func:`verdict` as JSON text, for COPY: the same values as ``json.dumps(verdict(…))`` (a
    test checks), assembled from memoised fragments — a full run writes millions of rows whose
    criteria and score parts repeat."""

    def __init__(self) -> None:
        from json.encoder import encode_basestring  # the C encoder; ensure_ascii=False form

        self._q = encode_basestring
        self._criteria: dict[engine.CriterionResult, str] = {}
        self._parts: dict[engine.ScorePart, str] = {}

    def _criterion(self, c: engine.CriterionResult) -> str:
        text = self._criteria.get(c)
        if text is None:
            q = self._q
            met = "true" if c.met else "false"
            text = self._criteria[c] = (
                f'{{"code":{q(c.code)},"label":{q(c.label)},"met":{met},"reason":{q(c.reason)}}}'
            )
        return text

    def _part(self, p: engine.ScorePart) -> str:
        text = self._parts.get(p)
        if text is None:
            q = self._q
            text = self._parts[p] = (
                f'{{"code":{q(p.code)},"label":{q(p.label)},"points":{int(p.points)},'
                f'"max_points":{int(p.max_points)},"reason":{q(p.reason)}}}'
            )
        return text

    def columns(self, evaluation: engine.Evaluation, eligible: bool) -> tuple[str, str, str]:
        if eligible:
            reasons = "[" + ",".join(map(self._criterion, evaluation.criteria)) + "]"
            return reasons, "[" + ",".join(map(self._part, evaluation.score_parts)) + "]", "[]"
        reasons = "[" + ",".join(map(self._criterion, evaluation.failed)) + "]"
        return reasons, "[]", "[" + ",".join(map(self._q, engine.advice(evaluation))) + "]"


def _write(rows: list[tuple], *, existing, run_id: int, now: datetime, deadline: datetime) -> None:
    """Insert the new (need, product) rows and refresh the verdict of existing ones
    (VERDICT_FIELDS). Lead columns are written only when a row is inserted; status and everything a
    bank did are never touched. Rerunning over unchanged data writes nothing."""
    if connection.vendor == "postgresql":
        _write_postgresql(rows, existing=existing, run_id=run_id, now=now, deadline=deadline)
        return
    objects = []
    for need_id, product_id, enterprise_id, institution_id, ev, eligible, new_lead, branch_id in rows:
        reasons, parts, missing = verdict(ev, eligible)
        objects.append(
            Match(
                need_id=need_id,
                product_id=product_id,
                enterprise_id=enterprise_id,
                institution_id=institution_id,
                score=ev.score,
                reasons=reasons,
                score_parts=parts,
                missing=missing,
                is_near_miss=not eligible,
                is_lead=new_lead,
                branch_id=branch_id,
                routed_at=now if new_lead else None,
                response_deadline=deadline if new_lead else None,
                run_id=run_id,
                created_at=now,
            )
        )
    Match.objects.bulk_create(
        objects,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["need", "product"],
        update_fields=VERDICT_FIELDS,
    )


# The PostgreSQL path. New rows are copied straight into the match table: under the chunk's
# advisory locks (_lock_needs) no other writer adds rows for its needs, and only matching runs
# create match rows, so a pair missing from ``existing`` is missing from the table — and should
# that ever be wrong, the COPY fails on the unique constraint inside a savepoint and the chunk falls
# back to the upsert for every row. Existing rows go through a temporary table and one
# INSERT … ON CONFLICT DO UPDATE that refreshes the verdict columns only, and only where they changed.
_COLUMNS = "need_id, product_id, enterprise_id, institution_id, score, reasons, score_parts, missing, is_near_miss, is_lead, branch_id, routed_at, response_deadline"
_COPY_NEW_SQL = f"COPY matching_match ({_COLUMNS}, status, run_id, created_at, updated_at, decline_reason, decline_note) FROM STDIN"
_COPY_STAGE_SQL = f"COPY matching_match_stage ({_COLUMNS}) FROM STDIN"
_UPSERT_SQL = (
    "INSERT INTO matching_match AS m (need_id, product_id, enterprise_id, institution_id, score, reasons, score_parts, missing, is_near_miss, is_lead, branch_id, routed_at, response_deadline, status, run_id, created_at, updated_at, decline_reason, decline_note) "
    "SELECT need_id, product_id, enterprise_id, institution_id, score, reasons, score_parts, missing, is_near_miss, is_lead, branch_id, routed_at, response_deadline, %s, %s, %s, %s, '', '' "
    "FROM matching_match_stage ON CONFLICT (need_id, product_id) DO UPDATE SET "
    "enterprise_id = EXCLUDED.enterprise_id, institution_id = EXCLUDED.institution_id, score = EXCLUDED.score, reasons = EXCLUDED.reasons, score_parts = EXCLUDED.score_parts, missing = EXCLUDED.missing, is_near_miss = EXCLUDED.is_near_miss, run_id = EXCLUDED.run_id, updated_at = EXCLUDED.updated_at "
    "WHERE m.enterprise_id IS DISTINCT FROM EXCLUDED.enterprise_id OR m.institution_id IS DISTINCT FROM EXCLUDED.institution_id OR m.score IS DISTINCT FROM EXCLUDED.score OR m.reasons IS DISTINCT FROM EXCLUDED.reasons OR m.score_parts IS DISTINCT FROM EXCLUDED.score_parts OR m.missing IS DISTINCT FROM EXCLUDED.missing OR m.is_near_miss IS DISTINCT FROM EXCLUDED.is_near_miss"
)


_NULL = "\\N"  # NULL in COPY text format


def _copy_lines(rows, encoder: _VerdictJson, now_text: str, deadline_text: str, suffix: str):
    """The rows in PostgreSQL's COPY text format (columns as in ``_COLUMNS``, then ``suffix``)."""
    out = []
    append = out.append
    columns = encoder.columns
    for need_id, product_id, enterprise_id, institution_id, ev, eligible, new_lead, branch_id in rows:
        reasons, parts, missing = columns(ev, eligible)
        text = f"{reasons}\t{parts}\t{missing}"
        if "\\" in text:  # JSON escapes (\" …): COPY text format reads a backslash as an escape
            text = text.replace("\\", "\\\\")
        lead = (
            f"t\t{_NULL if branch_id is None else branch_id}\t{now_text}\t{deadline_text}"
            if new_lead
            else f"f\t{_NULL}\t{_NULL}\t{_NULL}"
        )
        append(
            f"{need_id}\t{product_id}\t{enterprise_id}\t{institution_id}\t{ev.score}\t{text}\t"
            f"{'f' if eligible else 't'}\t{lead}{suffix}\n"
        )
    return "".join(out)


def _write_postgresql(rows, *, existing, run_id: int, now: datetime, deadline: datetime) -> None:
    import io

    from django.db import IntegrityError
    from psycopg2 import IntegrityError as DriverIntegrityError  # copy_expert is not wrapped by Django

    encoder = _VerdictJson()
    now_text, deadline_text = now.isoformat(), deadline.isoformat()
    fresh = [r for r in rows if (r[0], r[1]) not in existing]
    known = [r for r in rows if (r[0], r[1]) in existing] if len(fresh) < len(rows) else []
    if fresh:
        suffix = f"\t{Match.Status.SUGGESTED}\t{run_id}\t{now_text}\t{now_text}\t\t"
        data = io.StringIO(_copy_lines(fresh, encoder, now_text, deadline_text, suffix))
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.copy_expert(_COPY_NEW_SQL, data)
        except (IntegrityError, DriverIntegrityError):  # a row appeared after all: upsert everything
            logger.warning("matching run %s: new rows already stored, upserting the chunk", run_id)
            known = rows
    if known:
        data = io.StringIO(_copy_lines(known, encoder, now_text, deadline_text, ""))
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS matching_match_stage ("
                "need_id bigint, product_id bigint, enterprise_id bigint, institution_id bigint, score smallint, "
                "reasons jsonb, score_parts jsonb, missing jsonb, is_near_miss boolean, is_lead boolean, "
                "branch_id bigint, routed_at timestamptz, response_deadline timestamptz) ON COMMIT DELETE ROWS"
            )
            cursor.copy_expert(_COPY_STAGE_SQL, data)
            cursor.execute(_UPSERT_SQL, [Match.Status.SUGGESTED, run_id, now, now])
            cursor.execute("TRUNCATE matching_match_stage")


def _withdraw(items: list[tuple[int, str]], now: datetime) -> None:
    """Close leads a bank already acted on that no longer hold: status 'withdrawn', row kept."""
    note = "匹配条件已不再满足（需求、企业资料或产品已变更），线索撤回"
    done = []
    for pk, status in items:
        if Match.objects.filter(pk=pk, status=status).update(
            status=LEAD_TRANSITIONS["withdraw"].target(status)
        ):
            done.append((pk, status))
    if not done:
        return
    matches = {m.pk: m for m in Match.objects.filter(pk__in=[pk for pk, _ in done]).select_related("product")}
    officers: dict[int, list[Match]] = defaultdict(list)
    for pk, status in done:
        match = matches[pk]
        transition_record(
            subject=match,
            from_state=status,
            to_state=LEAD_TRANSITIONS["withdraw"].target(status),
            actor=None,
            note=note,
        )
        if match.assigned_officer_id:
            officers[match.assigned_officer_id].append(match)
    for user in User.objects.filter(pk__in=officers.keys()):
        names = "、".join(sorted({m.product.name for m in officers[user.pk]}))
        notification_send(
            users=[user],
            title=f"{len(officers[user.pk])} 条线索已撤回",
            body=f"{names}：{note}。",
        )


def _tell_branches(new_leads: dict[int | None, int]) -> None:
    """One message per branch with new leads (not one per lead)."""
    branch_ids = [b for b, n in new_leads.items() if b is not None and n]
    if not branch_ids:
        return
    members: dict[int, list[User]] = defaultdict(list)
    for user in User.objects.filter(
        branch_id__in=branch_ids, role__in=[Role.OFFICER, Role.MANAGER], is_active=True, api_client__isnull=True
    ):
        members[user.branch_id].append(user)
    for branch_id, users in members.items():
        n = new_leads[branch_id]
        notification_send(
            users=users,
            title=f"新增 {n} 条匹配线索",
            body=f"匹配服务为本网点推送了 {n} 条新线索，请在首次响应期限内认领并联系企业。",
        )


def _lock_needs(need_ids: list[int]) -> None:
    """Serialise runs that touch the same needs (PostgreSQL advisory locks per bucket of need
    ids, held until the transaction ends; sorted so that two chunks never deadlock)."""
    if connection.vendor != "postgresql":
        return
    buckets = sorted({i // _LOCK_BUCKET for i in need_ids})
    with connection.cursor() as cursor:
        for bucket in buckets:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, bucket])


# =============================================================================================
# Routing and deadlines
# =============================================================================================


class BranchRouter:
    """Which branch of an institution receives a lead for a firm in a city:

    1. a branch of the institution in the firm's city — a sci-tech branch there first, then any
       other non-provincial branch there;
    2. for a firm in a zone (综改区 140171) whose institution has no branch in the zone: the same
       in the zone's parent city (太原市 140100);
    3. else the institution's sci-tech branch (the earliest created);
    4. else its provincial branch; else nobody (the institution's managers still see the lead).
    """

    def __init__(self, branches):
        self._by_institution: dict[int, list] = defaultdict(list)
        for b in branches:
            self._by_institution[b.institution_id].append(b)
        self._cache: dict[tuple, int | None] = {}

    @classmethod
    def load(cls) -> BranchRouter:
        return cls(
            Branch.objects.only("pk", "institution_id", "city_id", "is_scitech", "is_provincial", "name")
        )

    def route(self, institution_id: int, city: str, city_parent: str | None = None) -> int | None:
        key = (institution_id, city, city_parent)
        if key not in self._cache:
            self._cache[key] = self._route(institution_id, city, city_parent)
        return self._cache[key]

    def _route(self, institution_id: int, city: str, city_parent: str | None) -> int | None:
        branches = sorted(self._by_institution.get(institution_id, ()), key=lambda b: b.pk)
        for where in (city, city_parent):
            if where is None:
                continue
            local = [b for b in branches if b.city_id == where and not b.is_provincial]
            for b in local:
                if b.is_scitech:
                    return b.pk
            if local:
                return local[0].pk
        for b in branches:
            if b.is_scitech:
                return b.pk
        for b in branches:
            if b.is_provincial:
                return b.pk
        return None


# =============================================================================================
# Escalation and passing a need on
# =============================================================================================


def escalation_candidates(*, now: datetime | None = None):
    """The leads the escalation takes at ``now``: overdue (``Match.objects.overdue``, the one
    definition) and not escalated before."""
    return Match.objects.overdue(now or timezone.now()).filter(escalated_at__isnull=True)


def leads_escalate_overdue(*, now: datetime | None = None) -> int:
    """Mark leads past their first-response deadline 'expired' (``escalated_at`` set once), alert
    provincial staff, and pass each need on to the next-ranked product. Returns how many leads
    were escalated by this call; running it twice escalates each lead once."""
    now = now or timezone.now()
    candidates = list(escalation_candidates(now=now).values_list("pk", "status"))
    escalated = 0
    for pk, status in candidates:
        with transaction.atomic():
            claimed = Match.objects.filter(
                pk=pk, status=status, first_response_at__isnull=True, escalated_at__isnull=True
            ).update(status=LEAD_TRANSITIONS["expire"].target(status), escalated_at=now)
            if not claimed:
                continue  # answered or escalated meanwhile
            escalated += 1
            match = Match.objects.select_related("need", "product__institution", "enterprise", "branch").get(
                pk=pk
            )
            note = "超过首次响应期限未响应"
            transition_record(
                subject=match,
                from_state=status,
                to_state=LEAD_TRANSITIONS["expire"].target(status),
                actor=None,
                note=note,
            )
            deadline = timezone.localtime(match.response_deadline).strftime("%Y-%m-%d %H:%M")
            notification_send(
                users=User.objects.filter(role=Role.STAFF, is_active=True),
                title=f"线索超时：{match.enterprise.name} × {match.product.name}",
                body=(
                    f"{match.branch or match.product.institution} 未在 {deadline} 前响应"
                    f"{match.enterprise.name}的融资需求，已标记超时并转派下一家机构。"
                ),
                url=reverse("matching:runs"),
            )
            pass_need_to_next_product(match=match, actor=None, reason=note)
    return escalated


@transaction.atomic
def pass_need_to_next_product(*, match: Match, actor=None, reason: str) -> Match | None:
    """After a decline or an overdue lead: offer the need to the next-ranked institution's
    matching product — one new lead at a time, so the firm is never flooded with calls — and tell
    the firm. Returns the new lead, or None when no other institution has a matching product.

    The next product is the highest-scoring eligible match of the same need from an institution
    that has not yet had this need as a lead, for a verified firm and a still-published product.
    """
    need = FinancingNeed.objects.select_for_update().select_related("enterprise__city").get(pk=match.need_id)
    firm = need.enterprise
    if (
        need.status != FinancingNeed.Status.OPEN
        or firm.verification_status != Enterprise.Verification.VERIFIED
    ):
        return None
    tried = set(Match.objects.filter(need=need, is_lead=True).values_list("institution_id", flat=True))
    tried.add(match.institution_id)
    candidate = (
        Match.objects.filter(
            need=need,
            is_lead=False,
            is_near_miss=False,
            status=Match.Status.SUGGESTED,
            product__status=Product.Status.PUBLISHED,
        )
        .exclude(institution_id__in=tried)
        .exclude(product__institution__kind=Institution.Kind.GUARANTEE)  # a referral of its own
        .select_related("product__institution")
        .order_by("-score", "pk")
        .first()
    )
    previous = match.product.institution.short_name if match.product_id else ""
    firm_users = list(User.objects.filter(enterprise=firm, role=Role.FIRM, is_active=True))
    if candidate is None:
        notification_send(
            users=firm_users,
            title="融资需求暂无其他匹配机构",
            body=f"{previous}未能承接您的融资需求（{reason}），暂无其他机构的匹配产品。完善企业资料后系统会重新匹配。",
            url=reverse("matching:suggestions"),
        )
        return None
    now = timezone.now()
    city_parent = firm.city.parent_id if firm.city_id else None
    branch_id = BranchRouter.load().route(candidate.institution_id, firm.city_id, city_parent)
    updated = Match.objects.filter(pk=candidate.pk, is_lead=False, status=Match.Status.SUGGESTED).update(
        is_lead=True,
        branch_id=branch_id,
        routed_at=now,
        response_deadline=add_working_days(now, settings.LEAD_RESPONSE_WORKING_DAYS),
    )
    if not updated:
        return None
    candidate.refresh_from_db()
    transition_record(
        subject=candidate,
        from_state="",
        to_state=Match.Status.SUGGESTED,
        actor=actor,
        note=f"由匹配 #{match.pk}（{previous}）转派：{reason}",
        data={"from_match": match.pk},
    )
    _tell_branches({branch_id: 1})
    webhook_leads_created(match_ids=[candidate.pk])
    notification_send(
        users=firm_users,
        title=f"您的融资需求已推荐给{candidate.product.institution.short_name}",
        body=(
            f"{previous}未能承接您的融资需求（{reason}）。系统已将需求推荐给"
            f"{candidate.product.institution.short_name}的「{candidate.product.name}」，请留意对方联系。"
        ),
        url=reverse("matching:suggestions"),
    )
    return candidate
