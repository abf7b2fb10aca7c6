"""Policy parameters: what each kind of policy takes, how it is validated, and typed access.

Parameters are stored in ``Policy.parameters`` (JSON) with every amount and ratio as a *string*
so no float ever holds money. :func:`validate_parameters` checks and normalises a dict for one
policy kind (the one place those rules live); :class:`InterestParams`, :class:`RiskParams` and
:class:`RewardParams` read a stored dict back as Decimals, ints and bools.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from portal import money
from portal.vocabulary import PRODUCT_TYPES

from .models import PolicyKind

#: How interest-subsidy claims are cut into periods (the claim period rule).
CLAIM_PERIODS = {"quarter": "按自然季度", "year": "按自然年度"}


class ParameterError(ValueError):
    """A parameter is missing or invalid; ``errors`` maps each parameter name to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _decimal(raw, name: str, errors: dict, *, lo: Decimal | None = None, hi: Decimal | None = None):
    if raw is None or raw == "":
        errors[name] = _("必填")
        return None
    if isinstance(raw, float):
        errors[name] = _("请以字符串填写，避免浮点误差")
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        errors[name] = _("不是有效的数字")
        return None
    if not value.is_finite():
        errors[name] = _("不是有效的数字")
        return None
    if lo is not None and value < lo:
        errors[name] = _("不能小于 %(lo)s") % {"lo": lo}
        return None
    if hi is not None and value > hi:
        errors[name] = _("不能大于 %(hi)s") % {"hi": hi}
        return None
    return value


def _bool(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() in ("1", "true", "yes", "on")


def validate_parameters(kind: str, raw: dict) -> dict:
    """Check ``raw`` for a policy of ``kind``; return the normalised dict to store (strings).

    Interest (贷款贴息): ``ratio`` (0–1) or ``ratio_of_lpr`` (0–1: the subsidy rate is that share
    of the 1-year LPR on the start date), ``principal_cap_rate`` (0–1), ``firm_year_cap`` (≥ 0),
    ``basis`` (360/365), ``eligible_product_types`` (codes of ``matching.engine.PRODUCT_TYPES``),
    ``auto_claim`` (免申即享), ``require_on_time``, ``claim_period`` ('quarter' or 'year').
    Risk (风险补偿): ``ratio`` (0–1), ``bank_year_cap`` (≥ 0), ``per_loan_cap`` (optional, ≥ 0),
    ``npl_trigger`` (0–1, e.g. '0.01'). Reward (专属产品奖励): ``unit`` (> 0), ``reward_per_unit`` (≥ 0).
    """
    errors: dict[str, str] = {}
    zero, one = Decimal("0"), Decimal("1")
    out: dict = {}
    if kind == PolicyKind.INTEREST:
        if raw.get("ratio_of_lpr") not in (None, ""):
            v = _decimal(raw.get("ratio_of_lpr"), "ratio_of_lpr", errors, lo=zero, hi=one)
            out["ratio_of_lpr"] = str(v) if v is not None else None
        else:
            v = _decimal(raw.get("ratio"), "ratio", errors, lo=zero, hi=one)
            out["ratio"] = str(v) if v is not None else None
        for name in ("principal_cap_rate",):
            v = _decimal(raw.get(name), name, errors, lo=zero, hi=one)
            out[name] = str(v) if v is not None else None
        v = _decimal(raw.get("firm_year_cap"), "firm_year_cap", errors, lo=zero)
        out["firm_year_cap"] = str(v) if v is not None else None
        try:
            basis = int(str(raw.get("basis", "")).strip())
        except ValueError:
            basis = 0
        if basis not in (360, 365):
            errors["basis"] = _("计息基数只能是 360 或 365")
        out["basis"] = basis
        types = raw.get("eligible_product_types") or []
        if isinstance(types, str):
            types = [t.strip() for t in types.split(",") if t.strip()]
        unknown = [t for t in types if t not in PRODUCT_TYPES]
        if not types:
            errors["eligible_product_types"] = _("至少选择一种适用产品类型")
        elif unknown:
            errors["eligible_product_types"] = _("未知的产品类型：%(t)s") % {"t": "、".join(unknown)}
        out["eligible_product_types"] = list(types)
        out["auto_claim"] = _bool(raw.get("auto_claim", False))
        out["require_on_time"] = _bool(raw.get("require_on_time", True))
        period = raw.get("claim_period") or "quarter"
        if period not in CLAIM_PERIODS:
            errors["claim_period"] = _("申领周期只能是按自然季度或按自然年度")
        out["claim_period"] = period
    elif kind == PolicyKind.RISK:
        if raw.get("npl_trigger") in (None, "") and raw.get("npl_threshold") not in (None, ""):
            raw = {**raw, "npl_trigger": raw["npl_threshold"]}
        for name in ("ratio", "npl_trigger"):
            v = _decimal(raw.get(name), name, errors, lo=zero, hi=one)
            out[name] = str(v) if v is not None else None
        v = _decimal(raw.get("bank_year_cap"), "bank_year_cap", errors, lo=zero)
        out["bank_year_cap"] = str(v) if v is not None else None
        if raw.get("per_loan_cap") not in (None, ""):
            v = _decimal(raw.get("per_loan_cap"), "per_loan_cap", errors, lo=zero)
            out["per_loan_cap"] = str(v) if v is not None else None
    elif kind == PolicyKind.REWARD:
        v = _decimal(raw.get("unit"), "unit", errors, lo=Decimal("0.01"))
        out["unit"] = str(v) if v is not None else None
        v = _decimal(raw.get("reward_per_unit"), "reward_per_unit", errors, lo=zero)
        out["reward_per_unit"] = str(v) if v is not None else None
    else:
        errors["kind"] = _("未知的政策类型")
    if errors:
        raise ParameterError(errors)
    return out


def _d(params: dict, name: str, default: str | None = None) -> Decimal | None:
    raw = params.get(name, default)
    return None if raw in (None, "") else Decimal(str(raw))


@dataclass(frozen=True)
class InterestParams:
    ratio: Decimal | None
    ratio_of_lpr: Decimal | None
    principal_cap_rate: Decimal
    firm_year_cap: Decimal
    basis: int
    eligible_product_types: tuple[str, ...]
    auto_claim: bool
    require_on_time: bool
    claim_period: str

    @classmethod
    def of(cls, policy) -> InterestParams:
        p = policy.parameters or {}
        return cls(
            ratio=_d(p, "ratio"),
            ratio_of_lpr=_d(p, "ratio_of_lpr"),
            principal_cap_rate=_d(p, "principal_cap_rate", "0"),
            firm_year_cap=_d(p, "firm_year_cap", "0"),
            basis=int(p.get("basis", 360)),
            eligible_product_types=tuple(p.get("eligible_product_types") or ()),
            auto_claim=bool(p.get("auto_claim", False)),
            require_on_time=bool(p.get("require_on_time", True)),
            claim_period=p.get("claim_period") or "quarter",
        )


@dataclass(frozen=True)
class RiskParams:
    ratio: Decimal
    bank_year_cap: Decimal
    per_loan_cap: Decimal | None
    npl_trigger: Decimal

    @classmethod
    def of(cls, policy) -> RiskParams:
        p = policy.parameters or {}
        return cls(
            ratio=_d(p, "ratio", "0"),
            bank_year_cap=_d(p, "bank_year_cap", "0"),
            per_loan_cap=_d(p, "per_loan_cap"),
            npl_trigger=_d(p, "npl_trigger", p.get("npl_threshold", "0.01")),
        )


@dataclass(frozen=True)
class RewardParams:
    unit: Decimal
    reward_per_unit: Decimal

    @classmethod
    def of(cls, policy) -> RewardParams:
        p = policy.parameters or {}
        return cls(unit=_d(p, "unit", "100000000"), reward_per_unit=_d(p, "reward_per_unit", "200000"))


#: How each stored parameter reads on a policy page: its Chinese label and its kind of value.
PARAMETER_LABELS = {
    "ratio": (_("贴息/补偿比例"), "share"),
    "ratio_of_lpr": (_("贴息比例（占一年期 LPR）"), "share"),
    "principal_cap_rate": (_("本金年化贴息上限"), "share"),
    "firm_year_cap": (_("每户每年上限"), "wan"),
    "basis": (_("计息天数基准"), "days"),
    "eligible_product_types": (_("适用产品类型"), "types"),
    "auto_claim": (_("免申即享"), "bool"),
    "require_on_time": (_("须按期付息"), "bool"),
    "claim_period": (_("申领周期"), "period"),
    "npl_trigger": (_("触发补偿的年末不良率"), "share"),
    "bank_year_cap": (_("每家银行每年上限"), "wan"),
    "per_loan_cap": (_("单笔贷款上限"), "wan"),
    "unit": (_("奖励计算单位（授信额度）"), "total"),
    "reward_per_unit": (_("每单位奖励"), "wan"),
}


def parameter_rows(parameters: dict) -> list[tuple[str, str]]:
    """A policy's stored parameters as labelled Chinese values with their units, in a fixed order
    (unknown keys last, as stored)."""

    def show(kind, value):
        if value in (None, ""):
            return "—"
        if kind == "share":
            return money.format_percent(value, places=2)
        if kind == "wan":
            return money.format_wan(value)
        if kind == "total":
            return money.format_total(value)
        if kind == "days":
            return _("%(n)s 天") % {"n": value}
        if kind == "types":
            return "、".join(str(PRODUCT_TYPES.get(t, t)) for t in value) or "—"
        if kind == "bool":
            return _("是") if _bool(value) else _("否")
        if kind == "period":
            return _(CLAIM_PERIODS.get(value, value))
        return str(value)

    rows = [
        (str(label), show(kind, parameters[key]))
        for key, (label, kind) in PARAMETER_LABELS.items()
        if key in parameters
    ]
    rows += [(key, str(value)) for key, value in parameters.items() if key not in PARAMETER_LABELS]
    return rows
