"""The lead lifecycle as one table, like the applications' (``review.TRANSITIONS``).

For each action: the states it leaves from and the state each goes to, the roles that may ask for
it, and — among those — who by who holds the lead (its ``assigned_officer``). The services in
``leads`` check it (each refusing with its own Chinese message), :func:`lead_actions` computes from
it what the lead page offers a user (the template only renders that list), and the periodic
escalation and a run's withdrawal take their source states from it.

    state       officer (holder)                  officer (not holder)   manager             staff / region desk
    suggested   claim, decline                    claim, decline         claim, decline,     —
                (nobody holds a suggested lead)                          reassign
    claimed     contact, invite, decline          —                      + reassign          —
    contacted   contact, invite, decline          —                      + reassign          —
    invited     contact                           —                      + reassign          —
    declined / expired / withdrawn: closed, no action.

A manager works any claimed lead of the institution as its holder would. Scope (which leads a user
reaches at all) is the one lead rule of ``portal.access``; this table never widens it.

Ground rule: imports nothing from ``leads`` or ``runs`` (both import it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import kpi
from portal.access import ACT, can
from portal.models import Role, User

from ..models import Match

S = Match.Status
BANK = frozenset({Role.OFFICER, Role.MANAGER})
MANAGER = frozenset({Role.MANAGER})
SYSTEM = frozenset()  # no user may ask for it: the escalation sweep, a run or the firm's withdrawal

# Who among the action's roles, by who holds the lead:
UNCLAIMED = "unclaimed"  # only while nobody holds it
HOLDER = "holder"  # its holder, or a manager; nobody while it is unclaimed ("请先认领该线索")
UNCLAIMED_OR_HOLDER = "unclaimed_or_holder"  # anyone while unclaimed, then the holder or a manager
ANYONE = "anyone"


@dataclass(frozen=True)
class LeadAction:
    label: object
    moves: Mapping[str, str]  # from state → to state
    refused: object = ""  # the 409 when the lead's state is not a source; ``%(status)s`` its label
    roles: frozenset = BANK
    holder: str = HOLDER

    def __post_init__(self):
        object.__setattr__(self, "moves", MappingProxyType(dict(self.moves)))

    @property
    def sources(self) -> frozenset:
        return frozenset(self.moves)

    def target(self, status: str) -> str:
        return self.moves[status]


def _stay(*states) -> dict[str, str]:
    return {s: s for s in states}


#: action → which states it leaves from and where each goes, who may do it.
TRANSITIONS: dict[str, LeadAction] = {
    "claim": LeadAction(
        gettext_lazy("认领线索"),
        {S.SUGGESTED: S.CLAIMED},
        gettext_lazy("该线索当前状态为“%(status)s”，不能认领。"),
        holder=UNCLAIMED,
    ),
    # Logging a contact: the first one moves a claimed lead to contacted (and stops the clock).
    "contact": LeadAction(
        gettext_lazy("登记联系"),
        {S.CLAIMED: S.CONTACTED, **_stay(S.CONTACTED, S.INVITED)},
        gettext_lazy("该线索当前状态为“%(status)s”，不能登记联系。"),
    ),
    "invite": LeadAction(
        gettext_lazy("邀请企业申请"),
        {S.CLAIMED: S.INVITED, S.CONTACTED: S.INVITED},
        gettext_lazy("该线索当前状态为“%(status)s”，不能邀请申请。"),
    ),
    # A decline of an unclaimed lead makes the decliner its holder.
    "decline": LeadAction(
        gettext_lazy("婉拒"),
        {S.SUGGESTED: S.DECLINED, S.CLAIMED: S.DECLINED, S.CONTACTED: S.DECLINED},
        gettext_lazy("该线索当前状态为“%(status)s”，不能婉拒。"),
        holder=UNCLAIMED_OR_HOLDER,
    ),
    # A manager hands the lead to an officer: an unclaimed lead becomes claimed by them.
    "reassign": LeadAction(
        gettext_lazy("转派"),
        {S.SUGGESTED: S.CLAIMED, **_stay(S.CLAIMED, S.CONTACTED, S.INVITED)},
        gettext_lazy("该线索当前状态为“%(status)s”，不能转派。"),
        roles=MANAGER,
        holder=ANYONE,
    ),
    # The escalation sweep: an overdue lead (``portal.kpi.lead_overdue``) expires.
    "expire": LeadAction(
        gettext_lazy("超时"),
        {s: S.EXPIRED for s in kpi.LEAD_AWAITING_RESPONSE},
        roles=SYSTEM,
        holder=ANYONE,
    ),
    # A run finds the pair no longer holds, or the firm withdraws its need or consent.
    "withdraw": LeadAction(
        gettext_lazy("撤回"),
        {s: S.WITHDRAWN for s in (S.SUGGESTED, S.CLAIMED, S.CONTACTED, S.INVITED)},
        roles=SYSTEM,
        holder=ANYONE,
    ),
}

#: States no user can act in any more.
CLOSED_STATES = frozenset(S.values) - frozenset().union(*(a.sources for a in TRANSITIONS.values() if a.roles))


def status_label(status: str) -> str:
    return str(S(status).label) if status in S.values else status


def holds(user: User, lead: Match) -> bool:
    """The user works this claimed lead: its holder, or a manager (any holder)."""
    return lead.assigned_officer_id is not None and (
        lead.assigned_officer_id == user.pk or user.role == Role.MANAGER
    )


def permits(action: str, *, user: User, lead: Match) -> bool:
    """The table allows ``user`` to take ``action`` on ``lead`` in its current state (the state,
    the role and the holder — not the scope, see :func:`lead_actions`)."""
    spec = TRANSITIONS[action]
    if lead.status not in spec.moves or not user.is_authenticated or user.role not in spec.roles:
        return False
    if spec.holder == UNCLAIMED:
        return lead.assigned_officer_id is None
    if spec.holder == HOLDER:
        return holds(user, lead)
    if spec.holder == UNCLAIMED_OR_HOLDER:
        return lead.assigned_officer_id is None or holds(user, lead)
    return True


def lead_actions(lead: Match, user: User) -> list[str]:
    """The actions ``user`` may take on ``lead`` now, in the table's order (for the lead page; the
    service re-checks). None outside the user's scope of action (staff and region desks read only)."""
    if not (user.is_authenticated and user.role in BANK and lead.is_lead and can(user, lead, ACT)):
        return []
    return [name for name in TRANSITIONS if permits(name, user=user, lead=lead)]


def lead_notice(lead: Match, user: User) -> str:
    """What the lead page says instead of an action: the lead is closed, or another officer holds it."""
    if lead.status in CLOSED_STATES:
        return _("该线索已结束，无需进一步处理。")
    if lead.status in TRANSITIONS["contact"].sources and not holds(user, lead):
        holder = lead.assigned_officer
        return _("该线索由 %(name)s 负责。") % {"name": holder.display_name if holder else ""}
    return ""
