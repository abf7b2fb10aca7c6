"""The firm workspace: registration, profile, needs, applications, consent; staff verification.

Views are thin: they parse a form, call one service or selector and render. A ServiceError
with a ``field`` becomes that form field's error (nothing is saved)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lenders.choices import GUARANTEE_ROUTE_CODES
from lenders.models import Institution
from matching.models import Application
from matching.selectors import application_for_user, application_loan, application_timeline, match_for_user
from matching.services.applications import application_offer_accept, application_submit, application_withdraw
from matching.services.guarantee import guarantee_route, guarantee_route_due_among
from portal.access import ACT, firm_required, government_required
from portal.models import Region
from portal.money import UNIT_WAN, format_wan
from portal.services import ServiceError
from products.selectors import product_for_user

from . import services
from . import uscc as uscc_rules
from .consent import ConsentPurpose, ProfileGroup, group_rows, one_year_after
from .forms import (
    AnnualFiguresForm,
    ApplicationForm,
    ConsentGrantForm,
    DocumentForm,
    EnterpriseForm,
    IPAssetForm,
    NeedForm,
    QualificationForm,
    RegisterForm,
    ShareProfileForm,
)
from .models import ANNUAL_FIGURES, Enterprise, FinancingNeed, financial_years
from .selectors import (
    consent_overview,
    consent_switch,
    document_for_user,
    enterprise_for_user,
    first_loan_firm_for,
    identity_change_for_user,
    identity_changes_pending,
    ip_asset_for_user,
    need_choices_for_product,
    need_for_user,
    pending_enterprises,
    product_eligibility,
    profile_completeness,
    profile_views_collapsed,
    qualification_for_user,
    qualification_status,
)

PAGE_SIZE = 20


def _form_error(form, exc: ServiceError) -> None:
    """Attach a service's refusal to the form: on its field when the form has it, else on the form."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def _my_enterprise(request) -> Enterprise:
    return get_object_or_404(enterprise_for_user(request.user), pk=request.user.enterprise_id)


# ------------------------------------------------------------------------------------------------
# Registration (public)
# ------------------------------------------------------------------------------------------------


def register(request):
    if request.user.is_authenticated:
        return redirect("portal:landing")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.firm_register(
                username=data["username"],
                password=data["password"],
                mobile=data["mobile"],
                email=data.get("email") or "",
                enterprise={
                    "name": data["name"],
                    "uscc": data["uscc"],
                    "legal_representative": data["legal_representative"],
                    "city": data["city"],
                },
                shares_profile=data["shares_profile"],
            )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request, _("注册成功。企业信息待省级专班审核，您现在可以完善资料、发布融资需求。")
            )
            return redirect("enterprises:profile")
    return render(request, "enterprises/register.html", {"form": form})


# ------------------------------------------------------------------------------------------------
# Workspace and profile
# ------------------------------------------------------------------------------------------------


@firm_required
def workspace(request):
    enterprise = _my_enterprise(request)
    context = {
        "enterprise": enterprise,
        "needs": need_for_user(request.user).filter(status="open")[:5],
        "suggestions": match_for_user(request.user)
        .filter(is_near_miss=False)
        .exclude(status="withdrawn")
        .order_by("-score")[:5],
        "applications": application_for_user(request.user)[:5],
        "completeness": profile_completeness(enterprise),
    }
    return render(request, "enterprises/workspace.html", context)


@firm_required
def profile(request):
    enterprise = _my_enterprise(request)
    form = EnterpriseForm(request.POST or None, instance=enterprise)
    if request.method == "POST" and form.is_valid():
        try:
            services.enterprise_update(
                user=request.user,
                enterprise=Enterprise.objects.get(pk=enterprise.pk),
                **{k: form.cleaned_data[k] for k in EnterpriseForm.Meta.fields},
            )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("企业资料已保存。"))
            if enterprise.is_verified and Enterprise.objects.get(pk=enterprise.pk).identity_change_pending():
                messages.info(
                    request, _("名称、法定代表人或所在城市的变更已提交省级专班审核，批准前仍显示原认证信息。")
                )
            return redirect("enterprises:profile")
    return _profile_page(request, form=form)


def _figure_forms(enterprise: Enterprise, data=None) -> list[AnnualFiguresForm]:
    """One form per financial year the firm records (newest first), filled with its rows."""
    rows = {r.year: r for r in enterprise.annual_figures.all()}
    return [
        AnnualFiguresForm(data, year=year, initial=AnnualFiguresForm.initial_from(rows.get(year)))
        for year in financial_years()
    ]


def _profile_page(request, *, form=None, figure_forms=None):
    enterprise = get_object_or_404(
        Enterprise.objects.select_related("city").prefetch_related(ANNUAL_FIGURES),
        pk=request.user.enterprise_id,
    )
    today = timezone.localdate()
    quals = [(q, qualification_status(q, on=today)) for q in qualification_for_user(request.user)]
    context = {
        "enterprise": enterprise,
        "form": form or EnterpriseForm(instance=enterprise),
        "figure_forms": figure_forms or _figure_forms(enterprise),
        "qualifications": quals,
        "qualification_form": QualificationForm(),
        "ip_assets": ip_asset_for_user(request.user),
        "ip_form": IPAssetForm(),
        "documents": document_for_user(request.user),
        "document_form": DocumentForm(),
        "completeness": profile_completeness(enterprise),
    }
    return render(request, "enterprises/profile.html", context)


@firm_required
def profile_figures(request):
    """The profile's 年度经营数据: the last three financial years in one form. All years are saved
    or none (a refusal is shown on its year's field); a year left blank that has no row stays so."""
    if request.method != "POST":
        return redirect(reverse("enterprises:profile") + "#figures")
    enterprise = _my_enterprise(request)
    forms = _figure_forms(enterprise, request.POST)
    if all(form.is_valid() for form in forms):
        recorded = set(enterprise.annual_figures.values_list("year", flat=True))
        failed = None
        try:
            with transaction.atomic():
                for form in forms:
                    failed = form
                    if form.year not in recorded and form.is_blank():
                        continue
                    services.annual_figures_save(
                        enterprise=enterprise, year=form.year, data=form.cleaned_data, by=request.user
                    )
        except ServiceError as exc:
            _form_error(failed, exc)
        else:
            messages.success(request, _("年度经营数据已保存。"))
            return redirect(reverse("enterprises:profile") + "#figures")
    return _profile_page(request, figure_forms=forms)


@firm_required
def qualification_add(request):
    enterprise = _my_enterprise(request)
    form = QualificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.qualification_create(user=request.user, enterprise=enterprise, **form.cleaned_data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("资质已登记。"))
            return redirect(reverse("enterprises:profile") + "#qualifications")
    return render(request, "enterprises/item_form.html", {"form": form, "title": _("登记资质")})


@require_POST
@firm_required
def qualification_delete(request, pk: int):
    qual = get_object_or_404(qualification_for_user(request.user), pk=pk)
    services.qualification_delete(user=request.user, qualification=qual)
    messages.success(request, _("资质已删除。"))
    return redirect(reverse("enterprises:profile") + "#qualifications")


@firm_required
def ip_asset_add(request):
    enterprise = _my_enterprise(request)
    form = IPAssetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.ip_asset_create(user=request.user, enterprise=enterprise, **form.cleaned_data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("知识产权已登记。"))
            return redirect(reverse("enterprises:profile") + "#ip")
    return render(request, "enterprises/item_form.html", {"form": form, "title": _("登记知识产权")})


@require_POST
@firm_required
def ip_asset_delete(request, pk: int):
    asset = get_object_or_404(ip_asset_for_user(request.user), pk=pk)
    services.ip_asset_delete(user=request.user, asset=asset)
    messages.success(request, _("知识产权已删除。"))
    return redirect(reverse("enterprises:profile") + "#ip")


@firm_required
def document_upload(request):
    enterprise = _my_enterprise(request)
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.document_upload(
                user=request.user,
                enterprise=enterprise,
                kind=form.cleaned_data["kind"],
                file=form.cleaned_data["file"],
            )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("材料已上传。"))
            return redirect(reverse("enterprises:profile") + "#documents")
    return render(
        request, "enterprises/item_form.html", {"form": form, "title": _("上传材料"), "multipart": True}
    )


@require_POST
@firm_required
def document_delete(request, pk: int):
    document = get_object_or_404(document_for_user(request.user), pk=pk)
    try:
        services.document_delete(user=request.user, document=document)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("材料已删除。"))
    return redirect(reverse("enterprises:profile") + "#documents")


def document_download(request, pk: int):
    """Files are served only through this scoped view (never from MEDIA_URL)."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    document = get_object_or_404(document_for_user(request.user), pk=pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404("file")
    response = FileResponse(handle, content_type=document.content_type, filename=document.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ------------------------------------------------------------------------------------------------
# Financing needs
# ------------------------------------------------------------------------------------------------


@firm_required
def need_list(request):
    qs = need_for_user(request.user).order_by("-created_at", "-id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    # Declined for lack of collateral or credit history: the government-guarantee route, per need.
    open_needs = [need for need in page.object_list if need.is_open]
    due = guarantee_route_due_among(need.pk for need in open_needs)
    routes = [{"need": need, "route": guarantee_route(need)} for need in open_needs if need.pk in due]
    return render(
        request,
        "enterprises/need_list.html",
        {
            "page": page,
            "enterprise": _my_enterprise(request),
            "guarantee_routes": [r for r in routes if r["route"]],
        },
    )


def _need_fields(form) -> dict:
    data = dict(form.cleaned_data)
    data["description"] = data.get("description") or ""
    return data


@firm_required
def need_create(request):
    enterprise = _my_enterprise(request)
    form = NeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.need_create(user=request.user, enterprise=enterprise, **_need_fields(form))
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("融资需求已发布，平台正在为您匹配产品。"))
            return redirect("enterprises:need_list")
    return render(
        request, "enterprises/need_form.html", {"form": form, "need": None, "enterprise": enterprise}
    )


@firm_required
def need_edit(request, pk: int):
    need = get_object_or_404(need_for_user(request.user), pk=pk)
    form = NeedForm(request.POST or None, initial=NeedForm.initial_from(need))
    if request.method == "POST" and form.is_valid():
        try:
            services.need_update(user=request.user, need=need, **_need_fields(form))
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("融资需求已更新，平台会重新匹配。"))
            return redirect("enterprises:need_list")
    return render(
        request, "enterprises/need_form.html", {"form": form, "need": need, "enterprise": need.enterprise}
    )


@firm_required
def need_withdraw(request, pk: int):
    need = get_object_or_404(need_for_user(request.user), pk=pk)
    if request.method == "POST":
        try:
            services.need_withdraw(user=request.user, need=need, note=request.POST.get("note", ""))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("融资需求已撤回，相关线索已通知银行撤回。"))
        return redirect("enterprises:need_list")
    return render(
        request,
        "enterprises/confirm.html",
        {
            "title": _("撤回融资需求"),
            "question": _("确定撤回这条融资需求吗？撤回后银行将不再看到它，已推送的线索也会撤回。"),
            "subject": need,
            "cancel_url": reverse("enterprises:need_list"),
        },
    )


# ------------------------------------------------------------------------------------------------
# Applications
# ------------------------------------------------------------------------------------------------


@firm_required
def apply(request, product_pk: int):
    product = get_object_or_404(product_for_user(request.user), pk=product_pk, status="published")
    match = None
    if request.GET.get("match") or request.POST.get("match"):
        match = get_object_or_404(
            match_for_user(request.user),
            pk=request.GET.get("match") or request.POST.get("match"),
            product=product,
        )
    need = match.need if match else None
    open_needs = need_choices_for_product(request.user)
    need_id = request.GET.get("need") or request.POST.get("need")
    if need is None and need_id:
        need = get_object_or_404(need_for_user(request.user), pk=need_id)
    elif need is None:
        need = open_needs.first()
    documents = document_for_user(request.user)
    initial = {}
    if need is not None:
        initial = {"amount": need.amount, "term_months": need.term_months, "purpose": need.purpose}
    form = ApplicationForm(request.POST or None, initial=initial, documents=documents)
    share_form = ShareProfileForm(request.POST or None)
    if request.method == "POST" and form.is_valid() & share_form.is_valid():
        data = form.cleaned_data
        try:
            application = application_submit(
                user=request.user,
                product=product,
                amount=data["amount"],
                term_months=data["term_months"],
                purpose=data["purpose"],
                note=data.get("note") or "",
                match=match,
                need=need,
                documents=data.get("documents") or (),
                share_profile=share_form.cleaned_data["share_profile"],
                money_unit=UNIT_WAN,
            )
        except ServiceError as exc:
            _form_error(share_form if exc.field == "share_profile" else form, exc)
        else:
            messages.success(request, _("申请已提交，银行客户经理会尽快与您联系。"))
            return redirect("enterprises:application_detail", pk=application.pk)
    evaluation = product_eligibility(user=request.user, product=product, need=need)
    open_application = (
        application_for_user(request.user)
        .filter(product=product, status__in=Application.OPEN_STATUSES)
        .first()
    )
    context = {
        "product": product,
        "form": form,
        "match": match,
        "need": need,
        "open_needs": open_needs,
        "evaluation": evaluation,
        "unmet": evaluation.failed,
        "open_application": open_application,
        "share_form": share_form,
        "share_groups": group_rows(),
        "share_until": one_year_after(timezone.localdate()),
    }
    return render(request, "matching/application_form.html", context)


@firm_required
def application_list(request):
    qs = (
        application_for_user(request.user)
        .annotate(is_first_loan_firm=first_loan_firm_for(request.user, purpose=ConsentPurpose.APPLICATION))
        .order_by("-created_at", "-id")
    )
    status = request.GET.get("status")
    if status in Application.Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "matching/application_list.html",
        {
            "page": page,
            "statuses": Application.Status.choices,
            "status": status,
            "query": f"status={status}" if status else "",
        },
    )


@firm_required
def application_detail(request, pk: int):
    application = get_object_or_404(
        application_for_user(request.user)
        .select_related("match", "need", "submitted_by")
        .prefetch_related("documents")
        .annotate(is_first_loan_firm=first_loan_firm_for(request.user, purpose=ConsentPurpose.APPLICATION)),
        pk=pk,
    )
    labels = dict(Application.Status.choices)
    timeline = [
        {"t": t, "from": labels.get(t.from_state, t.from_state), "to": labels.get(t.to_state, t.to_state)}
        for t in application_timeline(application)
    ]
    loan = application_loan(application)
    rejected_for_guarantee = (
        application.status == Application.Status.REJECTED
        and application.reject_reason in GUARANTEE_ROUTE_CODES
    )
    context = {
        "guarantee_route": guarantee_route(application.need) if rejected_for_guarantee else [],
        "application": application,
        "timeline": timeline,
        "loan": loan,
        "repayments": loan.repayments.all() if loan else [],
        "purpose": dict(FinancingNeed.Purpose.choices).get(application.purpose, application.purpose),
        "documents": application.documents.all(),
    }
    return render(request, "matching/application_detail.html", context)


@firm_required
def application_withdraw_view(request, pk: int):
    application = get_object_or_404(application_for_user(request.user), pk=pk)
    if request.method == "POST":
        try:
            application_withdraw(
                user=request.user, application=application, note=request.POST.get("note", "")
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("申请已撤回。您可以随时改为申请其他机构的产品。"))
        return redirect("enterprises:application_detail", pk=application.pk)
    return render(
        request,
        "enterprises/confirm.html",
        {
            "title": _("撤回申请"),
            "question": _("确定撤回对“%(p)s”的申请吗？银行将停止办理。") % {"p": application.product.name},
            "subject": application,
            "cancel_url": reverse("enterprises:application_detail", args=[application.pk]),
            "with_note": True,
        },
    )


@firm_required
def application_accept_view(request, pk: int):
    """签约确认: a confirmation page, then the acceptance (which releases the need's other offers)."""
    application = get_object_or_404(application_for_user(request.user), pk=pk)
    if request.method == "POST":
        try:
            application_offer_accept(
                user=request.user, application=application, note=request.POST.get("note", "")
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect("enterprises:application_detail", pk=application.pk)
        messages.success(
            request,
            _("已签约确认“%(p)s”的授信，银行将为您办理放款；本需求的其他授信和申请已释放。")
            % {"p": application.product.name},
        )
        return redirect("enterprises:application_detail", pk=application.pk)
    question = _("确定接受%(i)s“%(p)s”的授信（%(line)s，年利率 %(rate)s%%，%(term)s 个月）吗？") % {
        "i": application.product.institution.name,
        "p": application.product.name,
        "line": format_wan(application.credit_line) if application.credit_line is not None else "—",
        "rate": application.approved_rate,
        "term": application.approved_term_months,
    }
    if application.need_id:
        question += _("签约后，本需求下其他机构的授信和申请将自动撤回，且不能恢复。")
    return render(
        request,
        "enterprises/confirm.html",
        {
            "title": _("签约确认"),
            "question": question,
            "subject": application,
            "cancel_url": reverse("subsidies:need_offers", args=[application.need_id])
            if application.need_id
            else reverse("enterprises:application_detail", args=[application.pk]),
            "with_note": False,
        },
    )


# ------------------------------------------------------------------------------------------------
# Consent and the profile-view log
# ------------------------------------------------------------------------------------------------


@firm_required
def consent(request):
    """The firm's consent page: the share-with-all switch, each institution's record (purposes,
    scope, granted, expiry, status) with revoke and grant/extend, and the view log (collapsed)."""
    enterprise = _my_enterprise(request)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "all_on":
                services.consent_set_all(user=request.user, enterprise=enterprise, granted=True)
                messages.success(request, _("已同意向全部金融机构展示企业资料，有效期一年。"))
            elif action == "all_off":
                services.consent_set_all(user=request.user, enterprise=enterprise, granted=False)
                messages.success(request, _("已撤回全部授权，所有进行中的线索已撤回。"))
            elif action in ("grant", "revoke"):
                institution = get_object_or_404(
                    Institution, pk=request.POST.get("institution"), is_lender=True
                )
                if action == "revoke":
                    services.consent_revoke(user=request.user, enterprise=enterprise, institution=institution)
                    messages.success(
                        request, _("已撤回对%(i)s的授权，其进行中的线索已撤回。") % {"i": institution.name}
                    )
                else:
                    detail = {}
                    if request.POST.get("custom"):  # the grant/extend form, not the one-click grant
                        grant_form = ConsentGrantForm(request.POST)
                        if not grant_form.is_valid():
                            for errors in grant_form.errors.values():
                                for error in errors:
                                    messages.error(request, error)
                            return redirect("enterprises:consent")
                        detail = grant_form.cleaned_data
                    consent = services.consent_grant(
                        user=request.user, enterprise=enterprise, institution=institution, **detail
                    )
                    messages.success(
                        request,
                        _("已授权%(i)s查看企业资料，至 %(d)s。")
                        % {"i": institution.name, "d": consent.expires_on.isoformat()},
                    )
        except ServiceError as exc:
            messages.error(request, exc.message)
        return redirect("enterprises:consent")
    views = Paginator(profile_views_collapsed(enterprise), PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    context = {
        "enterprise": enterprise,
        "switch": consent_switch(enterprise),
        "rows": consent_overview(enterprise),
        "page": views,
        "purposes": ConsentPurpose.choices,
        "groups": group_rows(),
        "group_labels": dict(ProfileGroup.choices),
        "purpose_labels": dict(ConsentPurpose.choices),
        "today": today,
        "latest_expiry": one_year_after(today),
    }
    return render(request, "enterprises/consent.html", context)


# ------------------------------------------------------------------------------------------------
# Staff: verification of registered firms
# ------------------------------------------------------------------------------------------------


@government_required
def verify_list(request):
    """The firms and identity changes waiting for the user's desk: the province's all, a region
    desk's those of its region's firms."""
    user = request.user
    page = Paginator(pending_enterprises(user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(firm, uscc_rules.validate(firm.uscc).warnings) for firm in page]
    changes = [(change, identity_change_rows(change)) for change in identity_changes_pending(user)[:100]]
    return render(
        request,
        "enterprises/verify_list.html",
        {
            "page": page,
            "rows": rows,
            "changes": changes,
            "region": user.region if user.is_region_desk else None,
        },
    )


IDENTITY_LABELS = {
    "name": _("企业名称"),
    "uscc": _("统一社会信用代码"),
    "legal_representative": _("法定代表人"),
    "city": _("所在城市"),
}


def identity_change_rows(change) -> list[tuple[str, str, str]]:
    """(label, old, new) for each changed field, a city shown by its name."""

    names = dict(Region.objects.values_list("pk", "name"))
    rows = []
    for key, pair in change.changes.items():
        old, new = pair.get("old"), pair.get("new")
        if key == "city":
            old, new = names.get(old, old), names.get(new, new)
        rows.append((IDENTITY_LABELS.get(key, key), old, new))
    return rows


@require_POST
@government_required
def identity_change_action(request, pk: int):
    change = get_object_or_404(identity_change_for_user(request.user, ACT), pk=pk)
    approve = request.POST.get("action") == "approve"
    try:
        services.identity_change_review(
            user=request.user, change=change, approve=approve, note=request.POST.get("note", "")
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已批准变更") if approve else _("已驳回变更"))
    return redirect("enterprises:verify_list")


@require_POST
@government_required
def verify_action(request, pk: int):
    enterprise = get_object_or_404(enterprise_for_user(request.user, ACT), pk=pk)
    approve = request.POST.get("action") == "verify"
    try:
        services.enterprise_verify(
            user=request.user, enterprise=enterprise, approve=approve, note=request.POST.get("note", "")
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if approve:
            messages.success(request, _("已认证：%(n)s") % {"n": enterprise.name})
        else:
            messages.success(request, _("已退回：%(n)s") % {"n": enterprise.name})
    return redirect("enterprises:verify_list")
