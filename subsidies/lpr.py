"""The LPR readings published so far (domain.md §3). Staff add newer ones in the admin."""

from datetime import date
from decimal import Decimal

LPR_READINGS = [
    (date(2022, 8, 22), Decimal("3.65"), Decimal("4.30")),
    (date(2023, 6, 20), Decimal("3.55"), Decimal("4.20")),
    (date(2023, 8, 21), Decimal("3.45"), Decimal("4.20")),
    (date(2024, 2, 20), Decimal("3.45"), Decimal("3.95")),
    (date(2024, 7, 22), Decimal("3.35"), Decimal("3.85")),
    (date(2024, 10, 21), Decimal("3.10"), Decimal("3.60")),
    (date(2025, 5, 20), Decimal("3.00"), Decimal("3.50")),
]


def ensure_lpr(lpr_model) -> int:
    created = 0
    for effective_from, one_year, five_year in LPR_READINGS:
        _, was_created = lpr_model.objects.get_or_create(
            effective_from=effective_from, defaults={"one_year": one_year, "five_year": five_year}
        )
        created += was_created
    return created
