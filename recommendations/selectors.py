"""Reads of recommended lists, scoped by the one access model, and the lists' funnel to loans.

Who sees what (``@access_rule``, once): provincial staff every list, to read and to act (build,
send); a bank's officers and managers the lists sent to their institution, to read and to answer;
nobody else (a region desk included: the lists are the province's, see the README). A bank reads
the firms of a list only through the one bank view (``enterprise_profile_for_bank``): name, city
and industry always, the score and the figures only with the firm's ``financials`` consent to its
institution.

``list_funnels`` is the one place the funnel (sent → contacted → granted → loans) is computed;
the detail page, the API and the dashboard all call it, its definitions are ``portal.kpi``'s.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Func, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate
from django.http import Http404

from enterprises.consent import ConsentPurpose, ProfileGroup
from enterprises.score import STAGE_GROUP_LABELS
from enterprises.selectors import enterprise_profile_for_bank, enterprise_summary
from lenders.models import Institution
from matching.models import Loan
from portal import kpi
from portal.access import VIEW, access_rule, restrict
from portal.models import BANK_ROLES, Region, Role
from portal.vocabulary import INDUSTRIES, STAGES

from .models import RecommendationEntry, RecommendationFeedback, RecommendationList, RecommendationRecipient

#: The consent purpose a recommended list is read under: like the bank's cultivation pool, it is
#: prospecting, not a case the firm opened.
PURPOSE = ConsentPurpose.POOL


@access_rule(RecommendationList)
def _list_rule(qs: QuerySet, user, action: str) -> QuerySet:
    if user.role == Role.STAFF:
        return qs
    if user.role in BANK_ROLES and user.institution_id:
        return qs.filter(
            status=RecommendationList.Status.SENT, recipients__institution_id=user.institution_id
        )
    return qs.none()


@access_rule(RecommendationFeedback)
def _feedback_rule(qs: QuerySet, user, action: str) -> QuerySet:
    if user.role == Role.STAFF:
        return qs if action == VIEW else qs.none()
    if user.role in BANK_ROLES and user.institution_id:
        return qs.filter(institution_id=user.institution_id)
    return qs.none()


def list_for_user(user, action: str = VIEW) -> QuerySet[RecommendationList]:
    return restrict(RecommendationList.objects.select_related("created_by"), user, action)


def list_get(user, pk: int, action: str = VIEW) -> RecommendationList:
    """The list ``pk`` if ``user`` may ``action`` it, else ``Http404`` (existence is not leaked)."""
    found = list_for_user(user, action).filter(pk=pk).first()
    if found is None:
        raise Http404("recommendation list")
    return found


def bank_lists(user) -> QuerySet[RecommendationRecipient]:
    """A bank's inbox: the recipient rows of its institution, newest first, with how many firms the
    list holds and how many its institution answered."""
    answered = (
        RecommendationFeedback.objects.filter(
            entry__list_id=OuterRef("list_id"), institution_id=OuterRef("institution_id")
        )
        .order_by()
        .values("institution_id")
        .annotate(c=Count("pk"))
        .values("c")
    )
    firms = (
        RecommendationEntry.objects.filter(list_id=OuterRef("list_id"))
        .order_by()
        .values("list_id")
        .annotate(c=Count("pk"))
        .values("c")
    )
    visible = list_for_user(user).values("pk")
    return (
        RecommendationRecipient.objects.filter(institution_id=user.institution_id, list_id__in=visible)
        .select_related("list")
        .annotate(
            firms=Coalesce(Subquery(firms, output_field=IntegerField()), Value(0)),
            answered=Coalesce(Subquery(answered, output_field=IntegerField()), Value(0)),
        )
        .order_by("-sent_at", "-id")
    )


def entries_of(rec_list: RecommendationList) -> QuerySet[RecommendationEntry]:
    return rec_list.entries.select_related("enterprise__city").order_by("-score", "enterprise__name", "id")


def entry_view(*, user, entry: RecommendationEntry) -> dict:
    """One firm of a list as ``user`` may see it. Staff: everything. A bank (the list is sent to its
    institution — the caller took ``entry`` from ``list_get``): the one bank view of the firm, with
    the score and the first-loan flag only when its ``financials`` group is consented."""
    firm = entry.enterprise
    if user.role == Role.STAFF:
        view = enterprise_summary(firm, purpose=PURPOSE)
        view.update(groups=sorted(ProfileGroup.values), restricted=False)
        financials = True
    else:
        view = enterprise_profile_for_bank(user=user, enterprise=firm, purpose=PURPOSE, scoped=True)
        financials = ProfileGroup.FINANCIALS in view["groups"]
    row = {
        "entry": entry.pk,
        "id": firm.pk,
        "name": view["name"],
        "city_name": view["city_name"],
        "industry_display": view["industry_display"],
        "groups": view["groups"],
        "financials": financials,
        "score": entry.score if financials else None,
        "first_loan": entry.first_loan if financials else None,
    }
    if financials:
        latest = firm.latest_figures  # staff read the firm itself; a bank's view carries these keys
        own = {
            "revenue_last_year": latest.revenue if latest else None,
            "rd_spend_last_year": latest.rd_spend if latest else None,
            "employees": latest.employees if latest else None,
            "rd_staff": latest.st_staff if latest else None,
        }
        for key, value in own.items():
            row[key] = view.get(key, value)
    return row


def feedback_by_entry(
    entries, *, institution_id: int | None = None
) -> dict[int, list[RecommendationFeedback]]:
    """``{entry id: [feedback]}`` for the entries given (one institution's answers when given)."""
    qs = RecommendationFeedback.objects.filter(entry__in=list(entries)).select_related(
        "institution", "answered_by"
    )
    if institution_id is not None:
        qs = qs.filter(institution_id=institution_id)
    out: dict[int, list] = defaultdict(list)
    for fb in qs:
        out[fb.entry_id].append(fb)
    return out


# ------------------------------------------------------------------------------------------------
# The funnel: sent → contacted → granted (count, amount) → loans disbursed by that institution to
# these firms on or after the day the list was sent (the loan's start date, as every loan figure)
# ------------------------------------------------------------------------------------------------

FUNNEL_FIELDS = ("sent", "answered", "contacted", "granted", "granted_amount", "loans", "loan_amount")


def _count(qs):
    """``COUNT(*)`` of ``qs`` as a correlated subquery (0 when none)."""
    counted = qs.order_by().annotate(c=Func(F("pk"), function="COUNT")).values("c")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _sum(qs, field_name: str):
    """``SUM(field)`` of ``qs`` as a correlated subquery (0 when none)."""
    money = DecimalField(max_digits=18, decimal_places=2)
    summed = qs.order_by().annotate(s=Func(F(field_name), function="SUM")).values("s")
    return Coalesce(Subquery(summed, output_field=money), Value(Decimal("0"), output_field=money))


def recipient_funnel_rows(recipients: QuerySet[RecommendationRecipient]) -> QuerySet[RecommendationRecipient]:
    """The recipients given, each annotated with its funnel (``FUNNEL_FIELDS``) — one query."""
    feedback = RecommendationFeedback.objects.filter(
        entry__list_id=OuterRef("list_id"), institution_id=OuterRef("institution_id")
    )
    contacted = feedback.filter(outcome__in=kpi.RECOMMENDATION_CONTACTED_OUTCOMES)
    granted = feedback.filter(outcome=kpi.RECOMMENDATION_GRANTED_OUTCOME)
    entries = RecommendationEntry.objects.filter(list_id=OuterRef("list_id"))
    loans = Loan.objects.filter(
        kpi.recommendation_loan_q(
            institution=OuterRef("institution_id"), list_id=OuterRef("list_id"), sent_on=OuterRef("sent_on")
        )
    )
    return (
        recipients.annotate(sent_on=TruncDate("sent_at"))
        .annotate(
            sent=_count(entries),
            answered=_count(feedback),
            contacted=_count(contacted),
            granted=_count(granted),
            granted_amount=_sum(granted, "amount"),
            loans=_count(loans),
            loan_amount=_sum(loans, "principal"),
        )
        .select_related("institution", "list")
        .order_by("-list__sent_at", "-list_id", "institution__short_name", "institution_id")
    )


def _totals(rows) -> dict:
    return {k: sum((getattr(r, k) if not isinstance(r, dict) else r[k]) for r in rows) for k in FUNNEL_FIELDS}


def list_funnels(
    *, user, lists: QuerySet[RecommendationList] | None = None, limit: int | None = None
) -> list[dict]:
    """``[{list, recipients: [row], totals}]``: each visible sent list's funnel per institution and
    in total. A bank sees only its institution's row. One query for all lists."""
    visible = list_for_user(user).filter(status=RecommendationList.Status.SENT)
    if lists is not None:
        visible = visible.filter(pk__in=lists.values("pk"))
    if limit is not None:
        visible = visible.order_by("-sent_at", "-id")[:limit]
    recipients = RecommendationRecipient.objects.filter(list_id__in=visible.values("pk"))
    if user.role in BANK_ROLES:
        recipients = recipients.filter(institution_id=user.institution_id)
    grouped: dict[int, dict] = {}
    for row in recipient_funnel_rows(recipients):
        item = grouped.setdefault(row.list_id, {"list": row.list, "recipients": []})
        item["recipients"].append(row)
    out = list(grouped.values())
    for item in out:
        item["totals"] = _totals(item["recipients"])
    return out


def list_funnel(*, user, rec_list: RecommendationList) -> dict | None:
    found = list_funnels(user=user, lists=RecommendationList.objects.filter(pk=rec_list.pk))
    return found[0] if found else None


def funnel_dict(row) -> dict:
    return {k: getattr(row, k) for k in FUNNEL_FIELDS}


def filter_lines(filters: dict) -> list[str]:
    """The list's filters in words, one line each (the detail page says how it was built)."""

    lines = ["只含已认证企业"]
    if filters.get("min_score") is not None:
        lines.append(f"科创积分不低于 {filters['min_score']}")
    stages = [STAGE_GROUP_LABELS.get(g, g) for g in filters.get("stage_groups") or []]
    stages += [STAGES.get(s, s) for s in filters.get("stages") or []]
    if stages:
        lines.append("发展阶段：" + "、".join(stages))
    if filters.get("cities"):
        names = dict(Region.objects.filter(pk__in=filters["cities"]).values_list("pk", "name"))
        lines.append("城市：" + "、".join(names.get(c, c) for c in filters["cities"]))
    if filters.get("industries"):
        lines.append("行业：" + "、".join(INDUSTRIES.get(i, i) for i in filters["industries"]))
    if filters.get("first_loan_only"):
        lines.append("只含首贷户")
    if filters.get("consenting_only"):
        names = Institution.objects.filter(pk__in=filters.get("consent_institutions") or []).order_by("name")
        lines.append("只含已授权以下机构查看资料的企业：" + "、".join(i.short_name for i in names))
    return lines


__all__ = [
    "PURPOSE",
    "bank_lists",
    "entries_of",
    "entry_view",
    "feedback_by_entry",
    "filter_lines",
    "list_for_user",
    "list_funnel",
    "list_funnels",
    "list_get",
    "recipient_funnel_rows",
]
