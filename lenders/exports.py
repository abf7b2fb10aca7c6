"""Excel exports of the lead inbox and the application queue, as filtered.

A write-only workbook streams rows to a temporary file (constant memory however many rows), which
is then streamed to the client in chunks (portal.spreadsheet, the one writer). Amounts in 万元."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.consent import ConsentPurpose
from enterprises.selectors import enterprise_profile_for_bank, enterprise_summary
from matching.explain import match_explanation, reasons_text
from portal import spreadsheet
from portal.money import yuan_to_wan

from .choices import decline_label

#: The one guard (portal.spreadsheet), kept under its old name for callers.
safe = spreadsheet.safe_text


def _wan(value):
    return None if value is None else yuan_to_wan(value)


def _dt(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def write_xlsx(*, title: str, headers: list[str], rows: Iterable[list], filename: str) -> FileResponse:
    return spreadsheet.write(title=title, headers=headers, rows=rows, filename=filename)


def _bank_views(user, purpose: str):
    """The bank view of each firm in an export, read once per firm (rows come from a scoped
    queryset, so the business check is already done)."""

    cache: dict[int, dict] = {}

    def view(enterprise) -> dict:
        if enterprise.pk not in cache:
            cache[enterprise.pk] = enterprise_profile_for_bank(
                user=user, enterprise=enterprise, purpose=purpose, scoped=True
            )
        return cache[enterprise.pk]

    return view


PROFILE_HEADERS = [
    _("认证状态"),
    _("统一社会信用代码"),
    _("成立日期"),
    _("发展阶段"),
    _("上年营业收入（万元）"),
    _("上年研发投入（万元）"),
    _("有效资质"),
    _("知识产权（项）"),
]


def _profile_cells(view: dict) -> list:
    """The profile columns of a row: empty where the firm's consent does not cover the group."""
    founded = view.get("founded_on")
    quals = view.get("qualifications")
    assets = view.get("ip_assets")
    return [
        _("已认证") if view["verified"] else _("未认证"),
        view.get("uscc", ""),
        founded.isoformat() if founded else "",
        view.get("stage_display", ""),
        _wan(view.get("revenue_last_year")),
        _wan(view.get("rd_spend_last_year")),
        "、".join(q["name"] for q in quals) if quals is not None else "",
        len(assets) if assets is not None else None,
    ]


def _first_loan_cell(row) -> str:
    """首贷户 of a lead's or an application's firm: the list's annotation (lenders.selectors)."""
    flag = getattr(row, "is_first_loan_firm", None)
    if flag is None:
        flag = row.enterprise.is_first_loan_firm
    return _("是") if flag else _("否")


def leads_xlsx(queryset, *, user) -> FileResponse:
    """The inbox as filtered. Firm data through the bank view (purpose ``lead``); the match reasons
    through ``matching.explain`` (generic where the consent does not cover what they reveal)."""

    bank_view = _bank_views(user, ConsentPurpose.LEAD)
    headers = [
        _("线索编号"),
        _("企业名称"),
        _("城市"),
        _("行业"),
        _("产品"),
        _("匹配度"),
        _("需求金额（万元）"),
        _("期限（月）"),
        _("状态"),
        _("承接网点"),
        _("客户经理"),
        _("推送时间"),
        _("响应期限"),
        _("首次响应时间"),
        _("是否超时"),
        _("婉拒原因"),
        _("首贷户"),
        *PROFILE_HEADERS,
        _("匹配理由"),
    ]

    def rows():
        for m in queryset.iterator(chunk_size=2000):
            view = bank_view(m.enterprise)
            yield [
                m.pk,
                view["name"],
                view["city_name"],
                view["industry_display"],
                m.product.name,
                m.score,
                _wan(m.need.amount),
                m.need.term_months,
                m.get_status_display(),
                m.branch.name if m.branch_id else "",
                m.assigned_officer.display_name if m.assigned_officer_id else "",
                _dt(m.routed_at),
                _dt(m.response_deadline),
                _dt(m.first_response_at),
                _("是") if m.is_overdue else _("否"),
                decline_label(m.decline_reason) if m.decline_reason else "",
                _first_loan_cell(m),
                *_profile_cells(view),
                reasons_text(match_explanation(m, view["groups"])),
            ]

    stamp = timezone.localdate().strftime("%Y%m%d")
    return write_xlsx(title=_("线索"), headers=headers, rows=rows(), filename=f"leads-{stamp}.xlsx")


def applications_xlsx(queryset, *, user) -> FileResponse:
    """The application queue as filtered; firm data through the bank view (purpose ``application``)."""

    bank_view = _bank_views(user, ConsentPurpose.APPLICATION)
    headers = [
        _("申请编号"),
        _("企业名称"),
        _("城市"),
        _("产品"),
        _("申请金额（万元）"),
        _("申请期限（月）"),
        _("状态"),
        _("授信额度（万元）"),
        _("授信年利率（%）"),
        _("放款本金（万元）"),
        _("提交时间"),
        _("状态更新时间"),
        _("首贷户"),
        *PROFILE_HEADERS,
    ]

    def rows():
        for a in queryset.iterator(chunk_size=2000):
            loan = getattr(a, "loan", None) if a.status in ("disbursed", "repaid", "defaulted") else None
            # A withdrawn application no longer carries the consent: name, city and industry only.
            view = (
                _summary(a.enterprise)
                if a.status == "withdrawn" and user.is_bank
                else bank_view(a.enterprise)
            )
            yield [
                a.pk,
                view["name"],
                view["city_name"],
                a.product.name,
                _wan(a.amount),
                a.term_months,
                a.get_status_display(),
                _wan(a.credit_line),
                a.approved_rate,
                _wan(loan.principal) if loan else None,
                _dt(a.created_at),
                _dt(a.status_changed_at),
                _first_loan_cell(a),
                *_profile_cells(view),
            ]

    stamp = timezone.localdate().strftime("%Y%m%d")
    return write_xlsx(
        title=_("融资申请"), headers=headers, rows=rows(), filename=f"applications-{stamp}.xlsx"
    )


def _summary(enterprise) -> dict:

    return enterprise_summary(enterprise)
