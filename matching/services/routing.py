"""Routing and deadlines of leads: which branch of an institution receives a lead (:class:`BranchRouter`),
the message to a branch about its new leads, and the statuses in which a lead still waits for its
first response before the response deadline (``Match.response_deadline``, set when a lead is
routed: ``settings.LEAD_RESPONSE_WORKING_DAYS`` working days)."""

from __future__ import annotations

from collections import defaultdict

from lenders.models import Branch
from portal.models import Role, User
from portal.services import notification_send


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


def _tell_branches(new_leads: dict[int | None, int]) -> None:
    """One message per branch with new leads (not one per lead)."""
    branch_ids = [b for b, n in new_leads.items() if b is not None and n]
    if not branch_ids:
        return
    members: dict[int, list[User]] = defaultdict(list)
    for user in User.objects.filter(
        branch_id__in=branch_ids,
        role__in=[Role.OFFICER, Role.MANAGER],
        is_active=True,
        api_client__isnull=True,
    ):
        members[user.branch_id].append(user)
    for branch_id, users in members.items():
        n = new_leads[branch_id]
        notification_send(
            users=users,
            title=f"新增 {n} 条匹配线索",
            body=f"匹配服务为本网点推送了 {n} 条新线索，请在首次响应期限内认领并联系企业。",
        )
