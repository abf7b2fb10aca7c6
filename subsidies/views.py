"""Pages of the subsidies app: thin views over selectors and services."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from enterprises.selectors import need_for_user
from matching.models import LoanRenewal
from matching.selectors import loan_for_user
from matching.services.loans import loan_request_renewal, renewal_precheck
from portal.access import bank_required, firm_required, role_required, staff_required, subsidy_desk_required
from portal.models import Role, Transition
from portal.money import format_wan, wan_to_yuan
from portal.reauth import reauth_redirect
from portal.services import NotAllowedError, ServiceError

from . import duties, exports, services
from .filtersets import ClaimFilterSet
from .forms import CalculatorForm, ConfirmAccountForm, LprForm, PolicyForm, RecoveryForm, RejectForm
from .models import Claim, LprRate, Policy, PolicyKind
from .params import parameter_rows
from .selectors import (
    claim_for_user,
    claimable_periods_for_firm,
    ledger_balances,
    ledger_entries,
    leverage_for_year,
    loan_subsidies,
    need_offers,
    quote_for_product,
    risk_candidates_for_bank,
)

PAGE_SIZE = 20


def _year(request) -> int:
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else timezone.localdate().year


def _query_without_page(request) -> str:
    q = request.GET.copy()
    q.pop("page", None)
    return q.urlencode()


def _service_error(request, exc: ServiceError) -> None:
    messages.error(request, exc.message)


# ------------------------------------------------------------------------------------------
# Calculator (public)
# ------------------------------------------------------------------------------------------


def calculator(request):
    """Public policy calculator: inputs in 万元, the same figures as the API and the product page."""
    data = request.GET if request.GET.get("product") and request.GET.get("amount_wan") else None
    form = CalculatorForm(data, initial={"product": request.GET.get("product")})
    quote = None
    if data is not None and form.is_valid():
        try:
            user = request.user
            firm = user.enterprise_id if user.is_authenticated and user.role == Role.FIRM else None
            quote = quote_for_product(**form.quote_args(), enterprise=firm)
        except ServiceError as exc:
            field = {"amount": "amount_wan"}.get(exc.field, exc.field)
            form.add_error(field if field in form.fields else None, exc.message)
    template = (
        "subsidies/_calculator_result.html"
        if request.headers.get("HX-Request")
        else "subsidies/calculator.html"
    )
    return render(request, template, {"form": form, "quote": quote})


# ------------------------------------------------------------------------------------------
# Policies and LPR (staff)
# ------------------------------------------------------------------------------------------


@subsidy_desk_required
def policy_list(request):
    policies = Policy.objects.select_related("created_by").order_by("kind", "series", "-version")
    return render(
        request,
        "subsidies/policy_list.html",
        {"policies": policies, "can_author": duties.holds(request.user, duties.AUTHOR_POLICY)},
    )


@subsidy_desk_required
def policy_detail(request, pk):
    policy = get_object_or_404(Policy.objects.select_related("created_by", "updated_by"), pk=pk)
    versions = Policy.objects.filter(series=policy.series).order_by("-version")
    return render(
        request,
        "subsidies/policy_detail.html",
        {
            "policy": policy,
            "versions": versions,
            "parameters": parameter_rows(policy.parameters or {}),
            "can_author": duties.holds(request.user, duties.AUTHOR_POLICY),
        },
    )


def _refused(request, exc: NotAllowedError) -> HttpResponse:
    """A refused step of the money flow: 403 with the reason on the page."""
    return render(request, "403.html", {"reason": exc.message}, status=403)


def _policy_form_submit(request, form: PolicyForm, *, version_of: Policy | None):
    d = form.cleaned_data
    common = {
        "user": request.user,
        "name": d["name"],
        "parameters": form.raw_parameters(),
        "effective_from": d["effective_from"],
        "effective_to": d.get("effective_to"),
        "budget": wan_to_yuan(d["budget_wan"]),
        "source": d.get("source", ""),
    }
    try:
        if version_of is None:
            return services.policy_create(series=d["series"], kind=d["kind"], **common)
        return services.policy_new_version(policy=version_of, **common)
    except ServiceError as exc:
        kind = version_of.kind if version_of else d["kind"]
        field = form.field_for_param(exc.field, kind) if exc.field else None
        if exc.field in form.fields:
            field = exc.field
        form.add_error(field if field in form.fields else None, exc.message)
        return None


@staff_required
def policy_create(request):
    form = PolicyForm(
        request.POST or None, initial={"basis": 360, "require_on_time": True, "auto_claim": True}
    )
    if request.method == "POST" and form.is_valid():
        policy = _policy_form_submit(request, form, version_of=None)
        if policy is not None:
            messages.success(request, _("政策已创建"))
            return redirect("subsidies:policy_detail", pk=policy.pk)
    return render(request, "subsidies/policy_form.html", {"form": form, "version_of": None})


@staff_required
def policy_edit(request, pk):
    old = get_object_or_404(Policy, pk=pk)
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_from(old), version_of=old)
    if request.method == "POST" and form.is_valid():
        policy = _policy_form_submit(request, form, version_of=old)
        if policy is not None:
            messages.success(request, _("已生成第 %(v)s 版，原版本已停用") % {"v": policy.version})
            return redirect("subsidies:policy_detail", pk=policy.pk)
    return render(request, "subsidies/policy_form.html", {"form": form, "version_of": old})


@staff_required
def lpr_list(request):
    form = LprForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.lpr_add(user=request.user, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("LPR 已添加"))
            return redirect("subsidies:lpr")
    return render(request, "subsidies/lpr.html", {"rows": LprRate.objects.all(), "form": form})


# ------------------------------------------------------------------------------------------
# Claims review (staff)
# ------------------------------------------------------------------------------------------


def _desk_todo(user) -> list[tuple[str, str, int]]:
    """The claims waiting for this desk's step: (status, label, count)."""
    S = Claim.Status
    steps = [
        (S.SUBMITTED, duties.REVIEW_CLAIM),
        (S.REVIEWED, duties.APPROVE_CLAIM),
        (S.APPROVED, duties.PAY_CLAIM),
    ]
    mine = [status for status, perm in steps if duties.holds(user, perm)]
    counts = dict(
        claim_for_user(user).filter(status__in=mine).values_list("status").annotate(n=Count("id")).order_by()
    )
    return [(status, S(status).label, counts.get(status, 0)) for status in mine]


@subsidy_desk_required
def claim_list(request):
    filterset = ClaimFilterSet(request.GET or None, queryset=claim_for_user(request.user))
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "subsidies/claim_list.html",
        {
            "filter": filterset,
            "page": page,
            "query": _query_without_page(request),
            "year": timezone.localdate().year,
            "todo": _desk_todo(request.user),
        },
    )


def _claim_steps(user, claim: Claim) -> dict:
    """Which step ``user`` may take on ``claim`` now, and why not (shown before they try; the
    service decides again when they do)."""
    S = Claim.Status
    can_review = claim.status == S.SUBMITTED and duties.holds(user, duties.REVIEW_CLAIM)
    can_approve = claim.status == S.REVIEWED and duties.holds(user, duties.APPROVE_CLAIM)
    can_pay = claim.status == S.APPROVED and duties.holds(user, duties.PAY_CLAIM)
    approve_conflict = services.approval_conflict(user, claim) if can_approve else None
    pay_conflict = (
        _("批准与拨付须由两名不同人员办理：您已批准本申领，请由另一名财政专班人员标记拨付。")
        if can_pay and user.pk in (claim.approved_by_id, claim.reviewed_by_id)
        else None
    )
    can_reject = (
        claim.status in (S.SUBMITTED, S.AWAITING_CONFIRMATION) and duties.holds(user, duties.REVIEW_CLAIM)
    ) or can_approve
    hint = approve_conflict or pay_conflict
    if not hint and claim.status == S.SUBMITTED and not can_review:
        hint = _("待省级专班初审。")
    elif not hint and claim.status == S.REVIEWED and not can_approve:
        hint = _("已初审，待财政专班批准。")
    elif not hint and claim.status == S.APPROVED and not can_pay:
        hint = _("已批准，待财政专班另一名人员标记拨付。")
    return {
        "can_review": can_review,
        "can_approve": can_approve,
        "can_pay": can_pay,
        "can_reject": can_reject,
        "approve_conflict": approve_conflict,
        "pay_conflict": pay_conflict,
        "step_hint": hint,
    }


@subsidy_desk_required
def claim_detail(request, pk):
    claim = get_object_or_404(claim_for_user(request.user), pk=pk)

    labels = dict(Claim.Status.choices)
    history = [
        (labels.get(t.to_state, t.to_state), t)
        for t in Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(Claim), object_id=claim.pk
        ).select_related("actor")
    ]
    return render(
        request,
        "subsidies/claim_detail.html",
        {
            "claim": claim,
            "history": history,
            "reject_form": RejectForm(),
            "ledger": claim.ledger.select_related("by", "maker", "checker"),
            "recoveries": claim.recoveries.all(),
            **_claim_steps(request.user, claim),
        },
    )


@require_POST
@subsidy_desk_required
def claim_action(request, pk, action):
    claim = get_object_or_404(claim_for_user(request.user), pk=pk)
    if action not in ("review", "approve", "pay", "reject"):
        raise Http404
    if action == "approve" and (
        confirm := reauth_redirect(request, back=reverse("subsidies:claim_detail", args=[claim.pk]))
    ):
        return confirm
    try:
        if action == "review":
            services.claim_review(user=request.user, claim=claim)
            messages.success(request, _("已初审，交财政专班批准"))
        elif action == "approve":
            services.claim_approve(user=request.user, claim=claim)
            messages.success(request, _("已批准，金额已计入预算占用"))
        elif action == "pay":
            services.claim_pay(user=request.user, claim=claim)
            messages.success(request, _("已标记拨付"))
        elif action == "reject":
            services.claim_reject_check(user=request.user, claim=claim)  # 403 before the form
            form = RejectForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("请填写未批准原因"))
                return redirect("subsidies:claim_detail", pk=claim.pk)
            services.claim_reject(user=request.user, claim=claim, reason=form.cleaned_data["reason"])
            messages.success(request, _("已退回"))
    except NotAllowedError as exc:
        return _refused(request, exc)
    except ServiceError as exc:
        _service_error(request, exc)
    return redirect("subsidies:claim_detail", pk=claim.pk)


@require_POST
@staff_required
def claims_generate(request):
    raw = request.POST.get("year", "")
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else timezone.localdate().year
    what = request.POST.get("what")
    try:
        if what == "reward":
            created = services.reward_claims_generate(year=year, actor=request.user)
            messages.success(
                request, _("已核算 %(y)s 年专属产品奖励：新增 %(n)s 笔") % {"y": year, "n": len(created)}
            )
        else:
            report = services.interest_claims_generate(year=year, actor=request.user)
            messages.success(
                request,
                _("已生成 %(y)s 年免申即享贴息：新增 %(n)s 笔，已有 %(e)s 笔，不符合条件 %(s)s 笔")
                % {"y": year, "n": report["created"], "e": report["existing"], "s": report["skipped"]},
            )
    except ServiceError as exc:
        _service_error(request, exc)
    return redirect(reverse("subsidies:claims") + f"?year={year}")


@subsidy_desk_required
def claims_export(request):
    filterset = ClaimFilterSet(request.GET or None, queryset=claim_for_user(request.user))
    return _xlsx(exports.claims_xlsx(filterset.qs.iterator(chunk_size=500)), "subsidy-claims")


def _xlsx(content: bytes, stem: str) -> HttpResponse:
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{stem}-{timezone.localdate():%Y%m%d}.xlsx"'
    return response


# ------------------------------------------------------------------------------------------
# Ledger and leverage
# ------------------------------------------------------------------------------------------


@subsidy_desk_required
def ledger(request):
    year = _year(request)
    entries = Paginator(ledger_entries(year=year), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "subsidies/ledger.html",
        {"balances": ledger_balances(year=year), "page": entries, "year": year, "query": f"year={year}"},
    )


@subsidy_desk_required
def ledger_export(request):
    year = _year(request)
    return _xlsx(
        exports.ledger_xlsx(ledger_entries(year=year).iterator(chunk_size=500)), f"subsidy-ledger-{year}"
    )


@role_required(Role.STAFF, Role.OFFICER, Role.MANAGER)
def leverage(request):
    year = _year(request)
    institution = None if request.user.role == Role.STAFF else request.user.institution_id
    return render(
        request,
        "subsidies/leverage.html",
        {"data": leverage_for_year(year, institution=institution), "year": year},
    )


# ------------------------------------------------------------------------------------------
# Firm: its claims, confirm the bank account, claim a period
# ------------------------------------------------------------------------------------------


@firm_required
def need_offers_page(request, pk: int):
    """The firm's open offers for one of its needs, side by side at their cost after subsidy."""

    need = get_object_or_404(need_for_user(request.user), pk=pk)
    offers = need_offers(user=request.user, need=need)
    assumption = next((o.quote.assumption for o in offers if o.quote and o.quote.assumption), "")
    return render(
        request,
        "subsidies/need_offers.html",
        {"need": need, "offers": offers, "assumption": assumption, "today": timezone.localdate()},
    )


@firm_required
def my_claims(request):
    claims = claim_for_user(request.user)
    page = Paginator(claims, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "subsidies/my_claims.html",
        {
            "page": page,
            "claimable": claimable_periods_for_firm(request.user),
            "confirm_form": ConfirmAccountForm(initial={"payee_name": request.user.enterprise.name}),
        },
    )


@firm_required
def my_claim_confirm(request, pk):
    claim = get_object_or_404(claim_for_user(request.user), pk=pk)
    form = ConfirmAccountForm(request.POST or None, initial={"payee_name": request.user.enterprise.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.claim_confirm(user=request.user, claim=claim, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已确认收款账户，申领已提交专班审核"))
            return redirect("subsidies:my_claims")
    return render(request, "subsidies/my_claim_confirm.html", {"claim": claim, "form": form})


@require_POST
@firm_required
def my_claim_submit(request):
    form = ConfirmAccountForm(request.POST)
    loan_id, start = request.POST.get("loan", ""), request.POST.get("period_start", "")
    if not loan_id.isdigit():
        messages.error(request, _("请选择要申领贴息的贷款。"))
        return redirect("subsidies:my_claims")
    loan = get_object_or_404(loan_for_user(request.user), pk=int(loan_id))
    try:
        period_start = date.fromisoformat(start)
    except ValueError:
        messages.error(request, _("申领期间不正确，请从列表中选择。"))
        return redirect("subsidies:my_claims")
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect("subsidies:my_claims")
    try:
        services.interest_claim_submit(
            user=request.user, loan=loan, period_start=period_start, **form.cleaned_data
        )
    except ServiceError as exc:
        _service_error(request, exc)
    else:
        messages.success(request, _("贴息申领已提交"))
    return redirect("subsidies:my_claims")


# ------------------------------------------------------------------------------------------
# Bank: its institution's claims, risk compensation, recoveries
# ------------------------------------------------------------------------------------------


@bank_required
def bank_claims(request):
    filterset = ClaimFilterSet(request.GET or None, queryset=claim_for_user(request.user))
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "subsidies/bank_claims.html",
        {
            "filter": filterset,
            "page": page,
            "query": _query_without_page(request),
            "candidates": risk_candidates_for_bank(request.user)[:50],
            "recovery_form": RecoveryForm(),
        },
    )


@require_POST
@bank_required
def bank_risk_claim(request, loan_pk):
    loan = get_object_or_404(loan_for_user(request.user), pk=loan_pk)
    try:
        claim = services.risk_claim_submit(user=request.user, loan=loan)
    except ServiceError as exc:
        _service_error(request, exc)
    else:
        messages.success(request, _("风险补偿申请已提交：%(a)s 元") % {"a": claim.amount})
    return redirect("subsidies:bank_claims")


@require_POST
@role_required(Role.STAFF, Role.OFFICER, Role.MANAGER)
def claim_recovery(request, pk):
    claim = get_object_or_404(claim_for_user(request.user), pk=pk, kind=PolicyKind.RISK)
    form = RecoveryForm(request.POST)
    back = "subsidies:claim_detail" if request.user.role == Role.STAFF else "subsidies:bank_claims"
    if not form.is_valid():
        messages.error(request, _("请填写正确的追回金额（万元）"))
    else:
        try:
            row = services.risk_recovery_record(
                user=request.user, claim=claim, recovered=wan_to_yuan(form.cleaned_data["recovered_wan"])
            )
        except ServiceError as exc:
            _service_error(request, exc)
        else:
            messages.success(request, _("已登记追回，回补资金池 %(p)s 元") % {"p": row.payback})
    return redirect(back, pk=claim.pk) if back == "subsidies:claim_detail" else redirect(back)


# ------------------------------------------------------------------------------------------
# The firm's loans (its workspace): the loan, the subsidy received on it, the renewal radar
# ------------------------------------------------------------------------------------------


@firm_required
def my_loans(request):
    """The firm's loans, soonest maturity first among the open ones, with the interest subsidy
    recorded on each (claims, as ``loan_subsidies`` reads them)."""
    qs = (
        loan_for_user(request.user)
        .select_related("application__product__institution", "renewal")
        .prefetch_related("repayments")
        .order_by("status", "maturity_date", "-id")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    subsidy = loan_subsidies(page.object_list)
    rows = [{"loan": loan, "subsidy": subsidy[loan.pk]} for loan in page.object_list]
    return render(
        request, "subsidies/my_loans.html", {"page": page, "rows": rows, "today": timezone.localdate()}
    )


@firm_required
def my_loan_detail(request, pk: int):

    loan = get_object_or_404(
        loan_for_user(request.user)
        .select_related("application__product__institution", "application__product__criteria")
        .prefetch_related("repayments", "application__enterprise__qualifications"),
        pk=pk,
    )
    renewal = LoanRenewal.objects.filter(loan=loan).select_related("need").first()
    today = timezone.localdate()
    context = {
        "loan": loan,
        "subsidy": loan_subsidies([loan])[loan.pk],
        "claims": claim_for_user(request.user).filter(loan=loan).order_by("period_start", "pk"),
        "repayments": loan.repayments.all(),
        "days_left": loan.days_to_maturity(today),
        "renewal": renewal,
        "precheck": renewal_precheck(loan, today=today) if loan.status == loan.Status.ACTIVE else [],
        "today": today,
    }
    return render(request, "subsidies/my_loan_detail.html", context)


@require_POST
@firm_required
def my_loan_renew(request, pk: int):

    loan = get_object_or_404(loan_for_user(request.user), pk=pk)
    try:
        need = loan_request_renewal(user=request.user, loan=loan)
    except ServiceError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已提交续贷申请：续贷需求（%(a)s，%(m)s 个月）已发布，并优先推送给原贷款机构。")
            % {"a": format_wan(need.amount), "m": need.term_months},
        )
    return redirect("subsidies:my_loan_detail", pk=loan.pk)
