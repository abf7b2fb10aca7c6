"""The one presentation module: money, rates, shares, dates and counts as the portal shows them.

Yuan are stored (``Decimal``, 2 places); on screen, in forms, exports and messages:
- 万元 with 2 decimals and thousands separators (``format_wan`` → '1,234.50万元'), the unit of
  lists and forms (a form takes 万元: ``wan_to_yuan`` / ``wan_input``);
- 亿元 for province-wide totals (``format_yi``; ``format_total`` picks 亿元 from 1亿 up);
- 元 with separators only where the unit is yuan and says so (``format_yuan`` → '1,110,000.00元');
- exact figures for worked explanations (subsidies.calc's reasons): ``round_exact`` rounds an exact
  ``Fraction`` or ``Decimal`` once, half up; ``format_yuan_exact`` → '77,930.56元',
  ``format_money_exact`` picks the largest unit that loses no fen ('3,768.00万元', '1,234.56元'),
  ``format_rate_exact`` keeps every decimal of a rate ('3.10%', '3.125%'), ``format_share_exact``
  writes a fraction as a plain percent ('50%', '3.5%');
- rates '3.10%', shares '33.3%', ratios '12.02×', hours '38.0小时', counts '1,234', dates
  'YYYY-MM-DD' (Beijing time).
Rounding is half up everywhere, and a figure that rounds to zero never shows a minus sign
('−0.00'). Templates use these through the ``kejin`` filters; nothing divides by 10000 by hand.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

WAN = Decimal("10000")
YI = Decimal("100000000")
CENT = Decimal("0.01")
DASH = "—"


def to_decimal(value) -> Decimal:
    if isinstance(value, float):
        raise TypeError("金额不能是浮点数，请使用 Decimal")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _round(value: Decimal, exp: Decimal = CENT) -> Decimal:
    out = value.quantize(exp, rounding=ROUND_HALF_UP)
    return abs(out) if out == 0 else out  # never −0.00


def _empty(value) -> bool:
    return value is None or value == ""


def yuan_to_wan(value) -> Decimal:
    return _round(to_decimal(value) / WAN)


def wan_to_yuan(value) -> Decimal:
    return _round(to_decimal(value) * WAN)


def yuan_to_yi(value) -> Decimal:
    return _round(to_decimal(value) / YI)


def grouped(value: Decimal, places: int = 2) -> str:
    """'1,234.50': separators, ``places`` decimals, half up, no −0."""
    return f"{_round(value, Decimal(1).scaleb(-places)):,.{places}f}"


def format_wan(value) -> str:
    """Yuan → '1,234.50万元'."""
    return DASH if _empty(value) else f"{grouped(to_decimal(value) / WAN)}万元"


def format_wan_number(value) -> str:
    """Yuan → '1,234.50' (a table cell whose header says 万元)."""
    return "" if _empty(value) else grouped(to_decimal(value) / WAN)


def wan_input(value) -> str:
    """Yuan → '1234.50': the value of a 万元 form input (no separators: the browser parses it)."""
    return "" if _empty(value) else f"{yuan_to_wan(value):.2f}"


def format_yi(value) -> str:
    """Yuan → '1.01亿元'."""
    return DASH if _empty(value) else f"{grouped(to_decimal(value) / YI)}亿元"


def format_total(value) -> str:
    """A total: 亿元 from 1亿 up, else 万元 (headline figures)."""
    if _empty(value):
        return DASH
    return format_yi(value) if abs(to_decimal(value)) >= YI else format_wan(value)


def format_yuan(value) -> str:
    """Yuan → '1,110,000.00元' (only where the unit is yuan and says so)."""
    return DASH if _empty(value) else f"{grouped(to_decimal(value))}元"


def round_exact(value: Fraction | Decimal, places: int = 2) -> Decimal:
    """Round an exact value once, half up (a tie goes away from zero), to ``places`` decimals.

    Works on ``Fraction`` without any intermediate Decimal division (whose context precision would
    round first); never returns −0.
    """
    x = Fraction(value)
    scaled = abs(x) * 10**places
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest >= scaled.denominator:
        whole += 1
    sign = 1 if x < 0 and whole else 0
    return Decimal((sign, tuple(int(c) for c in str(whole)), -places))


def format_yuan_exact(value: Fraction | Decimal) -> str:
    """An exact amount in yuan → '77,930.56元' (to the fen, half up, separators)."""
    return f"{round_exact(value):,.2f}元"


_YI_FEN = Fraction(YI) / 100
_WAN_FEN = Fraction(WAN) / 100


def format_money_exact(value: Fraction | Decimal) -> str:
    """The largest unit that shows an exact yuan amount without losing a fen: 亿元 (from 1亿 up, when
    a whole number of 百万元), 万元 (a whole number of 百元), else 元 — '3,768.00万元', '1,234.56元'."""
    x = Fraction(value)
    if x and (x / _YI_FEN).denominator == 1 and abs(x) >= YI:
        return f"{round_exact(x / Fraction(YI)):,.2f}亿元"
    if x and (x / _WAN_FEN).denominator == 1:
        return f"{round_exact(x / Fraction(WAN)):,.2f}万元"
    return format_yuan_exact(x)


def format_rate_exact(rate: Decimal) -> str:
    """A percent rate with at least 2 decimals and every further one it has: '3.10%', '3.125%'."""
    two_places = rate.quantize(CENT)
    return f"{two_places if two_places == rate else rate:f}%"


def format_share_exact(share: Fraction | Decimal) -> str:
    """A 0–1 share as a plain percent without trailing zeros: 0.5 → '50%', 0.035 → '3.5%'."""
    x = Fraction(share)
    return f"{(Decimal(x.numerator) / Decimal(x.denominator) * 100).normalize():f}%"


def format_amount(value, unit: str) -> str:
    """An amount in the unit of the field it belongs to: 'wan' | 'yuan' | 'yi' (error messages)."""
    return {"wan": format_wan, "yuan": format_yuan, "yi": format_yi}[unit](value)


def format_rate(value) -> str:
    """A percent rate → '3.10%'."""
    return DASH if _empty(value) else f"{_round(to_decimal(value))}%"


def format_percent(value, places: int = 1) -> str:
    """A 0–1 share → '33.3%'."""
    if _empty(value):
        return DASH
    return f"{_round(to_decimal(value) * 100, Decimal(1).scaleb(-places))}%"


def format_times(value) -> str:
    """A ratio → '12.02×'."""
    return DASH if _empty(value) else f"{grouped(to_decimal(value))}×"


def format_hours(value) -> str:
    return DASH if _empty(value) else f"{_round(to_decimal(value), Decimal('0.1'))}小时"


def format_count(value) -> str:
    return DASH if _empty(value) else f"{int(value):,}"


def format_date(value) -> str:
    """A date or an aware datetime → 'YYYY-MM-DD' (Beijing time)."""
    if not value:
        return ""
    if isinstance(value, datetime):
        from django.utils import timezone

        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.isoformat() if isinstance(value, date) else str(value)


def format_datetime(value) -> str:
    """An aware datetime → 'YYYY-MM-DD HH:MM' (Beijing time)."""
    if not value:
        return ""
    from django.utils import timezone

    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


#: The units an amount is typed in: yuan in the API, 万元 on the pages. A refusal quotes amounts in
#: the unit of the form that sent them.
UNIT_YUAN = "yuan"
UNIT_WAN = "wan"


def format_money(value, unit: str = UNIT_YUAN) -> str:
    """An amount in yuan, written in ``unit`` (``UNIT_WAN`` → "250.00万元", else "2,500,000.00元")."""
    return format_amount(value, unit)
