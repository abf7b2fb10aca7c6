"""Evaluation and storage of matching runs: one chunk of needs judged against the published products
and written — the upsert of matches, the JSON of their verdicts, the advisory locks — with the
run's progress. The rest of a run lives beside it: ``dispatch`` (enqueueing, the sweep, chunk
planning), ``routing`` (which branch gets a lead, the response deadline's statuses) and
``escalation`` (overdue leads, passing a need on).

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
import io
import logging
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from json.encoder import encode_basestring  # the C encoder; ensure_ascii=False form

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from psycopg2 import IntegrityError as DriverIntegrityError  # copy_expert is not wrapped by Django

from enterprises.models import Enterprise, FinancingNeed
from lenders.models import Institution
from matching import engine
from matching.facts import city_names, firm_facts, firm_facts_prefetch, need_facts, product_facts
from matching.models import Match, MatchRun, MatchRunChunk
from matching.services.lead_lifecycle import CLOSED_STATES as CLOSED_LEAD_STATES
from matching.services.lead_lifecycle import TRANSITIONS as LEAD_TRANSITIONS
from portal.api.caching import lists_changed
from portal.models import User
from portal.services import notification_send, transition_record
from portal.workdays import add_working_days
from products.models import Product

from .events import webhook_leads_created
from .loans import renewal_first_institutions
from .routing import BranchRouter, _tell_branches

logger = logging.getLogger(__name__)

#: Lead statuses in which a bank is still working the lead (a withdrawal closes them).
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
# A run's products and its progress
# =============================================================================================


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
        .prefetch_related(*firm_facts_prefetch("enterprise__"))
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


def _lock_needs(need_ids: list[int]) -> None:
    """Serialise runs that touch the same needs (PostgreSQL advisory locks per bucket of need
    ids, held until the transaction ends; sorted so that two chunks never deadlock)."""
    if connection.vendor != "postgresql":
        return
    buckets = sorted({i // _LOCK_BUCKET for i in need_ids})
    with connection.cursor() as cursor:
        for bucket in buckets:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, bucket])
