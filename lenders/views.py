"""The bank workspace: lead inbox, lead page, application review, products, pool, team, webhooks.

Views are thin: they scope with the selectors, validate with forms and call one service."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from enterprises.consent import ConsentPurpose
from enterprises.selectors import (
    document_for_user,
    enterprise_profile_for_bank,
    enterprise_summary,
    first_loan_firm_for,
)
from enterprises.services import profile_view_record
from matching.explain import match_explanation
from matching.models import Application
from matching.selectors import (
    application_for_user,
    application_loan,
    application_timeline,
    renewals_due_for_user,
)
from matching.services import leads as lead_services
from matching.services.lead_lifecycle import TRANSITIONS as LEAD_TRANSITIONS
from matching.services.lead_lifecycle import lead_actions, lead_notice
from matching.services.review import TRANSITIONS, allowed_actions, application_transition
from portal.access import ACT, bank_required, manager_required, role_required
from portal.models import Region, Role
from portal.money import UNIT_WAN, yuan_to_wan
from portal.reauth import reauth_redirect
from portal.selectors import transitions_for
from portal.services import ServiceError
from products import services as product_services
from products.forms import ProductForm
from products.models import Product

from . import exports
from . import services as lender_services
from .choices import DECLINE_REASON_CHOICES, decline_label
from .filtersets import ApplicationReviewFilterSet, LeadFilterSet, PoolCandidateFilterSet
from .forms import (
    ACTION_FORMS,
    ApiClientForm,
    ContactForm,
    DeclineForm,
    InviteForm,
    PeriodForm,
    PoolAddForm,
    ReassignForm,
    WebhookForm,
    action_params,
)
from .models import Institution
from .selectors import (
    api_client_for_user,
    application_review_list,
    colleagues_for,
    delivery_for_user,
    lead_for_user,
    lead_list,
    pool_candidates,
    pool_for_user,
    team_figures,
)

bank_or_staff_required = role_required(Role.OFFICER, Role.MANAGER, Role.STAFF)
PAGE_SIZE = 20
RENEWALS_SHOWN = 10  # the inbox shows the soonest renewals due; the dashboard list has them all


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _service_error(request, exc: ServiceError) -> None:
    """404 and 403 from a service become the HTTP answers; anything else a message on the page."""
    if exc.status == 404:
        raise Http404(exc.message)
    if exc.status == 403:
        raise PermissionDenied(exc.message)
    messages.error(request, exc.message)


def _products_of(user):
    if user.role == Role.STAFF:
        return Product.objects.none()
    return Product.objects.filter(institution_id=user.institution_id).order_by("name")


def _regions():

    return Region.objects.all()


# ------------------------------------------------------------------------------------------------
# Workspace and lead inbox
# ------------------------------------------------------------------------------------------------


@bank_required
def workspace(request):
    user = request.user
    leads = lead_list(user=user, filters={"status": "open"})
    context = {
        "branch": user.branch,
        "open_leads": leads[:10],
        "open_leads_count": leads.count(),
        "applications_count": application_for_user(user).filter(status__in=Application.OPEN_STATUSES).count(),
    }
    return render(request, "lenders/workspace.html", context)


@bank_or_staff_required
def lead_inbox(request):
    """The inbox: the leads, and above them the institution's loans coming up for renewal (续贷到期,
    the renewal radar's 60 days); renewal needs are a filter (``renewal=true``)."""
    filterset = LeadFilterSet(request.GET or None, queryset=lead_for_user(request.user))
    qs = lead_list(user=request.user, filters=request.GET)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filterset": filterset,
        "query": _query_without_page(request),
        "products": _products_of(request.user),
        "regions": _regions(),
        "renewals_due": renewals_due_for_user(request.user)[:RENEWALS_SHOWN],
    }
    return render(request, "lenders/lead_list.html", context)


@bank_or_staff_required
def lead_export(request):
    return exports.leads_xlsx(lead_list(user=request.user, filters=request.GET), user=request.user)


@bank_or_staff_required
def lead_detail(request, pk: int):
    lead = get_object_or_404(
        lead_for_user(request.user).annotate(
            is_first_loan_firm=first_loan_firm_for(request.user, purpose=ConsentPurpose.LEAD)
        ),
        pk=pk,
    )
    # A lead withdrawn by the firm (consent revoked, need closed) is no live business: 404.
    profile = enterprise_profile_for_bank(
        user=request.user, enterprise=lead.enterprise, purpose=ConsentPurpose.LEAD
    )
    profile_view_record(viewer=request.user, enterprise=lead.enterprise, purpose=ConsentPurpose.LEAD)
    lender_services.lead_mark_read(user=request.user, match=lead)
    user = request.user
    context = {
        "lead": lead,
        "profile": profile,
        "explained": match_explanation(lead, profile["groups"]),
        "timeline": transitions_for(lead),
        "can_act": user.is_bank,
        # What the lead table offers this user now (the template renders these, nothing else).
        "actions": _lead_action_forms(user, lead),
        "action_notice": lead_notice(lead, user),
        "decline_reason": decline_label(lead.decline_reason) if lead.decline_reason else "",
        "decline_reasons": DECLINE_REASON_CHOICES,
        "applications": application_for_user(user).filter(
            enterprise_id=lead.enterprise_id, product_id=lead.product_id
        ),
    }
    return render(request, "lenders/lead_detail.html", context)


#: How the lead page shows each action the lead table offers: heading, button, confirmation.
#: Presentation only — which actions appear is ``lead_actions`` (the table).
LEAD_ACTION_LOOK = {
    "claim": {
        "heading": "",
        "button": gettext_lazy("认领线索"),
        "button_class": "btn-primary w-100",
        "form_class": "mb-3",
    },
    "contact": {
        "heading": gettext_lazy("登记联系"),
        "button": gettext_lazy("保存联系记录"),
        "button_class": "btn-outline-primary",
        "form_class": "mb-3 border-bottom pb-3",
    },
    "invite": {
        "heading": gettext_lazy("邀请企业申请"),
        "button": gettext_lazy("发送邀请"),
        "button_class": "btn-success",
        "form_class": "mb-3 border-bottom pb-3",
    },
    "decline": {
        "heading": gettext_lazy("婉拒"),
        "button": gettext_lazy("婉拒"),
        "button_class": "btn-outline-danger",
        "form_class": "mb-3",
        "confirm": gettext_lazy("确定婉拒该线索吗？企业将看到婉拒原因，需求会推荐给下一家机构。"),
    },
    "reassign": {
        "heading": gettext_lazy("转派（管理者）"),
        "button": gettext_lazy("转派"),
        "button_class": "btn-outline-secondary",
        "form_class": "border-top pt-3",
    },
}


def _lead_action_forms(user, lead) -> list[dict]:
    """``lead_actions(lead, user)`` in the table's order, each with its form and its look."""
    offered = []
    for name in lead_actions(lead, user):
        form_class = LEAD_ACTIONS[name][0]
        if form_class is None:
            form = None
        elif form_class is ReassignForm:
            form = ReassignForm(officers=colleagues_for(user), auto_id=f"{name}_%s")
        else:
            form = form_class(auto_id=f"{name}_%s")
        offered.append(
            {
                "name": name,
                "label": LEAD_TRANSITIONS[name].label,
                "form": form,
                "confirm": "",
                **LEAD_ACTION_LOOK[name],
            }
        )
    return offered


LEAD_ACTIONS = {
    "claim": (None, lambda user, lead, data: lead_services.lead_claim(user=user, match=lead)),
    "contact": (
        ContactForm,
        lambda user, lead, data: lead_services.lead_contact(
            user=user, match=lead, channel=data["channel"], note=data["note"]
        ),
    ),
    "invite": (
        InviteForm,
        lambda user, lead, data: lead_services.lead_invite(user=user, match=lead, note=data["note"]),
    ),
    "decline": (
        DeclineForm,
        lambda user, lead, data: lead_services.lead_decline(
            user=user, match=lead, reason_code=data["reason_code"], note=data["note"]
        ),
    ),
    "reassign": (
        ReassignForm,
        lambda user, lead, data: lead_services.lead_reassign(
            user=user, match=lead, officer=data["officer"], note=data["note"]
        ),
    ),
}
LEAD_DONE = {
    "claim": _("已认领该线索，请在响应期限内联系企业。"),
    "contact": _("已登记联系记录。"),
    "invite": _("已邀请企业申请。"),
    "decline": _("已婉拒该线索，需求将推荐给下一家机构。"),
    "reassign": _("已转派该线索。"),
}


@require_POST
@bank_required
def lead_action(request, pk: int, action: str):
    if action not in LEAD_ACTIONS:
        raise Http404("action")
    lead = get_object_or_404(lead_for_user(request.user, ACT), pk=pk)
    if not request.user.is_bank:
        raise PermissionDenied(_("省级专班只能查看，不能处理线索。"))
    form_class, run = LEAD_ACTIONS[action]
    data = {}
    if form_class is not None:
        kwargs = {"officers": colleagues_for(request.user)} if form_class is ReassignForm else {}
        form = form_class(request.POST, **kwargs)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                messages.error(request, f"{label}：{'；'.join(errors)}" if label else "；".join(errors))
            return redirect("lenders:lead_detail", pk=pk)
        data = form.cleaned_data
    try:
        run(request.user, lead, data)
    except ServiceError as exc:
        _service_error(request, exc)
    else:
        messages.success(request, LEAD_DONE[action])
    return redirect("lenders:lead_detail", pk=pk)


# ------------------------------------------------------------------------------------------------
# Application review
# ------------------------------------------------------------------------------------------------


@bank_or_staff_required
def application_queue(request):
    filterset = ApplicationReviewFilterSet(request.GET or None, queryset=application_for_user(request.user))
    qs = application_review_list(user=request.user, filters=request.GET)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filterset": filterset,
        "query": _query_without_page(request),
        "products": _products_of(request.user),
        "regions": _regions(),
        "statuses": Application.Status.choices,
    }
    return render(request, "lenders/application_list.html", context)


@bank_or_staff_required
def application_export(request):
    return exports.applications_xlsx(
        application_review_list(user=request.user, filters=request.GET), user=request.user
    )


def _bank_view_or_summary(user, enterprise, purpose: str) -> dict:
    """The bank view of the firm for ``purpose``; only name, city and industry once the bank no
    longer has live business with the firm for it (a withdrawn lead or application kept in the
    history)."""
    try:
        return enterprise_profile_for_bank(user=user, enterprise=enterprise, purpose=purpose)
    except Http404:
        return enterprise_summary(enterprise, purpose=purpose)


def _application_context(request, application, forms_override=None):
    actions = allowed_actions(user=request.user, application=application)
    forms = {name: ACTION_FORMS[name](auto_id=f"{name}_%s") for name in actions}
    if "approve" in forms:
        forms["approve"] = ACTION_FORMS["approve"](
            auto_id="approve_%s",
            initial={
                "credit_line": yuan_to_wan(application.amount),
                "term_months": application.term_months,
                "annual_rate": application.product.rate_min,
            },
        )
    if "disburse" in forms and application.credit_line is not None:
        forms["disburse"] = ACTION_FORMS["disburse"](
            auto_id="disburse_%s",
            initial={
                "principal": yuan_to_wan(application.credit_line),
                "annual_rate": application.approved_rate,
            },
        )
    forms.update(forms_override or {})
    loan = application_loan(application)
    return {
        "application": application,
        "documents": document_for_user(request.user).filter(applications=application),
        "timeline": application_timeline(application),
        "actions": [(name, TRANSITIONS[name].label, forms[name]) for name in actions],
        "loan": loan,
        "repayments": loan.repayments.all() if loan else [],
        "profile": _bank_view_or_summary(request.user, application.enterprise, ConsentPurpose.APPLICATION),
        "applied": True,  # the firm applied: no "invite to apply" hint on this page
        "primary_actions": ("accept", "approve", "disburse", "repay"),
    }


@bank_or_staff_required
def application_detail(request, pk: int):
    application = get_object_or_404(
        application_for_user(request.user).annotate(
            is_first_loan_firm=first_loan_firm_for(request.user, purpose=ConsentPurpose.APPLICATION)
        ),
        pk=pk,
    )
    profile_view_record(
        viewer=request.user, enterprise=application.enterprise, purpose=ConsentPurpose.APPLICATION
    )
    return render(request, "lenders/application_detail.html", _application_context(request, application))


@require_POST
@bank_required
def application_action(request, pk: int):
    application = get_object_or_404(application_for_user(request.user, ACT), pk=pk)
    action = request.POST.get("action", "")
    if action not in ACTION_FORMS:
        messages.error(request, _("未知的操作。"))
        return redirect("lenders:application_detail", pk=pk)
    if not request.user.is_bank:
        raise PermissionDenied(_("省级专班只能查看，不能处理申请。"))
    if action == "approve" and (
        confirm := reauth_redirect(request, back=reverse("lenders:application_detail", args=[pk]))
    ):
        return confirm
    form = ACTION_FORMS[action](request.POST, auto_id=f"{action}_%s")
    status = 400
    if form.is_valid():
        try:
            application_transition(
                user=request.user,
                application=application,
                action=action,
                money_unit=UNIT_WAN,
                **action_params(form),
            )
        except ServiceError as exc:
            status = 409 if exc.status == 409 else 400
            if exc.status in (403, 404):
                _service_error(request, exc)
            if exc.field and exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                messages.error(request, exc.message)
        else:
            messages.success(request, _("已完成“%(label)s”。") % {"label": TRANSITIONS[action].label})
            return redirect("lenders:application_detail", pk=pk)
    application.refresh_from_db()
    context = _application_context(request, application, {action: form})
    context["open_action"] = action
    return render(request, "lenders/application_detail.html", context, status=status)


# ------------------------------------------------------------------------------------------------
# Products (manager writes, officers read)
# ------------------------------------------------------------------------------------------------


@bank_required
def product_manage_list(request):
    products = Product.objects.filter(institution_id=request.user.institution_id).order_by("status", "name")
    return render(request, "lenders/product_list.html", {"products": products})


def _product_form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@manager_required
def product_create(request):
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = product_services.product_create(
                user=request.user, criteria=form.criteria_fields(), **form.product_fields()
            )
        except ValidationError as exc:
            _product_form_errors(form, exc)
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("产品已保存为草稿，确认无误后可上架。"))
            return redirect("lenders:product_edit", pk=product.pk)
    return render(request, "lenders/product_form.html", {"form": form, "product": None})


@manager_required
def product_edit(request, pk: int):
    product = get_object_or_404(
        Product.objects.select_related("criteria"), pk=pk, institution_id=request.user.institution_id
    )
    form = ProductForm(request.POST or None, initial=ProductForm.initial_for(product))
    if request.method == "POST" and form.is_valid():
        try:
            product_services.product_update(
                user=request.user, product=product, criteria=form.criteria_fields(), **form.product_fields()
            )
        except ValidationError as exc:
            _product_form_errors(form, exc)
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("产品已更新。"))
            return redirect("lenders:product_manage_list")
    return render(request, "lenders/product_form.html", {"form": form, "product": product})


@require_POST
@bank_required
def product_status(request, pk: int, action: str):
    if not request.user.is_manager:
        raise PermissionDenied(_("只有银行管理者可以上架或下架产品。"))
    product = get_object_or_404(Product, pk=pk, institution_id=request.user.institution_id)
    run = {"publish": product_services.product_publish, "retire": product_services.product_retire}.get(action)
    if run is None:
        raise Http404("action")
    try:
        run(user=request.user, product=product)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except ServiceError as exc:
        _service_error(request, exc)
    else:
        messages.success(
            request, _("产品已上架，系统正在为其匹配企业需求。") if action == "publish" else _("产品已下架。")
        )
    return redirect("lenders:product_manage_list")


# ------------------------------------------------------------------------------------------------
# Incubation pool 培育库
# ------------------------------------------------------------------------------------------------


@bank_required
def pool_list(request):
    entries = pool_for_user(request.user).order_by("-created", "-id")
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    _attach_pool_profiles(request.user, [entry.enterprise for entry in page])
    return render(request, "lenders/pool_list.html", {"page": page, "query": ""})


def _attach_pool_profiles(user, enterprises) -> None:
    """Each firm shown on a pool page carries its bank view for the ``pool`` purpose."""
    for enterprise in enterprises:
        enterprise.bank_view = enterprise_profile_for_bank(
            user=user, enterprise=enterprise, purpose=ConsentPurpose.POOL, scoped=True
        )


@bank_required
def pool_browse(request):
    filterset = PoolCandidateFilterSet(request.GET or None, queryset=pool_candidates(user=request.user))
    qs = pool_candidates(user=request.user, filters=request.GET)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    _attach_pool_profiles(request.user, list(page))
    context = {
        "page": page,
        "filterset": filterset,
        "query": _query_without_page(request),
        "regions": _regions(),
        "form": PoolAddForm(),
    }
    return render(request, "lenders/pool_browse.html", context)


@require_POST
@bank_required
def pool_add(request, enterprise_pk: int):
    enterprise = get_object_or_404(pool_candidates(user=request.user), pk=enterprise_pk)
    form = PoolAddForm(request.POST)
    if form.is_valid():
        try:
            lender_services.pool_add(user=request.user, enterprise=enterprise, note=form.cleaned_data["note"])
        except ServiceError as exc:
            _service_error(request, exc)
        else:
            messages.success(request, _("已将 %(firm)s 加入培育库。") % {"firm": enterprise.name})
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("lenders:pool_list")


@require_POST
@bank_required
def pool_remove(request, pk: int):
    entry = get_object_or_404(pool_for_user(request.user, ACT), pk=pk)
    lender_services.pool_remove(user=request.user, entry=entry)
    messages.success(request, _("已移出培育库。"))
    return redirect("lenders:pool_list")


# ------------------------------------------------------------------------------------------------
# Team figures and webhooks (manager)
# ------------------------------------------------------------------------------------------------


@manager_required
def team(request):
    start, end = PeriodForm.default_period()
    form = PeriodForm(request.GET or None, initial={"start": start, "end": end})
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    figures = team_figures(user=request.user, start=start, end=end)
    codes = (
        "leads",
        "leads_answered_in_time_share",
        "median_response_hours",
        "applications",
        "approval_rate",
        "credit_granted",
        "loans_disbursed_amount",
    )
    return render(request, "lenders/team.html", {"form": form, "figures": figures, "kpi_codes": codes})


@manager_required
def webhook_settings(request):
    institution = get_object_or_404(Institution, pk=request.user.institution_id)
    form = WebhookForm(request.POST or None, initial={"url": institution.webhook_url})
    secret = None
    if request.method == "POST" and form.is_valid():
        had_secret = bool(institution.webhook_secret)
        try:
            institution = lender_services.webhook_settings_update(
                user=request.user, url=form.cleaned_data["url"]
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if institution.webhook_secret and not had_secret:
                secret = institution.webhook_secret
            messages.success(request, _("事件推送地址已保存。"))
            if secret is None:
                return redirect("lenders:webhook_settings")
    deliveries = delivery_for_user(request.user)
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "institution": institution, "secret": secret, "page": page, "query": ""}
    return render(request, "lenders/webhook.html", context)


@require_POST
@manager_required
def webhook_rotate(request):
    if confirm := reauth_redirect(request, back=reverse("lenders:webhook_settings")):
        return confirm
    secret = lender_services.webhook_secret_rotate(user=request.user)
    institution = get_object_or_404(Institution, pk=request.user.institution_id)
    page = Paginator(delivery_for_user(request.user), PAGE_SIZE).get_page(1)
    messages.warning(request, _("新的签名密钥只显示这一次，请立即保存到贵行系统中。"))
    context = {
        "form": WebhookForm(initial={"url": institution.webhook_url}),
        "institution": institution,
        "secret": secret,
        "page": page,
        "query": "",
    }
    return render(request, "lenders/webhook.html", context)


@require_POST
@manager_required
def webhook_replay(request, pk: int):
    delivery = get_object_or_404(delivery_for_user(request.user, ACT), pk=pk)
    try:
        lender_services.webhook_replay(user=request.user, delivery=delivery)
    except ServiceError as exc:
        _service_error(request, exc)
    else:
        messages.success(request, _("已重新推送该事件。"))
    return redirect("lenders:webhook_settings")


# ------------------------------------------------------------------------------------------------
# Machine clients (OAuth2 client credentials)
# ------------------------------------------------------------------------------------------------


@manager_required
def api_clients(request):
    """The institution's API clients; creating one needs a fresh password confirmation and shows
    the secret this once."""
    form = ApiClientForm(request.POST or None)
    created = secret = None
    if request.method == "POST":
        if confirm := reauth_redirect(request, back=reverse("lenders:api_clients")):
            return confirm
        if form.is_valid():
            try:
                created, secret = lender_services.api_client_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=form.expires_at(),
                )
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.warning(request, _("客户端密钥只显示这一次，请立即保存到贵行系统中。"))
                form = ApiClientForm()
    page = Paginator(api_client_for_user(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "created": created, "secret": secret, "page": page, "query": ""}
    return render(request, "lenders/api_clients.html", context)


@manager_required
def api_client_revoke(request, pk: int):
    """GET: the confirmation; POST: revoke (its tokens stop working at once)."""
    client = get_object_or_404(api_client_for_user(request.user, ACT), pk=pk)
    if request.method == "POST":
        lender_services.api_client_revoke(user=request.user, client=client)
        messages.success(request, _("接入客户端“%(name)s”已吊销。") % {"name": client.name})
        return redirect("lenders:api_clients")
    return render(request, "lenders/api_client_revoke.html", {"client": client})
