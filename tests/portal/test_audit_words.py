"""The audit log in words: who did what to which object, with the raw data folded away."""

import re

import pytest

from portal.audit import audit_state_change
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_state_change_reads_as_a_sentence_with_the_raw_data_folded(cast, client_for):
    app = f.ApplicationFactory(product=f.ProductFactory(institution=cast.bank_a, name="浦新贷"))
    audit_state_change(
        subject=app, from_state="disbursed", to_state="repaid", actor=cast.officer_a, note="结清"
    )
    html = client_for(cast.staff).get("/staff/audit/").content.decode()
    sentences = re.findall(r"<span data-sentence>(.*?)</span>", html)
    assert f"{cast.officer_a.username} 将 {app}（融资申请） 从 已放款 改为 已结清" in sentences
    assert f"{cast.staff.username} 登录" in sentences
    outside_details = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    assert "matching.application" not in outside_details and "matching.application" in html
