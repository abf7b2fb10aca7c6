"""Dispatch of matching runs: enqueueing a run (one need, one product, or everything), sending it to
the broker (or running it in this process without one), the sweep that catches up needs not matched
since they last changed, resending the chunks of a stalled run, the stalled-run alert, and planning a run into chunks.

Contract functions called by the other apps (keep their names and signatures):
``enqueue_need_match``, ``enqueue_product_match``, ``start_full_run``. A chunk is processed by
``evaluation.run_chunk_process`` (how a run works: the docstring of ``matching.services.evaluation``).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from celery import chord, current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from enterprises.models import Enterprise, FinancingNeed
from matching.models import Match, MatchRun, MatchRunChunk
from portal.models import Role, User
from portal.services import NotAllowedError, ServiceError, notification_send

from .evaluation import _LOCK_BUCKET, _published_products, run_chunk_process, run_fail, run_finish

logger = logging.getLogger(__name__)


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


def need_changed_match(sender, *, need, **kwargs) -> None:
    """Receiver of ``enterprises.signals.need_changed`` (connected in ``MatchingConfig.ready``): the
    need is matched after commit."""
    enqueue_need_match(need)


def _task(name: str):
    """The Celery task ``matching.<name>`` of ``matching/tasks.py``, looked up by name in the Celery
    app's registry (``MatchingConfig.ready`` imports the task module) — the tasks call these
    services, so the services never import the tasks."""
    return current_app.tasks[f"matching.{name}"]


def _dispatch_on_commit(run_id: int, chunk_size: int | None = None) -> None:
    transaction.on_commit(lambda: _dispatch(run_id, chunk_size))


def _dispatch(run_id: int, chunk_size: int | None = None) -> bool:
    """Send the run to the broker, once, without retrying. When the broker is unreachable (Redis
    down) the caller's request must not fail: the run is marked failed with the reason, a warning is
    logged, and :func:`needs_sweep_unmatched` matches the need later. Returns True when sent."""
    run_start = _task("run_start")
    if run_start.app.conf.task_always_eager:  # no broker: the run happens in this process
        if (
            settings.MATCH_EAGER_BACKGROUND
            and MatchRun.objects.filter(pk=run_id, trigger=MatchRun.Trigger.MANUAL).exists()
        ):
            _run_in_background(run_id, chunk_size or settings.MATCH_EAGER_CHUNK_SIZE)
        else:
            run_start.apply_async((run_id, chunk_size))
        return True
    try:
        run_start.apply_async((run_id, chunk_size), retry=False)
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


def _progressed():
    """When a run last moved: created, started, a chunk finished, or its chunks were sent again."""
    return Greatest(
        "created_at",
        Coalesce("started_at", "created_at"),
        Coalesce(Max("chunks__finished_at"), "created_at"),
        Coalesce("resumed_at", "created_at"),
    )


def runs_resume_stalled(*, minutes: int | None = None, queue: str | None = None) -> int:
    """Send again the unfinished chunks of every running run without progress for
    ``settings.MATCH_RUN_RESUME_MINUTES`` — a chunk message lost with a killed worker would
    otherwise leave the run "运行中" for ever. Each run is claimed with a conditional UPDATE of
    ``resumed_at`` (which counts as progress), so two sweeps never resend one run and a run that
    still does not move is resent once per period, not every minute. A chunk done twice counts once
    (:func:`run_chunk_process`); the last chunk closes the run. Returns the number of runs resent."""
    minutes = settings.MATCH_RUN_RESUME_MINUTES if minutes is None else minutes
    cutoff = timezone.now() - timedelta(minutes=minutes)
    stalled = (
        MatchRun.objects.filter(
            Exists(MatchRunChunk.objects.filter(run=OuterRef("pk"), done=False)),
            status=MatchRun.Status.RUNNING,
        )
        .annotate(progressed=_progressed())
        .filter(progressed__lte=cutoff)
        .order_by("pk")
        .values_list("pk", "resumed_at")
    )
    options = {"queue": queue} if queue else {}
    resumed = 0
    for run_id, resumed_at in list(stalled):
        if not MatchRun.objects.filter(pk=run_id, resumed_at=resumed_at).update(resumed_at=timezone.now()):
            continue  # another sweep took it
        pending = MatchRunChunk.objects.filter(run_id=run_id, done=False).order_by("index")
        try:
            for index in pending.values_list("index", flat=True):
                _task("run_chunk").apply_async((run_id, index), **options)
        except (OperationalError, RedisError, OSError):
            logger.warning("matching run %s: the broker is unreachable, its chunks wait", run_id)
            MatchRun.objects.filter(pk=run_id).update(resumed_at=resumed_at)
            break
        logger.warning("matching run %s made no progress for %s minutes: unfinished chunks sent again", run_id, minutes)
        resumed += 1
    return resumed


def runs_alert_stalled(*, minutes: int | None = None) -> int:
    """Alert provincial staff, once per run, about each run that has made no progress (started,
    a chunk finished) for ``settings.MATCH_RUN_STALL_MINUTES``. Returns the number of runs alerted."""
    minutes = minutes or settings.MATCH_RUN_STALL_MINUTES
    cutoff = timezone.now() - timedelta(minutes=minutes)
    stalled = list(
        MatchRun.objects.filter(
            status__in=(MatchRun.Status.PENDING_DISPATCH, MatchRun.Status.QUEUED, MatchRun.Status.RUNNING),
            stall_alerted_at__isnull=True,
        )
        .annotate(progressed=_progressed())
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
# Planning
# =============================================================================================


def _run_in_background(run_id: int, chunk_size: int) -> threading.Thread:
    """No broker (the embedded demo): run a manual full run in a daemon thread of this process,
    its chunks one after the other (each its own transaction, so /matching/runs/ shows the progress),
    on the thread's own database connection, closed at the end. A failure marks the run failed."""

    def work() -> None:
        try:
            _task("run_start").apply_async((run_id, chunk_size))
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
        header = [_task("run_chunk").si(run_id, i).set(**options) for i in pending]
        chord(header)(_task("run_finish").si(run_id=run_id).set(**options))


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
