"""Official lists: the yearly 科技型中小企业 registration list and the 高新技术企业 list.

Staff upload a list (.xlsx or .csv: USCC, name, certificate or registration number, dates), see a
preview with row-level errors, and apply it in one transaction — any bad row and nothing is
imported. Firms on the list get that qualification marked official (``Qualification.source =
'official'``, created or updated); a self-declared qualification of that kind and year that the
list does not contain is flagged for staff; listed firms not registered yet can be invited with a
signed registration link that pre-fills their name and USCC.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode

from django.core import signing
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import ImportBatch, OfficialListEntry, QualificationFlag, Role, User
from portal.services import NotAllowedError, ServiceError, transition_record

from .models import Enterprise, Qualification
from .scoring import score_groups_recompute_later, stage_group
from .services import qualification_expiry
from .uscc import USCCError, validate

MAX_ROWS = 50_000
MAX_BYTES = 20 * 1024 * 1024
INVITE_SALT = "kejin.official-list.invite"
INVITE_MAX_AGE = 180 * 24 * 3600
REGISTER_PATH = "/firm/register/"

# Header aliases (case and spaces ignored) → field.
HEADERS = {
    "uscc": ("统一社会信用代码", "社会信用代码", "信用代码", "uscc"),
    "name": ("企业名称", "单位名称", "名称", "name"),
    "number": ("证书编号", "入库编号", "登记编号", "编号", "证书/入库编号", "number"),
    "issued_on": ("发证日期", "入库日期", "登记日期", "认定日期", "发证/入库日期", "issued_on"),
    "expires_on": ("有效期至", "截止日期", "到期日期", "expires_on"),
}
REQUIRED = ("uscc", "name", "issued_on")
KIND_TO_QUALIFICATION = {
    ImportBatch.Kind.TECH_SME: Qualification.Kind.TECH_SME,
    ImportBatch.Kind.HITECH: Qualification.Kind.HITECH,
}


@dataclass
class ParsedList:
    rows: list[dict]
    errors: list[dict]


# ------------------------------------------------------------------------------------------------
# Parsing (pure: bytes in, rows and row errors out)
# ------------------------------------------------------------------------------------------------


def _cells_from_upload(name: str, data: bytes) -> list[list]:
    lower = name.lower()
    if lower.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise ServiceError(_("无法读取该 Excel 文件，请确认是 .xlsx 格式。"), field="file")
        sheet = wb.worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        wb.close()
        return rows
    if lower.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ServiceError(_("无法识别 CSV 文件的编码，请另存为 UTF-8。"), field="file")
        return [list(r) for r in csv.reader(io.StringIO(text))]
    raise ServiceError(_("只支持 .xlsx 或 .csv 文件。"), field="file")


def _header_map(header: list) -> dict[str, int]:
    normalised = [str(h or "").replace(" ", "").replace("\u3000", "").lower() for h in header]
    found = {}
    for field_name, aliases in HEADERS.items():
        for alias in aliases:
            alias = alias.lower()
            if alias in normalised:
                found[field_name] = normalised.index(alias)
                break
    return found


def _parse_date(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    if text.endswith("日") and "年" in text:
        try:
            return datetime.strptime(text, "%Y年%m月%d日").date()
        except ValueError:
            return None
    return None


def parse_official_list(*, name: str, data: bytes, kind: str, year: int) -> ParsedList:
    """Rows ``{"row", "uscc", "name", "number", "issued_on", "expires_on", "warnings"}`` (dates as
    ISO strings) and errors ``{"row", "message"}``; ``row`` is the spreadsheet row number."""
    if len(data) > MAX_BYTES:
        raise ServiceError(_("文件过大（上限 20MB）。"), field="file")
    cells = _cells_from_upload(name, data)
    while cells and not any(str(c or "").strip() for c in cells[0]):
        cells.pop(0)
    if not cells:
        raise ServiceError(_("文件是空的。"), field="file")
    columns = _header_map(cells[0])
    missing = [HEADERS[f][0] for f in REQUIRED if f not in columns]
    if missing:
        raise ServiceError(_("表头缺少列：%(cols)s") % {"cols": "、".join(missing)}, field="file")
    if len(cells) - 1 > MAX_ROWS:
        raise ServiceError(_("单个文件最多 %(n)s 行。") % {"n": MAX_ROWS}, field="file")

    rows, errors, seen = [], [], {}
    for offset, raw in enumerate(cells[1:], start=2):
        if not any(str(c or "").strip() for c in raw):
            continue

        def cell(field_name, raw=raw):
            index = columns.get(field_name)
            return raw[index] if index is not None and index < len(raw) else None

        problems = []
        uscc_raw = str(cell("uscc") or "").strip()
        uscc, warnings = "", []
        try:
            result = validate(uscc_raw)
            uscc, warnings = result.code, list(result.warnings)
        except USCCError as exc:
            problems.append(
                _("统一社会信用代码“%(code)s”无效：%(reason)s") % {"code": uscc_raw, "reason": exc.message}
            )
        firm_name = str(cell("name") or "").strip()
        if not firm_name:
            problems.append(_("企业名称为空"))
        issued_on = _parse_date(cell("issued_on"))
        if issued_on is None:
            problems.append(
                _("发证/入库日期“%(v)s”不是有效日期（应为 YYYY-MM-DD）") % {"v": cell("issued_on") or ""}
            )
        expires_raw = cell("expires_on")
        expires_on = _parse_date(expires_raw)
        if expires_raw not in (None, "") and expires_on is None:
            problems.append(_("有效期“%(v)s”不是有效日期（应为 YYYY-MM-DD）") % {"v": expires_raw})
        if issued_on:
            try:
                expires_on = qualification_expiry(
                    kind=KIND_TO_QUALIFICATION[kind], issued_on=issued_on, expires_on=expires_on
                )
            except ServiceError as exc:
                problems.append(exc.message.rstrip("。"))
        if uscc and uscc in seen:
            problems.append(_("与第 %(row)s 行的统一社会信用代码重复") % {"row": seen[uscc]})
        if problems:
            errors.append({"row": offset, "message": "；".join(problems)})
            continue
        seen[uscc] = offset
        rows.append(
            {
                "row": offset,
                "uscc": uscc,
                "name": firm_name,
                "number": str(cell("number") or "").strip()[:64],
                "issued_on": issued_on.isoformat(),
                "expires_on": expires_on.isoformat(),
                "warnings": warnings,
            }
        )
    if not rows and not errors:
        raise ServiceError(_("文件中没有数据行。"), field="file")
    return ParsedList(rows=rows, errors=errors)


# ------------------------------------------------------------------------------------------------
# Services
# ------------------------------------------------------------------------------------------------


def _require_staff(user: User) -> None:
    if not (user.is_authenticated and user.role == Role.STAFF):
        raise NotAllowedError(_("只有省级专班可以导入官方名单。"))


@transaction.atomic
def official_list_upload(*, user: User, kind: str, year: int, name: str, data: bytes) -> ImportBatch:
    """Parse an uploaded list into a preview batch (nothing applied yet)."""
    _require_staff(user)
    if kind not in ImportBatch.Kind.values:
        raise ServiceError(_("请选择名单类型。"), field="kind")
    if not 2000 <= year <= timezone.localdate().year + 1:
        raise ServiceError(_("年度不在有效范围内。"), field="year")
    parsed = parse_official_list(name=name, data=data, kind=kind, year=year)
    return ImportBatch.objects.create(
        kind=kind, year=year, file_name=name[:200], rows=parsed.rows, errors=parsed.errors, uploaded_by=user
    )


@transaction.atomic
def official_list_apply(*, user: User, batch: ImportBatch) -> ImportBatch:
    """Apply a previewed list in one transaction. Any row error: nothing is imported."""
    _require_staff(user)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportBatch.Status.PREVIEW:
        raise ServiceError(_("该名单已处理过，不能重复导入。"), status=409)
    if batch.errors:
        first = batch.errors[0]
        raise ServiceError(
            _("名单有 %(n)s 行错误，未导入任何数据。第 %(row)s 行：%(msg)s")
            % {"n": len(batch.errors), "row": first["row"], "msg": first["message"]}
        )
    qual_kind = KIND_TO_QUALIFICATION[batch.kind]
    by_uscc = {e.uscc: e for e in Enterprise.objects.filter(uscc__in=[r["uscc"] for r in batch.rows])}
    existing = {}
    for q in Qualification.objects.filter(enterprise__in=by_uscc.values(), kind=qual_kind).order_by(
        "-issued_on"
    ):
        existing.setdefault(q.enterprise_id, []).append(q)

    entries, confirmed, created = [], 0, 0
    for row in batch.rows:
        issued_on, expires_on = date.fromisoformat(row["issued_on"]), date.fromisoformat(row["expires_on"])
        firm = by_uscc.get(row["uscc"])
        entries.append(
            OfficialListEntry(
                batch=batch,
                uscc=row["uscc"],
                name=row["name"],
                number=row["number"],
                issued_on=issued_on,
                expires_on=expires_on,
                enterprise=firm,
            )
        )
        if firm is None:
            continue
        same = [
            q
            for q in existing.get(firm.pk, [])
            if (row["number"] and q.number == row["number"])
            or q.issued_on.year in (batch.year, issued_on.year)
        ]
        if same:
            qual = same[0]
            before = qual.source
            qual.source = Qualification.Source.OFFICIAL
            qual.number = row["number"] or qual.number
            qual.issued_on, qual.expires_on = issued_on, expires_on
            qual.save(update_fields=["source", "number", "issued_on", "expires_on"])
            confirmed += 1
            transition_record(
                subject=qual, from_state=before, to_state=qual.source, actor=user, note=str(batch)
            )
        else:
            qual = Qualification.objects.create(
                enterprise=firm,
                kind=qual_kind,
                number=row["number"],
                issued_on=issued_on,
                expires_on=expires_on,
                source=Qualification.Source.OFFICIAL,
            )
            created += 1
            transition_record(subject=qual, from_state="", to_state=qual.source, actor=user, note=str(batch))
    OfficialListEntry.objects.bulk_create(entries)

    listed = [e.pk for e in by_uscc.values()]
    missing = (
        Qualification.objects.filter(
            kind=qual_kind, source=Qualification.Source.DECLARED, issued_on__year=batch.year
        )
        .exclude(enterprise_id__in=listed)
        .select_related("enterprise")
    )
    reason = _("%(year)s 年%(list)s中没有该企业") % {"year": batch.year, "list": batch.get_kind_display()}
    flags = QualificationFlag.objects.bulk_create(
        [QualificationFlag(qualification=q, batch=batch, reason=reason) for q in missing]
    )

    batch.status = ImportBatch.Status.APPLIED
    batch.applied_at = timezone.now()
    batch.confirmed_count, batch.created_count = confirmed, created
    batch.unregistered_count = sum(1 for e in entries if e.enterprise is None)
    batch.flagged_count = len(flags)
    batch.save()
    transition_record(subject=batch, from_state="preview", to_state="applied", actor=user)
    if (
        created or confirmed
    ):  # new or re-dated qualifications count in the 科创积分 of their firms' stage groups
        score_groups_recompute_later({stage_group(e) for e in by_uscc.values()})
    return batch


@transaction.atomic
def official_list_discard(*, user: User, batch: ImportBatch) -> ImportBatch:
    _require_staff(user)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportBatch.Status.PREVIEW:
        raise ServiceError(_("只有待确认的名单可以放弃。"), status=409)
    batch.status = ImportBatch.Status.DISCARDED
    batch.save(update_fields=["status"])
    return batch


@transaction.atomic
def qualification_flag_resolve(*, user: User, flag: QualificationFlag, note: str) -> QualificationFlag:
    _require_staff(user)
    flag = QualificationFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.resolved_at:
        raise ServiceError(_("该标记已处理。"), status=409)
    if not note.strip():
        raise ServiceError(_("请写明处理说明。"), field="note")
    flag.resolved_at, flag.resolved_by, flag.resolution_note = timezone.now(), user, note.strip()[:200]
    flag.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
    return flag


def invite_token(entry: OfficialListEntry) -> str:
    return signing.dumps(
        {"uscc": entry.uscc, "name": entry.name, "entry": entry.pk}, salt=INVITE_SALT, compress=True
    )


def invite_read(token: str) -> dict | None:
    """The invitation in a registration link (``uscc``, ``name``, ``entry``), or None if forged or old."""
    try:
        return signing.loads(token, salt=INVITE_SALT, max_age=INVITE_MAX_AGE)
    except signing.BadSignature:
        return None


def invite_url(entry: OfficialListEntry) -> str:
    """``/firm/register/?invite=<signed>&name=…&uscc=…`` (the registration page reads the plain
    ``name`` and ``uscc`` as initial values; the signature proves they came from the list)."""
    return (
        REGISTER_PATH
        + "?"
        + urlencode({"invite": invite_token(entry), "name": entry.name, "uscc": entry.uscc})
    )


@transaction.atomic
def official_entry_invite(*, user: User, entry: OfficialListEntry) -> str:
    """Mark a listed, unregistered firm as invited and return its registration link."""
    _require_staff(user)
    if entry.enterprise_id or Enterprise.objects.filter(uscc=entry.uscc).exists():
        raise ServiceError(_("该企业已在平台注册，无需邀请。"), status=409)
    OfficialListEntry.objects.filter(pk=entry.pk, invited_at__isnull=True).update(invited_at=timezone.now())
    return invite_url(entry)


# ------------------------------------------------------------------------------------------------
# Selectors
# ------------------------------------------------------------------------------------------------


def import_batch_for_user(user) -> QuerySet[ImportBatch]:
    qs = ImportBatch.objects.select_related("uploaded_by")
    if getattr(user, "is_authenticated", False) and user.role == Role.STAFF:
        return qs
    return qs.none()


def open_flags(*, user) -> QuerySet[QualificationFlag]:
    if not (getattr(user, "is_authenticated", False) and user.role == Role.STAFF):
        return QualificationFlag.objects.none()
    return QualificationFlag.objects.filter(resolved_at__isnull=True).select_related(
        "qualification", "qualification__enterprise", "batch"
    )


def unregistered_entries(*, user) -> QuerySet[OfficialListEntry]:
    """Listed firms (applied lists) with no registered enterprise of that USCC."""
    if not (getattr(user, "is_authenticated", False) and user.role == Role.STAFF):
        return OfficialListEntry.objects.none()
    return (
        OfficialListEntry.objects.filter(batch__status=ImportBatch.Status.APPLIED)
        .exclude(uscc__in=Enterprise.objects.values("uscc"))
        .select_related("batch")
        .order_by("-batch__year", "name", "id")
    )
