"""What the people and the systems of a bank hear about leads and applications: who at the bank is
told about an application, and the payloads of the webhook events (``lead.*``, ``application.*``)
that matching hands to the outbox (``lenders/outbox.py``), which records and delivers them.

The payloads go through the bank view of the firm (``enterprises.selectors``) for the event's
consent purpose: a bank's system receives what the institution's officers would see, nothing more."""

from __future__ import annotations

from enterprises.consent import ConsentPurpose
from enterprises.selectors import enterprise_profile_for_bank, enterprise_summary
from lenders.models import WebhookDelivery
from lenders.outbox import outbox_emit
from portal.models import Role, User

from ..explain import match_explanation
from ..models import Application, Match


def application_bank_users(application: Application) -> list[User]:
    """Who at the bank hears about a firm's application: the officer on its lead, else the lead's
    branch, else the institution's officers in the firm's city (or all its officers), plus managers."""
    institution_id = application.product.institution_id
    bank = User.objects.filter(branch__institution_id=institution_id, is_active=True, api_client__isnull=True)
    match = application.match
    if match is not None and match.assigned_officer_id:
        officers = bank.filter(pk=match.assigned_officer_id)
    elif match is not None and match.branch_id:
        officers = bank.filter(branch_id=match.branch_id, role=Role.OFFICER)
    else:
        officers = bank.filter(role=Role.OFFICER, branch__city_id=application.enterprise.city_id)
        if not officers.exists():
            officers = bank.filter(role=Role.OFFICER)
    managers = bank.filter(role=Role.MANAGER)
    seen, users = set(), []
    for u in [*officers, *managers]:
        if u.pk not in seen:
            seen.add(u.pk)
            users.append(u)
    return users


def lead_payload(match: Match, **extra) -> dict:
    """The JSON a bank's system receives about a lead (webhook ``lead.*`` events): the firm through
    the bank view for the ``lead`` purpose, the reasons through ``matching.explain`` — what the
    institution's officers would see on the lead page, nothing more."""
    view = enterprise_profile_for_bank(
        user=None,
        institution_id=match.institution_id,
        enterprise=match.enterprise,
        purpose=ConsentPurpose.LEAD,
        scoped=True,
    )
    return {
        "lead_id": match.pk,
        "status": match.status,
        "enterprise": view,
        **match_explanation(match, view["groups"]),
        "product": {"id": match.product_id, "name": match.product.name},
        "need_id": match.need_id,
        "score": match.score,
        "branch_id": match.branch_id,
        "assigned_officer": match.assigned_officer.username if match.assigned_officer_id else None,
        "response_deadline": match.response_deadline,
        "first_response_at": match.first_response_at,
        **extra,
    }


def webhook_leads_created(*, match_ids) -> int:
    """Emit ``lead.created`` for newly routed leads (call where leads are routed, inside the same
    transaction). One query when no institution concerned has a webhook URL. Returns the count."""
    leads = Match.objects.filter(pk__in=list(match_ids), is_lead=True).exclude(institution__webhook_url="")
    sent = 0
    for match in leads.select_related("institution", "enterprise", "product", "assigned_officer"):
        if outbox_emit(institution=match.institution, event="lead.created", payload=lead_payload(match)):
            sent += 1
    return sent


def webhook_application_event(
    *, application, action: str, from_state: str = "", note: str = "", **extra
) -> WebhookDelivery | None:
    """Emit ``application.<action>`` (submit, withdraw, accept … default) to the product's institution.
    The firm goes through the bank view for the ``application`` purpose (name, city and industry
    only once the application is withdrawn)."""
    if application.status == "withdrawn":
        firm = enterprise_summary(application.enterprise, purpose=ConsentPurpose.APPLICATION)
    else:
        firm = enterprise_profile_for_bank(
            user=None,
            institution_id=application.product.institution_id,
            enterprise=application.enterprise,
            purpose=ConsentPurpose.APPLICATION,
            scoped=True,
        )
    return outbox_emit(
        institution=application.product.institution_id,
        event=f"application.{action}",
        payload={
            "application_id": application.pk,
            "action": action,
            "from": from_state,
            "status": application.status,
            "enterprise": firm,
            "product": {"id": application.product_id, "name": application.product.name},
            "amount": application.amount,
            "term_months": application.term_months,
            "note": note,
            **extra,
        },
    )
