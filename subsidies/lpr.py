"""The LPR readings published so far (domain.md §3). Staff add newer ones (the LPR page, the admin).

The reformed LPR has been published since 2019-08-20 (:data:`LPR_FIRST_DATE`); only the changes are
listed and a rate holds until the next row. A date before the first reading has no LPR."""

from datetime import date
from decimal import Decimal

#: The first reformed LPR reading: before this day there is no LPR.
LPR_FIRST_DATE = date(2019, 8, 20)

LPR_READINGS = [
    (date(2019, 8, 20), Decimal("4.25"), Decimal("4.85")),
    (date(2019, 9, 20), Decimal("4.20"), Decimal("4.85")),
    (date(2019, 11, 20), Decimal("4.15"), Decimal("4.80")),
    (date(2020, 2, 20), Decimal("4.05"), Decimal("4.75")),
    (date(2020, 4, 20), Decimal("3.85"), Decimal("4.65")),
    (date(2021, 12, 20), Decimal("3.80"), Decimal("4.65")),
    (date(2022, 1, 20), Decimal("3.70"), Decimal("4.60")),
    (date(2022, 5, 20), Decimal("3.70"), Decimal("4.45")),
    (date(2022, 8, 22), Decimal("3.65"), Decimal("4.30")),
    (date(2023, 6, 20), Decimal("3.55"), Decimal("4.20")),
    (date(2023, 8, 21), Decimal("3.45"), Decimal("4.20")),
    (date(2024, 2, 20), Decimal("3.45"), Decimal("3.95")),
    (date(2024, 7, 22), Decimal("3.35"), Decimal("3.85")),
    (date(2024, 10, 21), Decimal("3.10"), Decimal("3.60")),
    (date(2025, 5, 20), Decimal("3.00"), Decimal("3.50")),
]


def ensure_lpr(lpr_model) -> int:
    """Add the readings above that the table lacks (rows staff entered are left as they are)."""
    created = 0
    for effective_from, one_year, five_year in LPR_READINGS:
        _, was_created = lpr_model.objects.get_or_create(
            effective_from=effective_from, defaults={"one_year": one_year, "five_year": five_year}
        )
        created += was_created
    return created
