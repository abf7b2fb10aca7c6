"""The matching engine: does a firm's financing need fit a financial product, and how well?

This module is the single home of the matching rules. The firm's "eligibility check" on a product
page and the background matching service (Celery tasks over every open need × published product)
both call :func:`evaluate`; nothing else may re-implement a criterion.

It is pure Python on the standard library (and the plain data of :mod:`portal.vocabulary`):
no Django, no ORM, no I/O. Callers turn their
model rows into the frozen fact dataclasses below (``FirmFacts``, ``NeedFacts``, ``ProductFacts``)
and get back an :class:`Evaluation`:

* **criteria** — the hard rules, one :class:`CriterionResult` per rule the product actually sets,
  in a fixed order, each with a stable ``code``, a short Chinese ``label`` and a Chinese ``reason``
  sentence carrying the real figures ("发明专利 1 件，需不少于 2 件"). ``eligible`` means all met;
  a pair failing one or two criteria is a *near miss* (:data:`NEAR_MISS_MAX_FAILED`), for which
  :func:`advice` tells the firm what to do.
* **score** — 0–100, a weighted sum of soft factors, computed even when the pair is not
  eligible, split into :class:`ScorePart` items whose points add up to the score. The weights are
  :data:`WEIGHTS_SCORED` for a firm with a 科创积分 (its innovation score, ``FirmFacts.innovation_score``)
  and :data:`WEIGHTS` for a firm not scored yet: the 科创积分 factor is worth 10 points, its
  fraction is the total ÷ 100 (a firm scoring 72.5 gets 7.25 of them), and since the 科创积分
  already ranks R&D spend and patents among the firm's peers, R&D intensity and IP strength weigh 5
  points less each for a scored firm. A firm without a score gets 0 of 0 points for the factor and
  the other factors keep their full weights, so its match score is what it was before the 科创积分.

Each hard criterion is written once, in the table :data:`_CRITERIA`: when the product sets it
(``sets``), the rule itself (``met``) and the wording of its verdict (``explain``). The full
evaluation asks ``met`` and then ``explain``; the fast screen of a full run (:func:`failed_count`,
:class:`Matcher`) asks ``met`` alone, so the two cannot disagree.

Money is ``Decimal`` yuan and rates are ``Decimal`` percent throughout; floats are refused with
``TypeError``. Money in reasons is shown in 万元 with two decimals (:func:`fmt_wan`), dates as
``YYYY-MM-DD``.

The codes it judges (industries, stages, guarantee types, qualifications, product types) come
from :mod:`portal.vocabulary`, the one source of these codes for the whole project; models and
forms import them from there, not from here.

Performance: the full matching run calls :func:`evaluate` for millions of pairs, so the code avoids
regexes, copies and per-call set-up; every Decimal constant is built once at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from functools import lru_cache
from typing import Any, NamedTuple

from portal.vocabulary import GUARANTEE_TYPES, INDUSTRIES, PRODUCT_TYPES, QUALIFICATIONS, STAGES

__all__ = [
    "CRITERIA",
    "GUARANTEE_TYPES",
    "INDUSTRIES",
    "NEAR_MISS_MAX_FAILED",
    "PRODUCT_TYPES",
    "QUALIFICATIONS",
    "SCORE_FACTORS",
    "STAGES",
    "WEIGHTS",
    "WEIGHTS_SCORED",
    "CriterionResult",
    "Evaluation",
    "FirmFacts",
    "Matcher",
    "NeedFacts",
    "ProductFacts",
    "QualificationFact",
    "ScorePart",
    "advice",
    "evaluate",
    "failed_count",
    "fmt_score",
    "fmt_wan",
]

# ---------------------------------------------------------------------------------------------
# Choices: the project's vocabulary (portal.vocabulary), judged here.
# ---------------------------------------------------------------------------------------------

#: Hard criteria, code → label, in the order :func:`evaluate` reports them.
CRITERIA: dict[str, str] = {
    "city": "所在地区",
    "industry": "所属行业",
    "stage": "发展阶段",
    "qualification": "资质认定",
    "revenue": "营业收入",
    "years": "成立年限",
    "export": "出口业务",
    "invention_patents": "发明专利",
    "innovation_score": "科创积分",
    "amount": "融资金额",
    "term": "融资期限",
    "revenue_share": "额度占营收比例",
    "guarantee": "担保方式",
    "rate": "利率",
}

#: Soft score factors, code → label, in the order of ``Evaluation.score_parts``.
SCORE_FACTORS: dict[str, str] = {
    "amount_fit": "额度匹配度",
    "rate_headroom": "利率空间",
    "rd_intensity": "研发投入强度",
    "ip_strength": "知识产权实力",
    "qualification_strength": "资质实力",
    "stage_fit": "阶段匹配度",
    "innovation_score": "科创积分",
}

#: Maximum points of each score factor for a firm without a 科创积分 (not scored yet); they sum
#: to 100. The 科创积分 factor weighs nothing here.
WEIGHTS: dict[str, int] = {
    "amount_fit": 20,
    "rate_headroom": 15,
    "rd_intensity": 20,
    "ip_strength": 15,
    "qualification_strength": 20,
    "stage_fit": 10,
    "innovation_score": 0,
}

#: Maximum points of each score factor for a firm with a 科创积分; they sum to 100. The score's 10
#: points come from R&D intensity and IP strength, which the 科创积分 already ranks.
WEIGHTS_SCORED: dict[str, int] = {
    "amount_fit": 20,
    "rate_headroom": 15,
    "rd_intensity": 15,
    "ip_strength": 10,
    "qualification_strength": 20,
    "stage_fit": 10,
    "innovation_score": 10,
}
for _table in (WEIGHTS, WEIGHTS_SCORED):
    if sum(_table.values()) != 100 or list(_table) != list(SCORE_FACTORS):
        raise RuntimeError("each weight table must list SCORE_FACTORS in order and sum to 100")

#: A pair that fails at least one and at most this many criteria is a near miss (not a lead).
NEAR_MISS_MAX_FAILED = 2

# ---------------------------------------------------------------------------------------------
# Input facts
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QualificationFact:
    """One qualification a firm holds.

    It counts on day ``d`` iff ``issued_on <= d`` and (``expires_on is None`` or ``d <= expires_on``):
    a certificate expiring today still counts today.
    """

    code: str  # a QUALIFICATIONS key
    issued_on: date
    expires_on: date | None  # None = no expiry
    official: bool = False  # confirmed on an official list (weighted above self-declared)


@dataclass(frozen=True, slots=True)
class FirmFacts:
    """What the engine needs to know about a firm (enterprise)."""

    city: str  # GB/T 2260 division code, e.g. '140100'
    city_parent: str | None  # '140100' for the zone '140171' (综改区); None for a city
    industry: str  # an INDUSTRIES key
    stage: str  # a STAGES key
    founded_on: date
    employees: int
    rd_staff: int
    revenue: Decimal  # last year's revenue, yuan
    rd_spend: Decimal  # last year's R&D spend, yuan
    export_business: bool
    invention_patents: int
    ip_assets: int  # all IP assets (patents of every kind, software copyrights, trademarks)
    qualifications: tuple[QualificationFact, ...] = ()
    innovation_score: Decimal | None = None  # the current 科创积分, 0–100; None = not scored yet


@dataclass(frozen=True, slots=True)
class NeedFacts:
    """A posted financing need."""

    amount: Decimal  # yuan
    term_months: int
    guarantee_types: frozenset[str]  # subset of GUARANTEE_TYPES keys the firm can offer
    max_annual_rate: Decimal | None  # percent, e.g. Decimal('4.50'); None = not stated


@dataclass(frozen=True, slots=True)
class ProductFacts:
    """A published financial product and its eligibility rules."""

    product_type: str  # a PRODUCT_TYPES key
    amount_min: Decimal  # yuan
    amount_max: Decimal  # yuan
    term_min: int  # months
    term_max: int  # months
    rate_min: Decimal | None  # percent; None for equity/insurance
    rate_max: Decimal | None
    guarantee_types: frozenset[str]  # what the product accepts
    cities: frozenset[str] = frozenset()  # empty = whole province; a zone whose parent is listed qualifies
    industries: frozenset[str] = frozenset()  # empty = all
    stages: frozenset[str] = frozenset()  # empty = all
    # ALL required; a higher 专精特新 tier satisfies a lower one (srdi_giant > srdi_sme > srdi_innovative)
    required_qualifications: frozenset[str] = frozenset()
    min_revenue: Decimal | None = None
    min_invention_patents: int = 0
    min_years: int = 0
    export_required: bool = False
    max_amount_revenue_ratio: Decimal | None = None  # Decimal('0.50'): amount <= 50% of last-year revenue
    min_innovation_score: Decimal | None = None  # the firm's 科创积分 must be at least this (0–100)


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


class CriterionResult(NamedTuple):
    """The verdict on one hard criterion (immutable; a named tuple because a full run builds
    millions of them).

    ``advice`` (not part of :meth:`Evaluation.as_dict`) is what the firm should do when the
    criterion is not met; :func:`advice` collects it for near misses.
    """

    code: str
    label: str
    met: bool
    reason: str
    advice: str = ""

    def as_dict(self) -> dict[str, Any]:
        """How a criterion is stored and shown (``advice`` is not part of it)."""
        return {"code": self.code, "label": self.label, "met": self.met, "reason": self.reason}


class ScorePart(NamedTuple):
    """One soft factor's contribution to the score."""

    code: str
    label: str
    points: int
    max_points: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The result of :func:`evaluate` for one (firm, product[, need]) triple."""

    criteria: tuple[CriterionResult, ...]
    score: int  # 0..100, computed even when not eligible; == sum of score_parts' points
    score_parts: tuple[ScorePart, ...]

    @property
    def eligible(self) -> bool:
        """All criteria met."""
        return all(c.met for c in self.criteria)

    @property
    def failed(self) -> tuple[CriterionResult, ...]:
        """The criteria not met, in report order."""
        return tuple(c for c in self.criteria if not c.met)

    @property
    def near_miss(self) -> bool:
        """Not eligible, but failing at most :data:`NEAR_MISS_MAX_FAILED` criteria."""
        n = sum(1 for c in self.criteria if not c.met)
        return 1 <= n <= NEAR_MISS_MAX_FAILED

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (only str, int, bool, list, dict) for storage and APIs."""
        return {
            "eligible": self.eligible,
            "near_miss": self.near_miss,
            "score": self.score,
            "criteria": [c.as_dict() for c in self.criteria],
            "score_parts": [p.as_dict() for p in self.score_parts],
        }


# ---------------------------------------------------------------------------------------------
# Formatting helpers
# ---------------------------------------------------------------------------------------------

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HALF = Decimal("0.5")
_CENT = Decimal("0.01")
_ZERO_CENTS = Decimal("0.00")
_HUNDRED = Decimal(100)

# evaluate() runs in this context, so its results never depend on the caller's decimal context.
_CTX = Context(prec=28, rounding=ROUND_HALF_UP)
# Formatting quantizes to cents; a wide precision keeps absurdly large figures printable.
_FMT_CTX = Context(prec=120, rounding=ROUND_HALF_UP)


@lru_cache(maxsize=16384)
def fmt_wan(amount: Decimal) -> str:
    """Yuan → "1,234.50万元": 万元 with two decimals (ROUND_HALF_UP) and thousands separators.

    Memoised: the same product limits and firm revenues are formatted millions of times in a
    full matching run. Equal Decimals (``Decimal('5E+6')``, ``Decimal('5000000.00')``) give the
    same text, so sharing a cache entry between them is safe.
    """
    wan = amount.scaleb(-4, _FMT_CTX).quantize(_CENT, context=_FMT_CTX)
    if not wan:
        wan = _ZERO_CENTS  # never "-0.00万元"
    return f"{wan:,.2f}万元"


@lru_cache(maxsize=4096)
def _fmt_pct(value: Decimal) -> str:
    """A percent figure with two decimals: Decimal('4.5') → '4.50%' (memoised like fmt_wan)."""
    text = value.quantize(_CENT, context=_FMT_CTX)
    if not text:
        text = _ZERO_CENTS
    return f"{text:.2f}%"


def _fmt_ratio(ratio: Decimal) -> str:
    """A ratio as a short percent: Decimal('0.50') → '50%', Decimal('0.335') → '33.5%'."""
    text = f"{_FMT_CTX.multiply(ratio, _HUNDRED).quantize(_CENT, context=_FMT_CTX):.2f}"
    return text.rstrip("0").rstrip(".") + "%"


def _fmt_points(value: Decimal) -> str:
    """Score points at most two decimals, none when whole: Decimal('70') → '70', '9.50' → '9.5'."""
    text = f"{value.quantize(_CENT, context=_FMT_CTX):.2f}"
    return text.rstrip("0").rstrip(".")


@lru_cache(maxsize=4096)
def fmt_score(value: Decimal) -> str:
    """A firm's 科创积分 with one or two decimals: Decimal('72.50') → '72.5', '61' → '61.0',
    '69.96' → '69.96' (never rounded up to the product's bar). Memoised like fmt_wan."""
    text = f"{value.quantize(_CENT, context=_FMT_CTX):.2f}"
    return text[:-1] if text.endswith("0") else text


@lru_cache(maxsize=1024)
def _join_labels(codes: frozenset[str], kind: str) -> str:
    """Labels of ``codes`` joined with 、 in the ``kind`` dict's display order; unknown codes follow,
    sorted. Memoised (frozensets cache their hash, and products repeat across pairs)."""
    labels = _LABELS[kind]
    known = [label for code, label in labels.items() if code in codes]
    unknown = sorted(c for c in codes if c not in labels)
    return "、".join(known + unknown)


_LABELS: dict[str, dict[str, str]] = {
    "industry": INDUSTRIES,
    "stage": STAGES,
    "guarantee": GUARANTEE_TYPES,
}


def _city_name(code: str, city_names: Mapping[str, str] | None) -> str:
    if city_names is None:
        return code
    return city_names.get(code, code)


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------


def _anniversary(founded: date, years: int) -> date:
    """The ``years``-th anniversary of ``founded``.

    A period counted in years ends on the corresponding day of the last year; a 29 February
    start has no corresponding day in a common year, so the period ends on the last day of that
    month, 28 February (《民法典》第二百零二条: 没有对应日的，月末日为期间的最后一日).
    """
    year = founded.year + years
    try:
        return founded.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def _full_years(founded: date, on: date) -> int:
    """Full years from ``founded`` to ``on`` (0 before the first anniversary or before founding)."""
    years = on.year - founded.year
    if years <= 0:
        return 0
    month, day = founded.month, founded.day
    if month == 2 and day == 29 and not _is_leap(on.year):
        day = 28  # 民法典 第二百零二条, see _anniversary
    if (on.month, on.day) < (month, day):
        years -= 1
    return years


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# ---------------------------------------------------------------------------------------------
# Qualifications
# ---------------------------------------------------------------------------------------------

# Which held codes satisfy a required code: a higher 专精特新 tier satisfies a lower one.
_SATISFIED_BY: dict[str, tuple[str, ...]] = {
    "hitech": ("hitech",),
    "tech_sme": ("tech_sme",),
    "srdi_innovative": ("srdi_innovative", "srdi_sme", "srdi_giant"),
    "srdi_sme": ("srdi_sme", "srdi_giant"),
    "srdi_giant": ("srdi_giant",),
}
_SRDI = frozenset({"srdi_innovative", "srdi_sme", "srdi_giant"})

# What the document is called in a reason: 科技型中小企业 is a yearly registration (入库), the
# others are certificates.
_QUAL_DOC: dict[str, str] = {"tech_sme": "入库登记"}


def _qual_name(code: str) -> str:
    return QUALIFICATIONS.get(code, code)


def _holds(fact: QualificationFact, on: date) -> bool:
    return fact.issued_on <= on and (fact.expires_on is None or on <= fact.expires_on)


def _qualification_words(
    required: str, met: bool, quals: tuple[QualificationFact, ...], on: date
) -> tuple[str, str]:
    """(reason fragment, advice) for one required qualification whose verdict is ``met``
    (:func:`_qualification_met`): which certificate satisfies it, or why none does."""
    satisfiers = _SATISFIED_BY.get(required, (required,))
    name = _qual_name(required)
    best: QualificationFact | None = None  # a valid fact, preferring the exact code
    expired: QualificationFact | None = None  # the latest-expiring lapsed fact
    pending: QualificationFact | None = None  # the earliest not-yet-effective fact
    for fact in quals:
        if fact.code not in satisfiers:
            continue
        if _holds(fact, on):
            if best is None or (fact.code == required and best.code != required):
                best = fact
        elif fact.issued_on > on:
            if pending is None or fact.issued_on < pending.issued_on:
                pending = fact
        elif expired is None or fact.expires_on > expired.expires_on:  # type: ignore[operator]
            expired = fact
    if met and best is not None:
        if best.code != required:
            return f"已取得{_qual_name(best.code)}认定，满足{name}的要求", ""
        if best.expires_on is None:
            return f"已取得{name}认定", ""
        return f"已取得{name}认定（有效期至 {best.expires_on.isoformat()}）", ""
    if expired is not None:
        held = _qual_name(expired.code)
        doc = _QUAL_DOC.get(expired.code, "证书")
        when = expired.expires_on.isoformat()  # type: ignore[union-attr]
        return f"{held}{doc}已于 {when} 到期", f"需重新取得{name}认定（{held}{doc}已于 {when} 到期）"
    if pending is not None:
        held = _qual_name(pending.code)
        when = pending.issued_on.isoformat()
        return f"{held}认定自 {when} 起生效，目前尚未生效", f"{held}认定于 {when} 生效后可申请"
    return f"需取得{name}认定", f"需取得{name}认定"


# Qualification strength: points per held qualification (official list); self-declared counts half.
# Only the highest 专精特新 tier counts (the tiers are nested). Full marks at _QUAL_FULL points,
# e.g. an official 高企 plus an official 专精特新"小巨人".
_QUAL_POINTS: dict[str, Decimal] = {
    "hitech": Decimal(4),
    "tech_sme": Decimal(1),
    "srdi_innovative": Decimal(2),
    "srdi_sme": Decimal(3),
    "srdi_giant": Decimal(4),
}
_QUAL_FULL = Decimal(8)
_SELF_DECLARED = Decimal("0.5")


# ---------------------------------------------------------------------------------------------
# Score tables
# ---------------------------------------------------------------------------------------------

# Amount fit: full points when the amount sits at least this share of the product's range away
# from both edges; falls linearly to half points at an edge; zero outside the range.
_AMOUNT_BAND = Decimal("0.2")
# Rate headroom: full points at this many percentage points between the need's ceiling and the
# product's floor rate.
_RATE_FULL = Decimal(2)
# R&D intensity: full points at R&D spend / revenue of 10% (the 高企 bar is 3–5%).
_RD_FULL = Decimal("0.10")
# IP strength: an invention patent counts 3 units, any other IP asset 1; full points at 15 units.
_INVENTION_UNITS = 3
_IP_FULL = Decimal(15)

# Stage fit, fraction of the factor by product type and stage: loans suit growth/mature firms,
# equity suits seed/startup firms; insurance is stage-neutral.
_LOAN_FIT = {"seed": Decimal("0.25"), "startup": _HALF, "growth": _ONE, "mature": _ONE}
_STAGE_FIT: dict[str, dict[str, Decimal]] = {
    "credit": _LOAN_FIT,
    "ip_pledge": _LOAN_FIT,
    "order_financing": _LOAN_FIT,
    "export": _LOAN_FIT,
    "talent": {"seed": _HALF, "startup": Decimal("0.75"), "growth": _ONE, "mature": _ONE},
    "equity_linked": {"seed": _ONE, "startup": _ONE, "growth": Decimal("0.75"), "mature": _HALF},
    "insurance": {"seed": _HALF, "startup": _HALF, "growth": _HALF, "mature": _HALF},
}

_W = {code: Decimal(w) for code, w in WEIGHTS.items()}
_W_SCORED = {code: Decimal(w) for code, w in WEIGHTS_SCORED.items()}


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


_MONEY_FIELDS = (
    ("firm", ("revenue", "rd_spend", "innovation_score")),
    (
        "product",
        (
            "amount_min",
            "amount_max",
            "rate_min",
            "rate_max",
            "min_revenue",
            "max_amount_revenue_ratio",
            "min_innovation_score",
        ),
    ),
    ("need", ("amount", "max_annual_rate")),
)


def _validate(firm: FirmFacts | None, product: ProductFacts | None, need: NeedFacts | None) -> None:
    """Refuse floats (and anything else that is not Decimal) where money, rates or scores are expected.
    ``None`` skips that object (:class:`Matcher` checks its products once and each firm and need once).

    One combined test on the hot path; the field-by-field search runs only to name the culprit.
    """
    if (
        (
            firm is None
            or (
                isinstance(firm.revenue, Decimal)
                and isinstance(firm.rd_spend, Decimal)
                and (firm.innovation_score is None or isinstance(firm.innovation_score, Decimal))
            )
        )
        and (
            product is None
            or (
                isinstance(product.amount_min, Decimal)
                and isinstance(product.amount_max, Decimal)
                and (product.rate_min is None or isinstance(product.rate_min, Decimal))
                and (product.rate_max is None or isinstance(product.rate_max, Decimal))
                and (product.min_revenue is None or isinstance(product.min_revenue, Decimal))
                and (
                    product.max_amount_revenue_ratio is None
                    or isinstance(product.max_amount_revenue_ratio, Decimal)
                )
                and (
                    product.min_innovation_score is None or isinstance(product.min_innovation_score, Decimal)
                )
            )
        )
        and (
            need is None
            or (
                isinstance(need.amount, Decimal)
                and (need.max_annual_rate is None or isinstance(need.max_annual_rate, Decimal))
            )
        )
    ):
        return
    objects = {"firm": firm, "product": product, "need": need}
    for owner, names in _MONEY_FIELDS:
        for name in names:
            value = getattr(objects[owner], name, None)
            if value is not None and not isinstance(value, Decimal):
                raise TypeError(f"{owner}.{name} must be a Decimal, not {type(value).__name__}")
    raise TypeError("money, rate and score fields must be Decimal")  # unreachable: the test above failed


def evaluate(
    firm: FirmFacts,
    product: ProductFacts,
    need: NeedFacts | None = None,
    *,
    on: date,
    city_names: Mapping[str, str] | None = None,
) -> Evaluation:
    """Judge ``firm`` (and its ``need``) against ``product`` on day ``on``.

    Criteria come in :data:`CRITERIA` order. ``city`` is always present; ``industry``, ``stage``,
    ``qualification``, ``revenue``, ``years``, ``export``, ``invention_patents`` and
    ``innovation_score`` only when the product sets that restriction. With a ``need``: ``amount``, ``term`` and ``guarantee`` are
    always present, ``revenue_share`` when the product caps the amount by revenue, and ``rate``
    when both the product's floor rate and the need's ceiling rate are set. With ``need=None`` (a
    firm browsing a product page) the need-level criteria are omitted and the need-level score
    factors (amount fit, rate headroom) score neutrally: half their maximum points.

    ``city_names`` (code → name) is used to name cities in reasons; without it codes are shown.

    Raises ``TypeError`` when a money, rate or score field is not a ``Decimal`` (e.g. a float).
    """
    _validate(firm, product, need)
    with localcontext(_CTX):
        return _evaluate(firm, product, need, on, city_names)


# ---------------------------------------------------------------------------------------------
# The hard criteria, each defined once
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Firm:
    """What the criteria need of a firm on one day, worked out once per firm: the qualification
    codes it holds, its full years since founding, its revenue floored at zero."""

    facts: FirmFacts
    on: date
    held: frozenset[str]
    years: int
    revenue: Decimal  # floored at zero
    city: str
    city_parent: str | None


def _firm_view(firm: FirmFacts, on: date) -> _Firm:
    held = frozenset(q.code for q in firm.qualifications if _holds(q, on))
    revenue = firm.revenue if firm.revenue > _ZERO else _ZERO
    return _Firm(firm, on, held, _full_years(firm.founded_on, on), revenue, firm.city, firm.city_parent)


def _qualification_met(required: str, held: frozenset[str]) -> bool:
    return not held.isdisjoint(_SATISFIED_BY.get(required, (required,)))


def _qualifications_met(required: frozenset[str], held: frozenset[str]) -> bool:
    for code in required:
        if held.isdisjoint(_SATISFIED_BY.get(code, (code,))):
            return False
    return True


class _Criterion(NamedTuple):
    """One hard criterion: when the product (and need) set it, whether the pair meets it, and the
    result with its Chinese reason. ``met`` is the only statement of the rule: the full evaluation
    and the fast screen both call it; ``explain`` only words the verdict it is given.

    ``sets``: whether the product sets the criterion; ``need_sets``: for a need-level criterion
    that also depends on the need (the rate needs the firm's ceiling), whether this need does."""

    code: str
    sets: Any  # (product) -> bool
    met: Any  # (firm view, product, need | None) -> bool
    explain: Any  # (met, firm view, product, need | None, city_names) -> CriterionResult
    needs_need: bool = False
    need_sets: Any = None  # (need) -> bool, or None: every need


def _result(code: str, met: bool, reason: str, advice: str = "") -> CriterionResult:
    return CriterionResult(code, CRITERIA[code], met, reason, "" if met else advice)


def _explain_city(met: bool, fv: _Firm, product: ProductFacts, need: Any, names: Any) -> CriterionResult:
    firm = fv.facts
    if not product.cities:
        return _result("city", True, "产品面向全省企业")
    here = _city_name(firm.city, names)
    if not met:
        allowed = "、".join(_city_name(c, names) for c in sorted(product.cities))
        return _result(
            "city", False, f"企业位于{here}，产品仅面向{allowed}的企业", f"本产品仅面向{allowed}的企业"
        )
    if firm.city in product.cities:
        return _result("city", True, f"企业位于{here}，在产品服务地区内")
    parent = _city_name(firm.city_parent, names)  # type: ignore[arg-type]
    return _result("city", True, f"企业位于{here}（隶属{parent}），在产品服务地区内")


def _explain_industry(met: bool, fv: _Firm, product: ProductFacts, need: Any, names: Any) -> CriterionResult:
    name = INDUSTRIES.get(fv.facts.industry, fv.facts.industry)
    if met:
        return _result("industry", True, f"所属行业为{name}，属于产品支持的行业")
    allowed = _join_labels(product.industries, "industry")
    return _result(
        "industry", False, f"所属行业为{name}，产品仅支持{allowed}", f"本产品仅支持{allowed}的企业"
    )


def _explain_stage(met: bool, fv: _Firm, product: ProductFacts, need: Any, names: Any) -> CriterionResult:
    name = STAGES.get(fv.facts.stage, fv.facts.stage)
    if met:
        return _result("stage", True, f"企业处于{name}，符合产品面向的发展阶段")
    allowed = _join_labels(product.stages, "stage")
    return _result("stage", False, f"企业处于{name}，产品面向{allowed}企业", f"本产品面向{allowed}企业")


def _explain_qualification(
    met: bool, fv: _Firm, product: ProductFacts, need: Any, names: Any
) -> CriterionResult:
    ok_parts: list[str] = []
    bad_parts: list[str] = []
    tips: list[str] = []
    # Known codes in display order, then unknown ones sorted: deterministic reasons.
    required = [c for c in QUALIFICATIONS if c in product.required_qualifications]
    required += sorted(c for c in product.required_qualifications if c not in QUALIFICATIONS)
    for code in required:
        code_met = _qualification_met(code, fv.held)
        text, tip = _qualification_words(code, code_met, fv.facts.qualifications, fv.on)
        if code_met:
            ok_parts.append(text)
        else:
            bad_parts.append(text)
            tips.append(tip)
    if met:
        return _result("qualification", True, "；".join(ok_parts))
    return _result("qualification", False, "；".join(bad_parts), "；".join(tips))


def _explain_revenue(met: bool, fv: _Firm, product: ProductFacts, need: Any, names: Any) -> CriterionResult:
    revenue, floor = fv.facts.revenue, product.min_revenue
    have, need_rev = fmt_wan(revenue), fmt_wan(floor)  # type: ignore[arg-type]
    if met:
        return _result("revenue", True, f"上年营业收入 {have}，满足不低于 {need_rev} 的要求")
    short = fmt_wan(floor - revenue)  # type: ignore[operator]
    return _result(
        "revenue",
        False,
        f"上年营业收入 {have}，需不低于 {need_rev}",
        f"上年营业收入还需增加 {short}（需不低于 {need_rev}）",
    )


def _explain_years(met: bool, fv: _Firm, product: ProductFacts, need: Any, names: Any) -> CriterionResult:
    founded_on, required = fv.facts.founded_on, product.min_years
    founded = founded_on.isoformat()
    if met:
        return _result(
            "years", True, f"企业成立满 {fv.years} 年（{founded} 成立），满足成立满 {required} 年的要求"
        )
    ready = _anniversary(founded_on, required).isoformat()
    return _result(
        "years",
        False,
        f"企业成立满 {fv.years} 年（{founded} 成立），需成立满 {required} 年",
        f"成立满 {required} 年后（{ready} 起）可申请",
    )


def _explain_export(met: bool, fv: _Firm, product: ProductFacts, need: Any, names: Any) -> CriterionResult:
    if met:
        return _result("export", True, "企业有出口业务，满足产品要求")
    return _result("export", False, "企业无出口业务，本产品要求企业有出口业务", "需开展出口业务后申请")


def _explain_invention(met: bool, fv: _Firm, product: ProductFacts, need: Any, names: Any) -> CriterionResult:
    have_n, need_n = fv.facts.invention_patents, product.min_invention_patents
    if met:
        return _result("invention_patents", True, f"发明专利 {have_n} 件，满足不少于 {need_n} 件的要求")
    return _result(
        "invention_patents",
        False,
        f"发明专利 {have_n} 件，需不少于 {need_n} 件",
        f"发明专利还需 {need_n - have_n} 件",
    )


def _explain_innovation(
    met: bool, fv: _Firm, product: ProductFacts, need: Any, names: Any
) -> CriterionResult:
    score, floor = fv.facts.innovation_score, product.min_innovation_score
    bar = _fmt_points(floor)  # type: ignore[arg-type]
    if score is None:
        return _result(
            "innovation_score",
            False,
            f"企业尚未取得科创积分（完成企业认证并填报年度经营数据后由平台计算），本产品要求科创积分不低于 {bar} 分",
            f"本产品要求科创积分不低于 {bar} 分：完成企业认证并填报近三年年度经营数据后，平台按同阶段企业"
            "的排名计算科创积分（每晚更新），可在「科创积分」页查看积分和提分建议",
        )
    have = fmt_score(score)
    if met:
        return _result("innovation_score", True, f"科创积分 {have} 分，达到产品要求的 {bar} 分")
    return _result(
        "innovation_score",
        False,
        f"科创积分 {have} 分，低于产品要求的 {bar} 分",
        f"科创积分需再提高 {_fmt_points(floor - score)} 分（需不低于 {bar} 分）；"  # type: ignore[operator]
        "可在「科创积分」页查看提分建议",
    )


def _explain_amount(
    met: bool, fv: _Firm, product: ProductFacts, need: NeedFacts, names: Any
) -> CriterionResult:
    lo, hi = product.amount_min, product.amount_max
    span = f"{fmt_wan(lo)}–{fmt_wan(hi)}"
    asked = fmt_wan(need.amount)
    if met:
        return _result("amount", True, f"融资金额 {asked}，在产品额度 {span} 范围内")
    if need.amount < lo:
        return _result(
            "amount",
            False,
            f"融资金额 {asked}，低于产品最低额度 {fmt_wan(lo)}",
            f"融资金额需调整到 {span} 之间",
        )
    return _result(
        "amount", False, f"融资金额 {asked}，超过产品最高额度 {fmt_wan(hi)}", f"融资金额需调整到 {span} 之间"
    )


def _explain_term(
    met: bool, fv: _Firm, product: ProductFacts, need: NeedFacts, names: Any
) -> CriterionResult:
    term = need.term_months
    tspan = f"{product.term_min}–{product.term_max} 个月"
    if met:
        return _result("term", True, f"融资期限 {term} 个月，在产品期限 {tspan} 范围内")
    if term < product.term_min:
        return _result(
            "term",
            False,
            f"融资期限 {term} 个月，短于产品最短期限 {product.term_min} 个月",
            f"融资期限需调整到 {tspan}",
        )
    return _result(
        "term",
        False,
        f"融资期限 {term} 个月，超过产品最长期限 {product.term_max} 个月",
        f"融资期限需调整到 {tspan}",
    )


def _revenue_cap(fv: _Firm, product: ProductFacts) -> Decimal:
    return _CTX.multiply(fv.revenue, product.max_amount_revenue_ratio)  # type: ignore[arg-type]


def _explain_revenue_share(
    met: bool, fv: _Firm, product: ProductFacts, need: NeedFacts, names: Any
) -> CriterionResult:
    cap = _revenue_cap(fv, product)
    pct = _fmt_ratio(product.max_amount_revenue_ratio)  # type: ignore[arg-type]
    asked = fmt_wan(need.amount)
    basis = f"上年营业收入 {fmt_wan(fv.facts.revenue)} 的 {pct}（{fmt_wan(cap)}）"
    if met:
        return _result("revenue_share", True, f"融资金额 {asked}，不超过{basis}")
    return _result(
        "revenue_share",
        False,
        f"融资金额 {asked}，超过{basis}",
        f"融资金额需不超过 {fmt_wan(cap)}（上年营业收入的 {pct}）",
    )


def _explain_guarantee(
    met: bool, fv: _Firm, product: ProductFacts, need: NeedFacts, names: Any
) -> CriterionResult:
    accepted = product.guarantee_types
    if met:
        common = accepted & need.guarantee_types  # a frozenset even if a set was passed
        return _result("guarantee", True, f"企业可提供的{_join_labels(common, 'guarantee')}方式为产品所接受")
    wanted = _join_labels(accepted, "guarantee") if accepted else ""
    offered = _join_labels(frozenset(need.guarantee_types), "guarantee") if need.guarantee_types else ""
    if not accepted:
        return _result("guarantee", False, "产品未设置可接受的担保方式", "请向金融机构咨询担保方式")
    if offered:
        return _result(
            "guarantee",
            False,
            f"产品接受{wanted}方式，企业可提供的{offered}方式不在其中",
            f"需提供{wanted}中的一种担保方式",
        )
    return _result(
        "guarantee",
        False,
        f"企业未填写可提供的担保方式，产品接受{wanted}方式",
        f"需提供{wanted}中的一种担保方式",
    )


def _explain_rate(
    met: bool, fv: _Firm, product: ProductFacts, need: NeedFacts, names: Any
) -> CriterionResult:
    floor, ceiling = _fmt_pct(product.rate_min), _fmt_pct(need.max_annual_rate)  # type: ignore[arg-type]
    if met:
        return _result("rate", True, f"产品最低年利率 {floor}，不高于企业可接受的最高年利率 {ceiling}")
    return _result(
        "rate",
        False,
        f"产品最低年利率 {floor}，高于企业可接受的最高年利率 {ceiling}",
        f"可接受的最高年利率需不低于 {floor}",
    )


def _always(product: ProductFacts) -> bool:
    return True


#: The hard criteria in the order :func:`evaluate` reports them (:data:`CRITERIA`). The first
#: nine judge the firm; the rest judge its need and apply only when there is one.
_CRITERIA: tuple[_Criterion, ...] = (
    _Criterion(
        "city",
        _always,
        lambda fv, p, n: (
            not p.cities or fv.city in p.cities or (fv.city_parent is not None and fv.city_parent in p.cities)
        ),
        _explain_city,
    ),
    _Criterion(
        "industry",
        lambda p: bool(p.industries),
        lambda fv, p, n: fv.facts.industry in p.industries,
        _explain_industry,
    ),
    _Criterion(
        "stage", lambda p: bool(p.stages), lambda fv, p, n: fv.facts.stage in p.stages, _explain_stage
    ),
    _Criterion(
        "qualification",
        lambda p: bool(p.required_qualifications),
        lambda fv, p, n: _qualifications_met(p.required_qualifications, fv.held),
        _explain_qualification,
    ),
    _Criterion(
        "revenue",
        lambda p: p.min_revenue is not None,
        lambda fv, p, n: fv.facts.revenue >= p.min_revenue,
        _explain_revenue,
    ),
    _Criterion("years", lambda p: p.min_years > 0, lambda fv, p, n: fv.years >= p.min_years, _explain_years),
    _Criterion(
        "export",
        lambda p: bool(p.export_required),
        lambda fv, p, n: bool(fv.facts.export_business),
        _explain_export,
    ),
    _Criterion(
        "invention_patents",
        lambda p: p.min_invention_patents > 0,
        lambda fv, p, n: fv.facts.invention_patents >= p.min_invention_patents,
        _explain_invention,
    ),
    _Criterion(
        "innovation_score",
        lambda p: p.min_innovation_score is not None,
        lambda fv, p, n: (
            fv.facts.innovation_score is not None and fv.facts.innovation_score >= p.min_innovation_score
        ),
        _explain_innovation,
    ),
    _Criterion(
        "amount",
        _always,
        lambda fv, p, n: p.amount_min <= n.amount <= p.amount_max,
        _explain_amount,
        needs_need=True,
    ),
    _Criterion(
        "term",
        _always,
        lambda fv, p, n: p.term_min <= n.term_months <= p.term_max,
        _explain_term,
        needs_need=True,
    ),
    _Criterion(
        "revenue_share",
        lambda p: p.max_amount_revenue_ratio is not None,
        lambda fv, p, n: n.amount <= _revenue_cap(fv, p),
        _explain_revenue_share,
        needs_need=True,
    ),
    _Criterion(
        "guarantee",
        _always,
        lambda fv, p, n: bool(p.guarantee_types & n.guarantee_types),
        _explain_guarantee,
        needs_need=True,
    ),
    _Criterion(
        "rate",
        lambda p: p.rate_min is not None,
        lambda fv, p, n: p.rate_min <= n.max_annual_rate,
        _explain_rate,
        needs_need=True,
        need_sets=lambda n: n.max_annual_rate is not None,
    ),
)
if tuple(c.code for c in _CRITERIA) != tuple(CRITERIA):
    raise RuntimeError("the criteria table and CRITERIA must list the same codes in the same order")


def _product_criteria(product: ProductFacts, *, with_need: bool) -> tuple[_Criterion, ...]:
    """The criteria this product sets, in report order (the need-level ones only ``with_need``)."""
    return tuple(c for c in _CRITERIA if (with_need or not c.needs_need) and c.sets(product))


def _failed(
    fv: _Firm, product: ProductFacts, need: NeedFacts, criteria: tuple[_Criterion, ...], stop_after: int
) -> int:
    """How many of ``criteria`` (set by ``product``) the pair fails, by their ``met`` alone (no
    reason text); counting stops once past ``stop_after``. The hot loop of a full run."""
    n = 0
    for _code, _sets, met, _explain, _needs_need, need_sets in criteria:
        if (need_sets is None or need_sets(need)) and not met(fv, product, need):
            n += 1
            if n > stop_after:
                break
    return n


def _evaluate(
    firm: FirmFacts,
    product: ProductFacts,
    need: NeedFacts | None,
    on: date,
    city_names: Mapping[str, str] | None,
    firm_factors: _FirmFactors | None = None,
    fv: _Firm | None = None,
    criteria: tuple[_Criterion, ...] | None = None,
) -> Evaluation:
    """The body of :func:`evaluate` and :meth:`Matcher.pairs`, run inside the engine's decimal
    context: every criterion the pair sets, its verdict from its ``met``, worded by its ``explain``.
    ``fv`` and ``criteria`` (the product's, :func:`_product_criteria`) may come precomputed."""
    if fv is None:
        fv = _firm_view(firm, on)
    if criteria is None:
        criteria = _product_criteria(product, with_need=need is not None)
    results = []
    for c in criteria:
        if c.need_sets is None or c.need_sets(need):
            results.append(c.explain(c.met(fv, product, need), fv, product, need, city_names))
    return Evaluation(tuple(results), *_score(firm, product, need, on, firm_factors))


# ---------------------------------------------------------------------------------------------
# Score
# ---------------------------------------------------------------------------------------------


_Factor = tuple[str, Decimal, str]  # (code, fraction of the factor's weight in [0, 1], reason)
_FirmFactors = tuple[_Factor, _Factor, _Factor, _Factor]


def _firm_factors(firm: FirmFacts, on: date) -> _FirmFactors:
    """The factors that depend on the firm alone (the same for every product it is judged
    against): R&D intensity, IP strength, qualification strength, 科创积分."""
    return _rd_intensity(firm), _ip_strength(firm), _qualification_strength(firm, on), _innovation(firm)


def _score(
    firm: FirmFacts,
    product: ProductFacts,
    need: NeedFacts | None,
    on: date,
    firm_factors: _FirmFactors | None = None,
) -> tuple[int, tuple[ScorePart, ...]]:
    """The score and its parts.

    Each factor yields a fraction in [0, 1]; its exact points are fraction × weight (Decimal), the
    weight from :data:`WEIGHTS_SCORED` for a firm with a 科创积分, else from :data:`WEIGHTS`.
    The score is the exact sum rounded ROUND_HALF_UP; the parts' integer points are the exact
    points apportioned by largest remainder (ties to the earlier factor), so they add up to the
    score exactly and each stays within its maximum. ``firm_factors`` is
    ``_firm_factors(firm, on)`` when the caller judges one firm against many products.
    """
    rd, ip, qual, innovation = firm_factors if firm_factors is not None else _firm_factors(firm, on)
    factors = (
        _amount_fit(product, need),
        _rate_headroom(product, need),
        rd,
        ip,
        qual,
        _stage_fit(firm.stage, product.product_type),
        innovation,
    )
    scored = firm.innovation_score is not None
    weights, table = (_W_SCORED, WEIGHTS_SCORED) if scored else (_W, WEIGHTS)
    exact = [weights[code] * frac for code, frac, _ in factors]
    total = int(sum(exact, _ZERO).to_integral_value(rounding=ROUND_HALF_UP))
    points = [int(e) for e in exact]  # exact >= 0, so int() is the floor
    spare = total - sum(points)
    if spare:
        # Largest remainder first; sorted() is stable, so ties go to the earlier factor.
        order = sorted(range(len(exact)), key=lambda i: points[i] - exact[i])
        for i in order[:spare]:
            points[i] += 1
    parts = tuple(
        ScorePart(code, SCORE_FACTORS[code], pts, table[code], reason)
        for (code, _, reason), pts in zip(factors, points, strict=True)
    )
    return total, parts


def _clamp01(x: Decimal) -> Decimal:
    if x <= _ZERO:
        return _ZERO
    if x >= _ONE:
        return _ONE
    return x


def _amount_fit(product: ProductFacts, need: NeedFacts | None) -> tuple[str, Decimal, str]:
    """How well the amount sits inside the product's range.

    Full points when the amount is at least 20% of the range away from both edges, falling
    linearly to half points at either edge (the product is oversized at the floor and stretched at
    the ceiling); zero outside the range. Without a need: neutral, half points.
    """
    if need is None:
        return "amount_fit", _HALF, "未提供融资需求，额度匹配度按中性计一半分"
    lo, hi, amount = product.amount_min, product.amount_max, need.amount
    if amount < lo or amount > hi:
        return "amount_fit", _ZERO, f"融资金额 {fmt_wan(amount)} 不在产品额度范围内"
    width = hi - lo
    if width <= _ZERO:
        return "amount_fit", _ONE, f"融资金额 {fmt_wan(amount)} 与产品额度一致"
    edge = min(amount - lo, hi - amount) / width  # 0 at an edge, 0.5 in the middle
    if edge >= _AMOUNT_BAND:
        return "amount_fit", _ONE, f"融资金额 {fmt_wan(amount)} 处于产品额度区间的中部，匹配度高"
    frac = _HALF + _HALF * edge / _AMOUNT_BAND
    side = "下限" if amount - lo <= hi - amount else "上限"
    return "amount_fit", frac, f"融资金额 {fmt_wan(amount)} 接近产品额度{side}，匹配度一般"


def _rate_headroom(product: ProductFacts, need: NeedFacts | None) -> tuple[str, Decimal, str]:
    """Percentage points between the need's ceiling rate and the product's floor rate.

    Full points at 2 percentage points or more, none at zero or below. Without a need, without a
    stated ceiling, or for a product without a rate (equity, insurance): neutral, half points.
    """
    if need is None:
        return "rate_headroom", _HALF, "未提供融资需求，利率空间按中性计一半分"
    if product.rate_min is None:
        return "rate_headroom", _HALF, "本产品不设贷款利率，利率空间按中性计一半分"
    if need.max_annual_rate is None:
        return "rate_headroom", _HALF, "企业未填写可接受的最高年利率，利率空间按中性计一半分"
    gap = need.max_annual_rate - product.rate_min
    if gap <= _ZERO:
        return (
            "rate_headroom",
            _ZERO,
            f"企业可接受的最高年利率 {_fmt_pct(need.max_annual_rate)} 不高于产品最低年利率 "
            f"{_fmt_pct(product.rate_min)}，没有利率空间",
        )
    gap_text = f"{gap.quantize(_CENT, context=_FMT_CTX):.2f}"
    return (
        "rate_headroom",
        _clamp01(gap / _RATE_FULL),
        f"企业可接受的最高年利率 {_fmt_pct(need.max_annual_rate)} 比产品最低年利率 "
        f"{_fmt_pct(product.rate_min)} 高 {gap_text} 个百分点（2 个百分点及以上得满分）",
    )


def _rd_intensity(firm: FirmFacts) -> tuple[str, Decimal, str]:
    """R&D spend / revenue; full points at 10%, zero when revenue is zero (or negative)."""
    if firm.revenue <= _ZERO:
        return "rd_intensity", _ZERO, "上年营业收入为 0，研发投入强度按 0 计"
    rd = firm.rd_spend if firm.rd_spend > _ZERO else _ZERO
    ratio = rd / firm.revenue
    return (
        "rd_intensity",
        _clamp01(ratio / _RD_FULL),
        f"研发投入 {fmt_wan(rd)}，占上年营业收入的 {_fmt_pct(ratio * _HUNDRED)}（达到 10% 得满分）",
    )


def _ip_strength(firm: FirmFacts) -> tuple[str, Decimal, str]:
    """Invention patents count 3 units each, other IP assets 1; full points at 15 units."""
    inventions = max(firm.invention_patents, 0)
    others = max(firm.ip_assets - inventions, 0)
    units = inventions * _INVENTION_UNITS + others
    return (
        "ip_strength",
        _clamp01(Decimal(units) / _IP_FULL),
        f"发明专利 {inventions} 件、其他知识产权 {others} 项（发明专利按 3 倍计）",
    )


def _qualification_strength(firm: FirmFacts, on: date) -> tuple[str, Decimal, str]:
    """Qualifications held on ``on``: 高企 and 专精特新"小巨人" 4 points, 专精特新中小企业 3,
    创新型中小企业 2, 科技型中小企业 1; self-declared ones count half; only the highest
    专精特新 tier counts; full points at 8 (e.g. official 高企 + official 小巨人).
    """
    # Best (points, code, official) per slot: 高企, 科小, and one slot for the 专精特新 tiers.
    best: dict[str, tuple[Decimal, str, bool]] = {}
    for fact in firm.qualifications:
        base = _QUAL_POINTS.get(fact.code)
        if base is None or not _holds(fact, on):
            continue
        pts = base if fact.official else base * _SELF_DECLARED
        slot = "srdi" if fact.code in _SRDI else fact.code
        held = best.get(slot)
        if held is None or pts > held[0]:
            best[slot] = (pts, fact.code, fact.official)
    if not best:
        return "qualification_strength", _ZERO, "暂无有效资质认定"
    names: list[str] = []
    total = _ZERO
    for slot in ("hitech", "srdi", "tech_sme"):
        held = best.get(slot)
        if held is not None:
            total += held[0]
            names.append(f"{_qual_name(held[1])}（{'官方名单确认' if held[2] else '自主申报'}）")
    return (
        "qualification_strength",
        _clamp01(total / _QUAL_FULL),
        f"有效资质：{'、'.join(names)}；官方名单确认的资质计分高于自主申报",
    )


def _innovation(firm: FirmFacts) -> tuple[str, Decimal, str]:
    """The firm's 科创积分 ÷ 100 (clamped to [0, 1]); a firm not scored yet: nothing, out of nothing
    (:data:`WEIGHTS` gives the factor no weight)."""
    score = firm.innovation_score
    if score is None:
        return (
            "innovation_score",
            _ZERO,
            "企业尚未取得科创积分，本项不计分；取得积分后按积分计入匹配度（最高 10 分）",
        )
    frac = _clamp01(score / _HUNDRED)
    return (
        "innovation_score",
        frac,
        f"科创积分 {fmt_score(score)} 分（满分 100 分），按积分比例计分",
    )


@lru_cache(maxsize=256)
def _stage_fit(firm_stage: str, product_type: str) -> tuple[str, Decimal, str]:
    """Loans suit growth/mature firms, equity suits seed/startup firms, insurance is neutral.
    (Memoised: a handful of stages × product types.)"""
    table = _STAGE_FIT.get(product_type)
    stage = STAGES.get(firm_stage, firm_stage)
    kind = PRODUCT_TYPES.get(product_type, product_type)
    frac = table.get(firm_stage) if table is not None else None
    if frac is None:
        return "stage_fit", _HALF, f"{stage}企业与{kind}的阶段匹配按中性计一半分"
    if frac >= _ONE:
        verdict = "十分匹配"
    elif frac > _HALF:
        verdict = "较为匹配"
    elif frac == _HALF:
        verdict = "匹配度一般"
    else:
        verdict = "匹配度较低"
    return "stage_fit", frac, f"{stage}企业申请{kind}，{verdict}"


# ---------------------------------------------------------------------------------------------
# Advice
# ---------------------------------------------------------------------------------------------


def advice(evaluation: Evaluation) -> list[str]:
    """What a near-miss firm should do, one Chinese sentence per failed criterion.

    Empty when the pair is eligible or fails more than :data:`NEAR_MISS_MAX_FAILED` criteria (a
    firm that far off is not shown a to-do list for this product).
    """
    if not evaluation.near_miss:
        return []
    return [c.advice or c.reason for c in evaluation.criteria if not c.met]


# ---------------------------------------------------------------------------------------------
# Screening (speed path of the full run)
# ---------------------------------------------------------------------------------------------


def failed_count(
    firm: FirmFacts, product: ProductFacts, need: NeedFacts, *, on: date, stop_after: int = 99
) -> int:
    """How many hard criteria ``evaluate(firm, product, need, on=on)`` would fail — without
    building any reason text. Stops counting once the count exceeds ``stop_after``.

    The full matching run screens millions of pairs and stores only eligible pairs and near misses,
    so it asks this first (through :class:`Matcher`) and calls the evaluation only for pairs failing
    at most :data:`NEAR_MISS_MAX_FAILED` criteria. Both ask each criterion's one ``met`` function
    (:data:`_CRITERIA`); a test checks they agree on random pairs.
    """
    with localcontext(_CTX):
        return _failed(
            _firm_view(firm, on), product, need, _product_criteria(product, with_need=True), stop_after
        )


# ---------------------------------------------------------------------------------------------
# Many pairs at once (the matching service's path)
# ---------------------------------------------------------------------------------------------


class Matcher:
    """Judge needs against one fixed list of products on one day — what a matching run does for
    every need of a chunk.

    :meth:`pairs` gives, for one firm's need, the :class:`Evaluation` of each product the pair
    fails at most ``max_failed`` criteria of (eligible pairs and near misses: the pairs a run
    stores). It applies exactly the rules of :func:`evaluate` — it calls the same functions — and
    only saves repeated work: the products are checked once, the screen (:func:`failed_count`)
    drops far-off pairs before any reason text is built, and the firm-level parts (qualifications
    held, years, the firm's score factors) are worked out once per need instead of once per pair.
    """

    def __init__(
        self,
        products: list[ProductFacts] | tuple[ProductFacts, ...],
        *,
        on: date,
        city_names: Mapping[str, str] | None = None,
        max_failed: int = NEAR_MISS_MAX_FAILED,
    ) -> None:
        self.products = tuple(products)
        self.on = on
        self.city_names = city_names
        self.max_failed = max_failed
        for product in self.products:
            _validate(None, product, None)
        # The criteria each product sets, worked out once for the whole run.
        self._criteria = tuple(_product_criteria(product, with_need=True) for product in self.products)

    def pairs(self, firm: FirmFacts, need: NeedFacts) -> list[tuple[int, Evaluation]]:
        """``[(index in products, evaluation), …]`` for the products within ``max_failed`` failed
        criteria of this need, in product order."""
        if not self.products:
            return []
        _validate(firm, None, need)
        on, city_names, max_failed = self.on, self.city_names, self.max_failed
        fv = _firm_view(firm, on)
        firm_factors = None
        out: list[tuple[int, Evaluation]] = []
        with localcontext(_CTX):
            for i, product in enumerate(self.products):
                if _failed(fv, product, need, self._criteria[i], max_failed) > max_failed:
                    continue
                if firm_factors is None:
                    firm_factors = _firm_factors(firm, on)
                out.append(
                    (i, _evaluate(firm, product, need, on, city_names, firm_factors, fv, self._criteria[i]))
                )
        return out
