"""Usable at 390 px without a browser (the browser check is tests/e2e/test_accessibility.py): the
dashboard's league table, the lead inbox and the application queues scroll inside their own box
(.table-responsive) with the key columns first — the name, its status, the deadline or amount —
and those columns cannot be squeezed into one-character columns (a minimum width for names, no
wrapping for amounts, deadlines and headers)."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine
from django.conf import settings

from tests.portal.conftest import NOW
from tests.portal.test_kpi import world  # noqa: F401  (the hand-counted world of the KPI tests)

CSS = (Path(settings.BASE_DIR) / "static" / "css" / "kejin.css").read_text()


class Tables(HTMLParser):
    """For each table: whether it sits in a .table-responsive box, its header cells (attributes)
    and the cells of its first body row (attributes)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, dict] = {}
        self._stack: list[str] = []  # open div / table classes
        self._table: dict | None = None
        self._in = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div":
            self._stack.append(a.get("class") or "")
        elif tag == "table":
            self._table = {
                "responsive": any("table-responsive" in c.split() for c in self._stack),
                "th": [],
                "first_row": [],
                "rows": 0,
            }
            self.tables[a.get("id") or f"table{len(self.tables)}"] = self._table
        elif self._table is not None and tag in ("thead", "tbody"):
            self._in = tag
        elif self._table is not None and tag == "tr" and self._in == "tbody":
            self._table["rows"] += 1
        elif self._table is not None and tag == "th" and self._in == "thead":
            self._table["th"].append(a)
        elif self._table is not None and tag == "td" and self._in == "tbody" and self._table["rows"] == 1:
            self._table["first_row"].append(a)

    def handle_endtag(self, tag):
        if tag == "div" and self._stack:
            self._stack.pop()
        elif tag == "table":
            self._table = None


def tables(html: str) -> dict[str, dict]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def on_a_phone(cells: list[dict]) -> list[dict]:
    """The cells a 390 px screen shows (d-none d-md-table-cell is hidden below 768 px)."""
    return [c for c in cells if "d-none" not in (c.get("class") or "").split()]


def classes(cell: dict) -> set[str]:
    return set((cell.get("class") or "").split())


PAGES = [
    # (who, url, table id, the key columns a phone shows first, the cells that must not wrap)
    ("staff", "/dashboard/?period=custom&from=2026-01-01&to=2026-12-31", "league",
     ["institution", "on_time_share", "credit_granted"], [1, 2]),
    ("manager_a", "/dashboard/?period=custom&from=2026-01-01&to=2026-12-31", "league",
     ["institution", "on_time_share", "credit_granted"], [1, 2]),
    ("manager_a", "/bank/applications/?status=", "application-table", ["firm", "status", "amount"], [2]),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "url", "table_id", "key", "nowrap"), PAGES, ids=[p[2] + "-" + p[0] for p in PAGES])
def test_the_main_tables_put_the_key_columns_first_and_scroll_in_their_box(
    world, client_for, who, url, table_id, key, nowrap  # noqa: F811
):
    check_table(client_for(getattr(world, who)), url, table_id, key, nowrap)


@pytest.mark.django_db
def test_the_lead_inbox_puts_firm_status_deadline_and_amount_first(leads, cast, client_for):
    lead_a, _lead_b = leads
    with time_machine.travel(NOW, tick=False):
        officer = lead_a.assigned_officer or cast.officer_a
        check_table(client_for(officer), "/bank/leads/", "lead-table", ["firm", "status", "deadline", "amount"], [1, 2, 3])


def check_table(client, url, table_id, key, nowrap):
    response = client.get(url)
    assert response.status_code == 200
    table = tables(response.content.decode())[table_id]
    assert table["responsive"], "the table scrolls inside .table-responsive, not the page"
    assert table["rows"] >= 1, "the world has rows for this table"
    shown = [th.get("data-col") for th in on_a_phone(table["th"])]
    assert shown[: len(key)] == key, shown
    # the key (name) column keeps a minimum width; amounts, deadlines and shares do not wrap
    assert "col-key" in classes(table["th"][0]) and "col-key" in classes(table["first_row"][0])
    cells = on_a_phone(table["first_row"])
    assert len(cells) == len(shown)
    for i in nowrap:
        assert "text-nowrap" in classes(cells[i]), (shown[i], cells[i])


def test_the_stylesheet_keeps_headers_on_one_line_and_names_readable():
    assert re.search(r"\.table-responsive > \.table th \{ white-space: nowrap; \}", CSS)
    assert re.search(r"\.table-responsive > \.table \.col-key \{ min-width: 9em; \}", CSS)
    # a headline figure shrinks on a phone rather than widening its half-width card
    assert re.search(r"@media \(max-width: 576px\) \{ \.figure-card \.figure-value \{ font-size", CSS)


@pytest.mark.django_db
def test_the_dashboard_has_a_phone_viewport_and_no_fixed_width_wider_than_a_phone(world, client_for):  # noqa: F811
    html = client_for(world.staff).get("/dashboard/?period=custom&from=2026-01-01&to=2026-12-31").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1' in html
    widths = [int(w) for w in re.findall(r"(?:min-)?width:\s*(\d+)px", html)]
    assert all(w <= 390 for w in widths), widths
    # every table of the page scrolls in its own box
    assert all(t["responsive"] for t in tables(html).values())
