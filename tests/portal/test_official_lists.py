"""Official lists: preview with row-level errors, all-or-nothing import, qualifications confirmed,
declared ones missing from the list flagged, unregistered firms invited with a signed link."""

import io
from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest

from enterprises import official_lists
from enterprises.models import Qualification
from portal.models import ImportBatch, OfficialListEntry, QualificationFlag
from tests import factories as f

pytestmark = pytest.mark.django_db

HUAWEI, BOC, ICBC = "914403001922038216", "911000001000013428", "91100000100003962T"
ICBC_BAD = "91100000100003962A"  # last character changed: check character should be T


def csv_bytes(rows, header="统一社会信用代码,企业名称,证书编号,发证日期,有效期至"):
    return ("\n".join([header, *[",".join(r) for r in rows]]) + "\n").encode("utf-8-sig")


def xlsx_bytes(rows):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["统一社会信用代码", "企业名称", "证书编号", "发证日期", "有效期至"])
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def firms(cast):
    ns = type("Firms", (), {})()
    ns.listed = f.EnterpriseFactory(name="华为（测试）", uscc=HUAWEI)
    ns.declared_on_list = f.QualificationFactory(
        enterprise=ns.listed,
        kind="hitech",
        number="GR2025",
        issued_on=date(2025, 10, 1),
        expires_on=date(2028, 9, 30),
    )
    ns.missing = f.EnterpriseFactory(name="自报未列入", uscc=BOC)
    ns.missing_declared = f.QualificationFactory(
        enterprise=ns.missing, kind="hitech", issued_on=date(2025, 11, 1), expires_on=date(2028, 10, 31)
    )
    return ns


def upload(client, data, name="hitech.csv", kind="hitech", year=2025):
    return client.post(
        "/staff/official-lists/",
        {"kind": kind, "year": year, "file": _file(name, data)},
    )


def _file(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_a_list_with_one_bad_row_imports_nothing_and_names_the_row(cast, firms, client_for):
    client = client_for(cast.staff)
    data = csv_bytes(
        [[HUAWEI, "华为", "GR2025", "2025-10-01", ""], [ICBC_BAD, "工商银行", "GR2025X", "2025-10-01", ""]]
    )
    response = upload(client, data)
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/staff/official-lists/{batch.pk}/"
    preview = client.get(response["Location"]).content.decode()
    assert 'data-row="3"' in preview and "第 3 行" in preview
    assert ICBC_BAD in preview and "校验" in preview
    client.post(response["Location"], {"action": "apply"})
    batch.refresh_from_db()
    assert batch.status == "preview"
    firms.declared_on_list.refresh_from_db()
    assert firms.declared_on_list.source == "declared"
    assert not OfficialListEntry.objects.exists() and not QualificationFlag.objects.exists()


def test_a_good_list_confirms_the_firms_on_it_and_flags_a_declared_one_missing(cast, firms, client_for):
    client = client_for(cast.staff)
    data = xlsx_bytes(
        [
            (HUAWEI, "华为", "GR2025", date(2025, 10, 1), None),
            (ICBC, "工商银行（未注册）", "GR2025Y", "2025-11-20", "2028-11-19"),
        ]
    )
    response = upload(client, data, name="高企名单.xlsx")
    client.post(response["Location"], {"action": "apply"})
    batch = ImportBatch.objects.get()
    assert batch.status == "applied"
    assert (batch.confirmed_count, batch.created_count, batch.unregistered_count, batch.flagged_count) == (
        1,
        0,
        1,
        1,
    )
    q = Qualification.objects.get(pk=firms.declared_on_list.pk)
    assert q.source == "official" and q.expires_on == date(2028, 9, 30)
    flag = QualificationFlag.objects.get()
    assert flag.qualification == firms.missing_declared and "2025" in flag.reason
    assert "自报未列入" in client.get("/staff/official-lists/flags/").content.decode()


def test_a_listed_firm_without_the_qualification_gets_it_created_as_official(cast, client_for):
    firm = f.EnterpriseFactory(uscc=HUAWEI)
    client = client_for(cast.staff)
    response = upload(
        client, csv_bytes([[HUAWEI, "华为", "2026-0001", "2026-05-01", ""]]), kind="tech_sme", year=2026
    )
    client.post(response["Location"], {"action": "apply"})
    q = Qualification.objects.get(enterprise=firm)
    assert (q.kind, q.source, q.expires_on) == ("tech_sme", "official", date(2026, 12, 31))


def test_unregistered_listed_firms_are_invited_with_a_signed_prefilled_link(cast, client_for):
    client = client_for(cast.staff)
    response = upload(client, csv_bytes([[ICBC, "工商银行", "GR1", "2025-01-01", ""]]))
    client.post(response["Location"], {"action": "apply"})
    entry = OfficialListEntry.objects.get()
    page = client.post("/staff/official-lists/invites/", {"entry": entry.pk}).content.decode()
    assert "/firm/register/?invite=" in page
    link = official_lists.invite_url(entry)
    params = parse_qs(urlparse(link).query)
    assert params["uscc"] == [ICBC] and params["name"] == ["工商银行"]
    assert official_lists.invite_read(params["invite"][0])["uscc"] == ICBC
    assert official_lists.invite_read(params["invite"][0] + "x") is None
    entry.refresh_from_db()
    assert entry.invited_at is not None


def test_a_file_without_the_required_columns_is_refused(cast, client_for):
    response = upload(client_for(cast.staff), csv_bytes([["x"]], header="名称"))
    assert response.status_code == 200
    assert "表头缺少列" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_list_cannot_be_applied_twice(cast, client_for):
    client = client_for(cast.staff)
    response = upload(client, csv_bytes([[ICBC, "工商银行", "GR1", "2025-01-01", ""]]))
    client.post(response["Location"], {"action": "apply"})
    again = client.post(response["Location"], {"action": "apply"}, follow=True)
    assert "不能重复导入" in again.content.decode()
    assert OfficialListEntry.objects.count() == 1


@pytest.mark.parametrize("who", ["firm_a", "officer_a", "manager_a"])
def test_only_staff_import_lists(cast, client_for, who):
    client = client_for(getattr(cast, who))
    for url in ("/staff/official-lists/", "/staff/official-lists/flags/", "/staff/official-lists/invites/"):
        assert client.get(url).status_code == 403
