"""Pages of recommended lists. Thin: selectors read (through the access model), services decide.

Provincial staff: the lists, the builder (filters, a preview count, create), a list's detail (its
firms, every institution's answers and the funnel) and the send form. A bank (officers and
managers): the lists sent to its institution and a list's page with an answer form per firm.
Region desks have no page here (403): lists are the province's."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import money
from portal.access import bank_required, staff_required
from portal.services import ServiceError

from . import selectors, services
from .forms import FeedbackForm, ListBuildForm, ListSendForm
from .models import RecommendationList

PAGE_SIZE = 20


def _page(request, qs, size: int = PAGE_SIZE):
    return Paginator(qs, size).get_page(request.GET.get("page"))


def _form_error(form, exc: ServiceError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# ------------------------------------------------------------------------------------------------
# Provincial staff
# ------------------------------------------------------------------------------------------------


@staff_required
def index(request):
    qs = selectors.list_for_user(request.user).prefetch_related("recipients__institution")
    return render(request, "recommendations/index.html", {"page": _page(request, qs)})


@staff_required
def build(request):
    form = ListBuildForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("action") == "create":
                rec_list = services.list_build(
                    filters=form.filters(), by=request.user, title=form.cleaned_data.get("title") or ""
                )
                messages.success(
                    request, _("清单已生成，共 %(n)d 户企业。") % {"n": rec_list.entries.count()}
                )
                return redirect("recommendations:detail", rec_list.pk)
            preview = services.list_preview(filters=form.filters(), by=request.user)
        except ServiceError as exc:
            _form_error(form, exc)
    return render(request, "recommendations/build.html", {"form": form, "preview": preview})


def _entry_rows(user, entries, *, institution_id=None) -> list[dict]:
    answers = selectors.feedback_by_entry(entries, institution_id=institution_id)
    return [
        {**selectors.entry_view(user=user, entry=e), "answers": answers.get(e.pk, []), "entry_obj": e}
        for e in entries
    ]


@staff_required
def detail(request, pk: int):
    rec_list = selectors.list_get(request.user, pk)
    page = _page(request, selectors.entries_of(rec_list))
    funnel = selectors.list_funnel(user=request.user, rec_list=rec_list)
    context = {
        "rec_list": rec_list,
        "page": page,
        "rows": _entry_rows(request.user, page.object_list),
        "funnel": funnel,
        "funnel_list": [funnel] if funnel else [],
        "filter_lines": selectors.filter_lines(rec_list.filters),
        "recipients": list(rec_list.recipients.select_related("institution")),
    }
    return render(request, "recommendations/detail.html", context)


@staff_required
def send(request, pk: int):
    rec_list = selectors.list_get(request.user, pk, "act")
    if rec_list.is_sent:
        messages.info(request, _("清单已发送。"))
        return redirect("recommendations:detail", rec_list.pk)
    initial = {"institutions": rec_list.filters.get("consent_institutions") or []}
    form = ListSendForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.list_send(
                rec_list=rec_list,
                institutions=list(form.cleaned_data["institutions"]),
                due_working_days=form.cleaned_data["due_working_days"],
                by=request.user,
            )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("清单已发送。"))
            return redirect("recommendations:detail", rec_list.pk)
    return render(
        request,
        "recommendations/send.html",
        {"rec_list": rec_list, "form": form, "firms": rec_list.entries.count()},
    )


# ------------------------------------------------------------------------------------------------
# Banks
# ------------------------------------------------------------------------------------------------


@bank_required
def bank_index(request):
    page = _page(request, selectors.bank_lists(request.user))
    return render(request, "recommendations/bank_index.html", {"page": page, "today": timezone.localdate()})


def _bank_detail(request, rec_list: RecommendationList, *, errors=None, status=200):
    user = request.user
    page = _page(request, selectors.entries_of(rec_list))
    rows = _entry_rows(user, page.object_list, institution_id=user.institution_id)
    for row in rows:
        current = row["answers"][0] if row["answers"] else None
        if errors is not None and errors[0] == row["entry"]:
            row["form"] = errors[1]
        else:
            initial = {}
            if current is not None:
                initial = {
                    "outcome": current.outcome,
                    "amount": money.wan_input(current.amount),
                    "reason_code": current.reason_code,
                    "note": current.note,
                }
            row["form"] = FeedbackForm(initial=initial, prefix=f"e{row['entry']}")
        row["current"] = current
    recipient = rec_list.recipients.get(institution_id=user.institution_id)
    context = {"rec_list": rec_list, "page": page, "rows": rows, "recipient": recipient}
    return render(request, "recommendations/bank_detail.html", context, status=status)


@bank_required
def bank_detail(request, pk: int):
    return _bank_detail(request, selectors.list_get(request.user, pk))


@bank_required
def bank_feedback(request, pk: int):
    rec_list = selectors.list_get(request.user, pk, "act")
    if request.method != "POST":
        return redirect("recommendations:bank_detail", rec_list.pk)
    try:
        entry_id = int(request.POST.get("entry", ""))
    except ValueError:
        messages.error(request, _("请选择要反馈的企业。"))
        return _bank_detail(request, rec_list)
    entry = get_object_or_404(rec_list.entries, pk=entry_id)
    form = FeedbackForm(request.POST, prefix=f"e{entry.pk}")
    if form.is_valid():
        params = form.params()
        try:
            services.feedback_record(
                entry=entry,
                institution=request.user.institution_id,
                outcome=params["outcome"],
                amount=params["amount"],
                reason_code=params["reason_code"],
                note=params["note"],
                by=request.user,
            )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("已保存对%(name)s的反馈。") % {"name": entry.enterprise.name})
            url = reverse("recommendations:bank_detail", args=[rec_list.pk])
            page = request.GET.get("page", "")
            query = f"?page={page}" if page.isdigit() else ""
            return redirect(f"{url}{query}#entry-{entry.pk}")
    return _bank_detail(request, rec_list, errors=(entry.pk, form))
