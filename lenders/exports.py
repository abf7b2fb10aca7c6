"""Excel exports of the lead inbox and the application queue, as filtered.

A write-only workbook streams rows to a temporary file (constant memory however many rows), which
is then streamed to the client in chunks (portal.spreadsheet, the one writer). Amounts in 万元."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

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


def leads_xlsx(queryset) -> FileResponse:
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
    ]

    def rows():
        for m in queryset.iterator(chunk_size=2000):
            yield [
                m.pk,
                m.enterprise.name,
                str(m.enterprise.city),
                m.enterprise.get_industry_display(),
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
            ]

    stamp = timezone.localdate().strftime("%Y%m%d")
    return write_xlsx(title=_("线索"), headers=headers, rows=rows(), filename=f"leads-{stamp}.xlsx")


def applications_xlsx(queryset) -> FileResponse:
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
    ]

    def rows():
        for a in queryset.iterator(chunk_size=2000):
            loan = getattr(a, "loan", None) if a.status in ("disbursed", "repaid", "defaulted") else None
            yield [
                a.pk,
                a.enterprise.name,
                str(a.enterprise.city),
                a.product.name,
                _wan(a.amount),
                a.term_months,
                a.get_status_display(),
                _wan(a.credit_line),
                a.approved_rate,
                _wan(loan.principal) if loan else None,
                _dt(a.created_at),
                _dt(a.status_changed_at),
            ]

    stamp = timezone.localdate().strftime("%Y%m%d")
    return write_xlsx(
        title=_("融资申请"), headers=headers, rows=rows(), filename=f"applications-{stamp}.xlsx"
    )
