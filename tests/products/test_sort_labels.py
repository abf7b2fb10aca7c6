"""The supermarket's sort options read in Chinese, both directions."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_every_sort_option_of_the_supermarket_is_chinese(client):
    html = client.get("/products/").content.decode()
    select = re.search(r'<select[^>]*name="sort".*?</select>', html, flags=re.S).group(0)
    labels = re.findall(r"<option[^>]*>([^<]*)</option>", select)
    assert {"利率从低到高", "利率从高到低", "额度从低到高", "最新上架", "期限从短到长"} <= set(labels)
    assert not [label for label in labels if re.search(r"[A-Za-z]", label)]
