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


#: The units an amount is typed in: yuan in the API, 万元 on the pages. A refusal quotes amounts in
#: the unit of the form that sent them.
UNIT_YUAN = "yuan"
UNIT_WAN = "wan"


def format_yuan(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):,.2f}元"


def format_money(value, unit: str = UNIT_YUAN) -> str:
    """An amount in yuan, written in ``unit`` (``UNIT_WAN`` → "250.00万元", else "2,500,000.00元")."""
    return format_wan(value) if unit == UNIT_WAN else format_yuan(value)
