"""Separation of duties for fiscal money: which role holds which permission of the money flow.

The permissions are Django permissions declared on the models (``Policy.Meta.permissions``,
``Claim.Meta.permissions``); THIS table is the one place that grants them, by role. A role
table rather than Groups in the database: the grant is part of the control auditors check, so it
is code — reviewed, versioned and the same in every environment — and an administrator cannot
quietly add a finance user to the science desk's group. A superuser gets nothing here: the
admin site is not a way round the four eyes.

- 省级专班 (science desk, ``staff``): authors policies and reviews claims (初审).
- 财政专班 (finance desk, ``finance``): approves or rejects reviewed claims and marks them paid.

Who may take a step on a given claim (the maker is never its checker) is decided in
``subsidies.services`` (``_check_four_eyes``).
"""

from __future__ import annotations

from portal.models import Role

AUTHOR_POLICY = "subsidies.author_policy"
REVIEW_CLAIM = "subsidies.review_claim"
APPROVE_CLAIM = "subsidies.approve_claim"
PAY_CLAIM = "subsidies.pay_claim"

ROLE_DUTIES: dict[str, frozenset[str]] = {
    Role.STAFF: frozenset({AUTHOR_POLICY, REVIEW_CLAIM}),
    Role.FINANCE: frozenset({APPROVE_CLAIM, PAY_CLAIM}),
}


def duties_of(user) -> frozenset[str]:
    """The money-flow permissions ``user`` holds (none for an anonymous or inactive user)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    return ROLE_DUTIES.get(user.role, frozenset())


def holds(user, permission: str) -> bool:
    return permission in duties_of(user)


class RoleDutyBackend:
    """Authentication backend that answers ``user.has_perm("subsidies.approve_claim")`` from the
    role table above (it authenticates nobody), so templates and Django's own checks agree with
    the services."""

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return None

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        return set(duties_of(user_obj))

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        return perm in duties_of(user_obj)
