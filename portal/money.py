"""Money and rate display: yuan stored, 万元 / 亿元 shown. Decimal only."""

from decimal import ROUND_HALF_UP, Decimal

WAN = Decimal("10000")
YI = Decimal("100000000")
CENT = Decimal("0.01")


def to_decimal(value) -> Decimal:
    if isinstance(value, float):
        raise TypeError("金额不能是浮点数，请使用 Decimal")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def yuan_to_wan(value) -> Decimal:
    return (to_decimal(value) / WAN).quantize(CENT, rounding=ROUND_HALF_UP)


def wan_to_yuan(value) -> Decimal:
    return (to_decimal(value) * WAN).quantize(CENT, rounding=ROUND_HALF_UP)


def yuan_to_yi(value) -> Decimal:
    return (to_decimal(value) / YI).quantize(CENT, rounding=ROUND_HALF_UP)


def format_wan(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{yuan_to_wan(value):,.2f}万元"


def format_yi(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{yuan_to_yi(value):,.2f}亿元"


def format_total(value) -> str:
    """A total: 亿元 from 1亿 up, else 万元 (tiles and headline figures)."""
    if value is None or value == "":
        return "—"
    return format_yi(value) if abs(to_decimal(value)) >= YI else format_wan(value)


def format_percent(value, places: int = 1) -> str:
    """A 0–1 share → '33.3%' (half up; '—' without a value)."""
    if value is None or value == "":
        return "—"
    pct = (to_decimal(value) * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if pct == 0:
        pct = abs(pct)
    return f"{pct}%"


def format_times(value) -> str:
    """A ratio → '12.02×' ('—' without a value)."""
    if value is None or value == "":
        return "—"
    return f"{to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):,}×"


def format_hours(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{to_decimal(value).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}小时"


def format_count(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{int(value):,}"
