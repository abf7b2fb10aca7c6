"""Demo data for ``manage.py seed_demo``: the seed article's institutions and products, the 2026
subsidy policies, synthetic firms and the demo accounts. Every step is an upsert on a natural
key, so a second run changes no row counts. Values marked "demo" in domain.md live here as data.

Dated relative to the day it runs (``today``, default the Beijing date; ``seed_demo --today``
pins it): the history lies in the 12 months before ``today`` and some of it on ``today`` itself,
so that this month (even on the 1st), this quarter and this year all have figures. The same day
and ``seed`` give the same data; firms' identities depend on ``seed`` only."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from demo.enterprises import seed_firm_demo, seed_scores, seed_visits
from demo.feedback import seed_feedback
from demo.lenders import seed_bank_history, seed_loan_notices
from demo.matching import seed_matching
from demo.recommendations import seed_recommendations
from demo.subsidies import seed_subsidies
from enterprises.models import (
    AnnualFigures,
    Enterprise,
    FinancingNeed,
    IPAsset,
    ProfileConsent,
    Qualification,
    ServiceVisit,
    financial_years,
)
from enterprises.services import consent_grant
from enterprises.uscc import ALPHABET, make_uscc
from feedback.models import Complaint, Rating
from lenders.models import Branch, Institution
from matching.models import Application, Loan, Match
from portal.models import Region, Role, User
from portal.regions import ensure_regions
from products.models import Criteria, Product
from recommendations.models import RecommendationEntry, RecommendationFeedback, RecommendationList
from subsidies.lpr import ensure_lpr
from subsidies.models import Claim, LedgerEntry, LprRate, Policy

WAN = Decimal("10000")
SEED = 20260101
HISTORY_DAYS = 365  # the demo's history lies in this many days before the day it runs


def wan(x) -> Decimal:
    return (Decimal(str(x)) * WAN).quantize(Decimal("0.01"))


# --- Institutions and branches (domain.md §7) ---------------------------------------------------

INSTITUTIONS = [
    # name, short, kind, is_lender, branches: (name, city, is_scitech, is_provincial)
    (
        "中国银行山西省分行",
        "中国银行",
        "bank",
        True,
        [
            ("中国银行山西省分行营业部", "140100", False, True),
            ("中国银行太原科技金融中心", "140100", True, False),
            ("中国银行大同分行", "140200", False, False),
            ("中国银行运城分行", "140800", False, False),
        ],
    ),
    (
        "中国工商银行山西省分行",
        "工商银行",
        "bank",
        True,
        [
            ("工商银行山西省分行营业部", "140100", False, True),
            ("工商银行太原科技支行", "140100", True, False),
            ("工商银行长治分行", "140400", False, False),
        ],
    ),
    (
        "中国农业银行山西省分行",
        "农业银行",
        "bank",
        True,
        [
            ("农业银行山西省分行营业部", "140100", False, True),
            ("农业银行太原科技金融特色支行", "140100", True, False),
            ("农业银行晋中分行", "140700", False, False),
        ],
    ),
    (
        "中国建设银行山西省分行",
        "建设银行",
        "bank",
        True,
        [
            ("建设银行山西省分行营业部", "140100", False, True),
            ("建设银行综改支行", "140171", True, False),
            ("建设银行临汾分行", "141000", False, False),
        ],
    ),
    (
        "招商银行太原分行",
        "招商银行",
        "bank",
        True,
        [
            ("招商银行太原分行营业部", "140100", False, True),
            ("招商银行晋城支行", "140500", False, False),
        ],
    ),
    (
        "浦发银行太原分行",
        "浦发银行",
        "bank",
        True,
        [
            ("浦发银行太原分行营业部", "140100", False, True),
            ("浦发银行太原科技支行", "140100", True, False),
            ("浦发银行综改区科技支行", "140171", True, False),
            ("浦发银行晋中科技支行", "140700", True, False),
            ("浦发银行科技金融工作室", "140100", True, False),
        ],
    ),
    (
        "中国进出口银行山西省分行",
        "进出口银行",
        "bank",
        True,
        [
            ("中国进出口银行山西省分行营业部", "140100", False, True),
        ],
    ),
    (
        "山证投资有限责任公司",
        "山证投资",
        "fund",
        True,
        [
            ("山证投资有限责任公司本部", "140100", False, True),
        ],
    ),
    (
        "山西省融资再担保集团",
        "山西再担保",
        "guarantee",
        True,
        [
            ("山西省融资再担保集团营业部", "140100", True, True),
        ],
    ),
    (
        "山西创新创业服务中心",
        "双创中心",
        "service",
        False,
        [
            ("山西创新创业服务中心", "140100", False, True),
        ],
    ),
]

ALL_CITIES: list[str] = []
EQUITY_INDUSTRIES = ["next_gen_it", "high_end_equipment", "new_materials", "biotech"]

# --- Products (domain.md §7: the article's figures where stated, demo values elsewhere) ---------

PRODUCTS = [
    {
        "institution": "浦发银行太原分行",
        "name": "浦新贷",
        "product_type": "credit",
        "amount": (50, 3000),
        "term": (6, 36),
        "rate": ("3.00", "6.00"),
        "guarantee": ["credit"],
        "exclusive": True,
        "online": False,
        "description": "以企业创新能力和经营情况为核心的科技型企业信用贷款，无需抵押，最高3000万元，期限最长3年。",
        "criteria": {"min_years": 1, "max_amount_revenue_ratio": "0.5000"},
    },
    {
        "institution": "中国银行山西省分行",
        "name": "惠链速贷·出口E贷",
        "product_type": "export",
        "amount": (10, 500),
        "term": (3, 12),
        "rate": ("3.00", "5.50"),
        "guarantee": ["credit"],
        "exclusive": False,
        "online": True,
        "description": "依托海关出口数据的全流程线上信用贷款，面向有出口业务的小微科技企业，最高500万元。",
        "criteria": {"export_required": True},
    },
    {
        "institution": "中国银行山西省分行",
        "name": "知识产权质押贷款",
        "product_type": "ip_pledge",
        "amount": (100, 5000),
        "term": (12, 36),
        "rate": ("3.20", "6.00"),
        "guarantee": ["ip_pledge"],
        "exclusive": False,
        "online": False,
        "description": "以发明专利等知识产权质押融资，全省首笔知识产权质押贷款产品。",
        "criteria": {"min_invention_patents": 1},
    },
    {
        "institution": "中国进出口银行山西省分行",
        "name": "订单融资",
        "product_type": "order_financing",
        "amount": (1000, 20000),
        "term": (6, 24),
        "rate": ("2.80", "4.50"),
        "guarantee": ["order", "ip_pledge"],
        "exclusive": False,
        "online": False,
        "description": "基于真实订单的融资，可叠加知识产权质押，以订单回款作为还款来源。",
        "criteria": {"min_years": 2},
    },
    {
        "institution": "中国工商银行山西省分行",
        "name": "科贷通宝",
        "product_type": "credit",
        "amount": (100, 2000),
        "term": (6, 36),
        "rate": ("3.10", "5.50"),
        "guarantee": ["credit", "guarantee"],
        "exclusive": True,
        "online": False,
        "description": "面向科技型中小企业的专属信用贷款产品。",
        "criteria": {"required_qualifications": ["tech_sme"]},
    },
    {
        "institution": "中国农业银行山西省分行",
        "name": "晋创贷",
        "product_type": "credit",
        "amount": (50, 1000),
        "term": (6, 36),
        "rate": ("3.20", "5.80"),
        "guarantee": ["credit"],
        "exclusive": True,
        "online": False,
        "description": "面向初创期、成长期科技企业的专属信用贷款，配套科创企业培育库服务。",
        "criteria": {"stages": ["startup", "growth"], "min_years": 1},
    },
    {
        "institution": "中国建设银行山西省分行",
        "name": "晋才贷",
        "product_type": "talent",
        "amount": (50, 1000),
        "term": (12, 36),
        "rate": ("3.30", "5.50"),
        "guarantee": ["credit"],
        "exclusive": True,
        "online": False,
        "description": "面向高层次人才领办、创办科技企业的人才贷款。",
        "criteria": {},
    },
    {
        "institution": "招商银行太原分行",
        "name": "高新贷",
        "product_type": "credit",
        "amount": (100, 3000),
        "term": (6, 36),
        "rate": ("3.00", "5.50"),
        "guarantee": ["credit"],
        "exclusive": True,
        "online": False,
        "description": "面向高新技术企业的专属信用贷款。",
        "criteria": {"required_qualifications": ["hitech"]},
    },
    {
        # Lending on the 科创积分 (企业创新积分制, as 火炬贷 does): the score is the admission bar.
        "institution": "中国建设银行山西省分行",
        "name": "科创积分贷",
        "product_type": "credit",
        "amount": (100, 2000),
        "term": (6, 36),
        "rate": ("3.00", "5.20"),
        "guarantee": ["credit"],
        "exclusive": True,
        "online": True,
        "description": "以企业科创积分为主要授信依据的信用贷款：科创积分达到 60 分的科技型企业可申请，"
        "无需抵押，最高2000万元。",
        "criteria": {"min_innovation_score": 60},
    },
    {
        "institution": "山证投资有限责任公司",
        "name": "晋创天使基金",
        "product_type": "equity_linked",
        "amount": (100, 2000),
        "term": (36, 84),
        "rate": (None, None),
        "guarantee": ["credit"],
        "exclusive": False,
        "online": False,
        "description": "晋创天使基金投资种子期、初创期的新一代信息技术、高端装备制造、新材料、生物医药企业。",
        "criteria": {"stages": ["seed", "startup"], "industries": EQUITY_INDUSTRIES},
    },
    {
        # The government-guarantee route (政府性融资担保): offered to a firm a bank declined for lack
        # of collateral or credit history; fee and coverage are the product's parameters.
        "institution": "山西省融资再担保集团",
        "name": "担保增信",
        "product_type": "credit",
        "amount": (10, 1000),
        "term": (3, 36),
        "rate": (None, None),
        "guarantee": ["credit", "guarantee"],
        "exclusive": False,
        "online": False,
        "guarantee_fee_rate": "1.000",
        "guarantee_coverage": "80.000",
        "description": "政府性融资担保为缺少抵质押物或信贷记录的科技型中小企业提供担保增信，年担保费率不超过1%，"
        "担保机构对贷款本金的80%承担代偿责任，合作银行据此以信用方式放款。",
        "criteria": {},
    },
]

# --- Subsidy policies, one version a year (domain.md §4, demo parameters) ----------------------------------

POLICIES = [
    {
        "series": "interest-subsidy",
        "kind": "interest",
        "name": "科技型企业贷款贴息（{year}年度）",
        "budget": wan(1000),
        "parameters": {
            "ratio": "0.50",
            "principal_cap_rate": "0.03",
            "firm_year_cap": "200000",
            "basis": 360,
            "eligible_product_types": ["credit"],
            "require_on_time": True,
            "auto_claim": True,
        },
        "source": "《科技金融专项项目及资金管理办法》（2022）",
    },
    {
        "series": "risk-compensation",
        "kind": "risk",
        "name": "科技信贷风险补偿（{year}年度）",
        "budget": wan(2000),
        "parameters": {"ratio": "0.30", "bank_year_cap": "10000000", "npl_threshold": "0.01"},
        "source": "《科技金融专项项目及资金管理办法》（2022）；比例参照深圳同类做法（演示参数）",
    },
    {
        "series": "exclusive-product-reward",
        "kind": "reward",
        "name": "科技信贷专属产品奖励（{year}年度）",
        "budget": wan(200),
        "parameters": {"unit": "100000000", "reward_per_unit": "200000"},
        "source": "授信年度首次达到1亿元规模给予20万元奖励，以后年度授信总规模每增加1亿元再给予20万元",
    },
]

# --- Synthetic firms -----------------------------------------------------------------------------

CITY_WEIGHTS = [
    ("140100", 30),
    ("140171", 10),
    ("140200", 6),
    ("140300", 4),
    ("140400", 7),
    ("140500", 6),
    ("140600", 3),
    ("140700", 9),
    ("140800", 8),
    ("140900", 4),
    ("141000", 7),
    ("141100", 6),
]
INDUSTRY_WEIGHTS = [
    ("next_gen_it", 20),
    ("high_end_equipment", 18),
    ("new_materials", 16),
    ("biotech", 10),
    ("nev", 5),
    ("new_energy", 10),
    ("energy_saving", 8),
    ("digital_creative", 5),
    ("related_services", 5),
    ("other", 3),
]
STAGE_WEIGHTS = [("seed", 8), ("startup", 27), ("growth", 45), ("mature", 20)]
PLACE = ["晋", "并州", "汾河", "太行", "吕梁", "龙城", "三晋", "恒山", "五台", "黄河", "晋阳", "云冈"]
CORE = [
    "智芯",
    "华创",
    "中科",
    "锐思",
    "新源",
    "博远",
    "天工",
    "恒信",
    "启明",
    "鼎新",
    "云帆",
    "卓越",
    "融智",
    "精工",
    "碳谷",
    "光电",
    "数联",
    "康达",
    "绿能",
    "睿达",
]
TRADE = {
    "next_gen_it": "信息技术",
    "high_end_equipment": "智能装备",
    "new_materials": "新材料",
    "biotech": "生物科技",
    "nev": "新能源汽车科技",
    "new_energy": "新能源",
    "energy_saving": "节能环保科技",
    "digital_creative": "数字文化科技",
    "related_services": "科技服务",
    "other": "科技",
}
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰萍建国志红海燕鹏晓东晨宇博文"

DEMO_FIRMS = {
    "demo_firm": {
        "name": "山西晋科智能装备有限公司",
        "city": "140100",
        "industry": "high_end_equipment",
        "stage": "growth",
        "founded_on": date(2016, 5, 18),
        "employees": 186,
        "rd_staff": 52,
        "revenue": wan(9800),
        "rd_spend": wan(760),
        "export": True,
        "legal": "王建国",
        "body": "MA0K2R7D1",
        "quals": [
            # kind, level, issued this many days before the seed's today (科小: this year's 入库)
            ("hitech", "", 740),
            ("tech_sme", "", 230),
            ("srdi", "srdi_sme", 520),
        ],
        "patents": 6,
        "other_ip": 9,
        "need": {
            "amount": wan(800),
            "term": 24,
            "purpose": "rd",
            "guarantee": ["credit", "ip_pledge"],
            "rate": "4.80",
            "description": "新一代智能巡检机器人研发及量产线建设",
        },
    },
    "demo_firm2": {
        "name": "太原芯元半导体材料有限公司",
        "city": "140171",
        "industry": "new_materials",
        "stage": "startup",
        "founded_on": date(2021, 3, 9),
        "employees": 64,
        "rd_staff": 27,
        "revenue": wan(2300),
        "rd_spend": wan(410),
        "export": False,
        "legal": "李晓东",
        "body": "MA0L8C3F2",
        "quals": [
            ("tech_sme", "", 250),
            ("srdi", "innovative", 450),
        ],
        "patents": 3,
        "other_ip": 4,
        "need": {
            "amount": wan(300),
            "term": 12,
            "purpose": "working_capital",
            "guarantee": ["credit"],
            "rate": "5.00",
            "description": "碳化硅衬底材料扩产所需流动资金",
        },
    },
}


@dataclass
class SeedReport:
    password: str
    counts: dict[str, int]


def _body(rng: random.Random) -> str:
    # The 9th character is replaced by the organisation-code check character in make_uscc.
    return "MA0" + "".join(rng.choice(ALPHABET) for _ in range(5)) + "0"


def three_years_from(issued: date) -> date:
    """Last valid day of a 高企 / 专精特新 certificate: the day before the third anniversary."""
    try:
        return issued.replace(year=issued.year + 3) - timedelta(days=1)
    except ValueError:  # 29 February
        return issued.replace(year=issued.year + 3, day=28) - timedelta(days=1)


def policy_years(today: date) -> list[int]:
    """The budget years the demo's history touches: last year and this one."""
    return [today.year - 1, today.year]


def seed_reference_data(today: date | None = None) -> None:
    today = today or timezone.localdate()
    ensure_regions(Region)
    ensure_lpr(LprRate)
    for name, short, kind, is_lender, branches in INSTITUTIONS:
        inst, _ = Institution.objects.update_or_create(
            name=name, defaults={"short_name": short, "kind": kind, "is_lender": is_lender}
        )
        for b_name, city, scitech, provincial in branches:
            Branch.objects.update_or_create(
                institution=inst,
                name=b_name,
                defaults={"city_id": city, "is_scitech": scitech, "is_provincial": provincial},
            )
    for spec in PRODUCTS:
        inst = Institution.objects.get(name=spec["institution"])
        rate_min, rate_max = spec["rate"]
        product, _ = Product.objects.update_or_create(
            institution=inst,
            name=spec["name"],
            defaults={
                "product_type": spec["product_type"],
                "amount_min": wan(spec["amount"][0]),
                "amount_max": wan(spec["amount"][1]),
                "term_min_months": spec["term"][0],
                "term_max_months": spec["term"][1],
                "rate_min": Decimal(rate_min) if rate_min else None,
                "rate_max": Decimal(rate_max) if rate_max else None,
                "guarantee_types": spec["guarantee"],
                "fully_online": spec["online"],
                "is_exclusive": spec["exclusive"],
                "status": Product.Status.PUBLISHED,
                "description": spec["description"],
                "guarantee_fee_rate": Decimal(spec["guarantee_fee_rate"])
                if "guarantee_fee_rate" in spec
                else None,
                "guarantee_coverage": Decimal(spec["guarantee_coverage"])
                if "guarantee_coverage" in spec
                else None,
            },
        )
        if product.published_at is None:
            product.published_at = _aware(today - timedelta(days=HISTORY_DAYS + 30))
            product.save(update_fields=["published_at"])
        c = spec["criteria"]
        Criteria.objects.update_or_create(
            product=product,
            defaults={
                "cities": c.get("cities", []),
                "industries": c.get("industries", []),
                "stages": c.get("stages", []),
                "required_qualifications": c.get("required_qualifications", []),
                "min_revenue": c.get("min_revenue"),
                "min_invention_patents": c.get("min_invention_patents", 0),
                "min_years": c.get("min_years", 0),
                "export_required": c.get("export_required", False),
                "max_amount_revenue_ratio": Decimal(c["max_amount_revenue_ratio"])
                if c.get("max_amount_revenue_ratio")
                else None,
                "min_innovation_score": c.get("min_innovation_score"),
            },
        )
    for spec in POLICIES:
        _ensure_yearly_policies(spec, policy_years(today))


def _ensure_yearly_policies(spec: dict, years: list[int]) -> None:
    """One version of the policy per budget year (effective 1 January to 31 December), created once;
    the newest year's version is the current (active) one."""
    for year in years:
        if Policy.objects.filter(series=spec["series"], effective_from=date(year, 1, 1)).exists():
            continue
        last = Policy.objects.filter(series=spec["series"]).order_by("-version").first()
        newest = last is None or last.effective_from < date(year, 1, 1)
        if newest:
            Policy.objects.filter(series=spec["series"], is_active=True).update(is_active=False)
        Policy.objects.create(
            series=spec["series"],
            version=(last.version + 1) if last else 1,
            kind=spec["kind"],
            name=spec["name"].format(year=year),
            parameters=spec["parameters"],
            effective_from=date(year, 1, 1),
            effective_to=date(year, 12, 31),
            budget=spec["budget"],
            is_active=newest,
            source=spec["source"],
        )


def _aware(d: date, hour: int = 9):
    return timezone.make_aware(datetime.combine(d, time(hour, 0)))


def _pick(rng: random.Random, weighted):
    items, weights = zip(*weighted, strict=True)
    return rng.choices(items, weights=weights, k=1)[0]


def _firm_spec(i: int, rng: random.Random, today: date) -> dict:
    industry = _pick(rng, INDUSTRY_WEIGHTS)
    stage = _pick(rng, STAGE_WEIGHTS)
    city = _pick(rng, CITY_WEIGHTS)
    age_years = {"seed": (0, 2), "startup": (1, 5), "growth": (3, 12), "mature": (8, 25)}[stage]
    founded = today - timedelta(days=rng.randint(age_years[0] * 365 + 30, age_years[1] * 365 + 300))
    employees = {"seed": (5, 30), "startup": (15, 120), "growth": (60, 400), "mature": (200, 1500)}[stage]
    revenue_wan = {
        "seed": (0, 300),
        "startup": (200, 3000),
        "growth": (2000, 20000),
        "mature": (10000, 80000),
    }[stage]
    emp = rng.randint(*employees)
    rev = wan(rng.randint(*revenue_wan))
    rd_ratio = Decimal(rng.randint(20, 180)) / Decimal(1000)
    name = f"山西{rng.choice(PLACE)}{rng.choice(CORE)}{TRADE[industry]}有限公司"
    return {
        "name": name,
        "city": city,
        "industry": industry,
        "stage": stage,
        "founded_on": founded,
        "employees": emp,
        "rd_staff": max(1, int(emp * rng.randint(8, 45) / 100)),
        "revenue": rev,
        "rd_spend": (rev * rd_ratio).quantize(Decimal("0.01")),
        "export": rng.random() < 0.22,
        "legal": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
        "verified": rng.random() < 0.85,
        "shares": rng.random() < 0.75,
    }


def _upsert_firm(
    uscc: str, spec: dict, *, verified: bool, shares: bool, today: date
) -> tuple[Enterprise, bool]:
    firm, created = _upsert_firm_row(uscc, spec, verified=verified, shares=shares)
    _ensure_figures(firm, spec, today=today)
    if shares and not ProfileConsent.objects.filter(enterprise=firm, institution__isnull=True).exists():
        consent_grant(user=None, enterprise=firm, institution=None)  # its "share with all" record
    return firm, created


def _upsert_firm_row(uscc: str, spec: dict, *, verified: bool, shares: bool) -> tuple[Enterprise, bool]:
    return Enterprise.objects.update_or_create(
        uscc=uscc,
        defaults={
            "name": spec["name"],
            "legal_representative": spec["legal"],
            "city_id": spec["city"],
            "founded_on": spec["founded_on"],
            "registered_capital": (spec["revenue"] / 4).quantize(Decimal("0.01")) or wan(100),
            "industry": spec["industry"],
            "stage": spec["stage"],
            "total_assets": spec["revenue"] * 2,
            "export_business": spec["export"],
            "had_bank_loan": _declares_bank_loan(uscc),
            "export_amount_last_year": (spec["revenue"] * Decimal("0.3")).quantize(Decimal("0.01"))
            if spec["export"]
            else Decimal("0"),
            "verification_status": "verified" if verified else "pending",
            "verified_at": _aware(spec["founded_on"] + timedelta(days=30)) if verified else None,
            "shares_profile": shares,
            "contact_mobile": "139" + uscc[-8:].translate(str.maketrans(ALPHABET, "0123456789" * 3 + "0")),
        },
    )


# Year-on-year growth of revenue by stage (low, high): young firms grow fast or shrink, mature ones
# move little. The older years' figures are the newest year's divided back by it.
GROWTH = {"seed": (-0.2, 1.5), "startup": (-0.1, 0.8), "growth": (-0.05, 0.4), "mature": (-0.08, 0.15)}
# Invention-patent applications a year and the chance of a provincial R&D platform, by stage.
PATENTS_A_YEAR = {"seed": 2, "startup": 5, "growth": 12, "mature": 30}
PLATFORM_CHANCE = {"seed": 0.02, "startup": 0.1, "growth": 0.3, "mature": 0.6}


def _cents(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def _figure_rows(spec: dict, uscc: str, today: date) -> dict[int, dict]:
    """The firm's last three financial years (the older ones since its founding), newest first: the
    newest is the spec's revenue, R&D spend, employees and S&T staff; the rest drawn from the firm's
    own random stream (its USCC), so every seeding writes the same figures and the main stream of
    the demo is untouched. Varied enough that each stage's cohort spreads over the score."""
    rng = random.Random(f"figures-{uscc}")
    stage = spec["stage"]
    revenue, rd_spend = spec["revenue"], spec["rd_spend"]
    employees, st_staff = spec["employees"], spec["rd_staff"]
    hitech_share = rng.uniform(0.3, 0.9) if rng.random() < 0.7 else 0.0
    margin = rng.uniform(-0.1, 0.18)
    reports_tech_contracts = rng.random() < 0.5
    rows: dict[int, dict] = {}
    for n, year in enumerate(financial_years(today)):
        if n and year < spec["founded_on"].year:
            break  # (the newest year is always there: the demo's matching reads it)
        if n:
            growth = 1 + rng.uniform(*GROWTH[stage])
            revenue = _cents(revenue / Decimal(str(growth)))
            rd_spend = _cents(rd_spend / Decimal(str(1 + rng.uniform(-0.1, 0.5))))
            employees = max(3, int(employees / (1 + rng.uniform(-0.05, 0.3))))
            st_staff = min(employees, max(1, int(st_staff / (1 + rng.uniform(-0.05, 0.35)))))
        apps = rng.randint(0, PATENTS_A_YEAR[stage])
        rows[year] = {
            "revenue": revenue,
            "rd_spend": rd_spend,
            "hitech_revenue": _cents(revenue * Decimal(str(hitech_share))) if hitech_share else None,
            "net_profit": _cents(revenue * Decimal(str(margin + rng.uniform(-0.03, 0.03)))),
            "net_assets": _cents(revenue * Decimal(str(rng.uniform(0.4, 1.6)))) or wan(50),
            "employees": employees,
            "st_staff": st_staff,
            "master_staff": min(employees, int(employees * rng.uniform(0.02, 0.35))),
            "rd_super_deduction": _cents(rd_spend * Decimal(str(rng.uniform(0.6, 1.0))))
            if rng.random() < 0.8
            else None,
            "tech_contract_turnover": wan(rng.randint(10, 1500)) if reports_tech_contracts else None,
            "invention_applications": apps,
            "invention_grants": rng.randint(0, max(0, apps - 1)) if apps else 0,
            "pct_applications": rng.choice([0, 0, 0, 1, 2]) if stage in ("growth", "mature") else 0,
            "rd_platforms": (rng.randint(1, 3) if rng.random() < PLATFORM_CHANCE[stage] else 0),
            "st_awards": rng.choice([0, 0, 0, 0, 1, 1, 2]),
        }
    return rows


def _ensure_figures(firm: Enterprise, spec: dict, *, today: date) -> None:
    """The firm's 年度经营数据 (idempotent: one row per year, the same figures every seeding)."""
    for year, figures in _figure_rows(spec, firm.uscc, today).items():
        AnnualFigures.objects.update_or_create(enterprise=firm, year=year, defaults=figures)


def _declares_bank_loan(uscc: str) -> bool:
    """Whether a demo firm declares an earlier bank loan: about two in five, a stable function of
    the USCC (so the random stream of the rest of the demo is untouched)."""
    return int(hashlib.sha256(uscc.encode()).hexdigest(), 16) % 5 < 2


def seed_first_loans(*, today: date) -> None:
    """Keep a 首贷 in the current month, so this month's and this year's first-loan figures are
    not zero whatever day the demo is seeded on: the month's first loan that is its firm's first
    on the portal (the bank history disburses one today) gets a firm that declared no bank loan."""

    month = Loan.objects.filter(start_date__gte=today.replace(day=1), start_date__lte=today)
    for loan in month.select_related("application").order_by("start_date", "pk"):
        firm_id = loan.application.enterprise_id
        firm_loans = Loan.objects.filter(application__enterprise_id=firm_id).order_by("start_date", "pk")
        if firm_loans.values_list("pk", flat=True).first() == loan.pk:
            Enterprise.objects.filter(pk=firm_id).update(had_bank_loan=False)
            return


def _qualification(kind: str, level: str, days_ago: int, today: date) -> tuple[str, str, date, date]:
    """A qualification issued ``days_ago`` before ``today`` with its statutory expiry; 科技型中小企业
    入库 is yearly, so it falls in this calendar year (1 January at the earliest)."""
    issued = today - timedelta(days=days_ago)
    if kind == "tech_sme":
        issued = max(issued, date(today.year, 1, 1))
        return kind, level, issued, date(today.year, 12, 31)
    return kind, level, issued, three_years_from(issued)


def _ensure_assets(
    firm: Enterprise, rng: random.Random, *, today: date, quals=None, patents=None, other_ip=None
) -> None:
    """Qualifications, IP and needs are created once per firm (on its first seeding)."""
    if quals is None:
        quals = []
        if firm.stage in ("growth", "mature") and rng.random() < 0.45:
            quals.append(_qualification("hitech", "", rng.randint(30, 1300), today))  # some have expired
        latest = firm.latest_figures
        if (latest.employees if latest else 0) <= 500 and rng.random() < 0.6:
            quals.append(_qualification("tech_sme", "", rng.randint(20, 260), today))
        if rng.random() < 0.18:
            level = rng.choice(["innovative", "innovative", "srdi_sme", "giant"])
            quals.append(_qualification("srdi", level, rng.randint(60, 900), today))
    else:
        quals = [_qualification(kind, level, days_ago, today) for kind, level, days_ago in quals]
    for kind, level, issued, expires in quals:
        Qualification.objects.create(
            enterprise=firm,
            kind=kind,
            level=level,
            issued_on=issued,
            expires_on=expires,
            number=f"GR{issued:%Y}{firm.pk:05d}{kind[:2].upper()}",
        )
    if patents is None:
        patents = rng.choice([0, 0, 0, 1, 1, 2, 3, 4, 6, 8])
    if other_ip is None:
        other_ip = rng.randint(0, 12)
    kinds = ["utility_model", "software_copyright", "trademark", "design_patent"]
    for n in range(patents):
        IPAsset.objects.create(
            enterprise=firm,
            kind="invention_patent",
            number=f"ZL2{n}{firm.pk:07d}.X",
            title="一种" + rng.choice(CORE) + "方法",
            valuation=wan(rng.randint(50, 600)),
        )
    for n in range(other_ip):
        IPAsset.objects.create(enterprise=firm, kind=kinds[n % len(kinds)], number=f"R{n}{firm.pk:07d}")


def _need_spec(firm: Enterprise, rng: random.Random) -> dict:
    latest = firm.latest_figures
    revenue = (latest.revenue if latest else None) or Decimal(0)
    cap = max(Decimal(50), min(Decimal(5000), (revenue / WAN / 3).quantize(Decimal(1))))
    amount = wan(rng.choice([50, 100, 200, 300, 500, 800, 1000, 1500, 2000, 3000]))
    amount = min(amount, wan(cap)) if rng.random() < 0.8 else amount
    guarantees = ["credit"] if rng.random() < 0.7 else []
    guarantees += rng.sample(
        ["ip_pledge", "order", "receivable", "collateral", "guarantee"], k=rng.randint(0, 2)
    )
    return {
        "amount": amount,
        "term": rng.choice([6, 12, 12, 24, 36]),
        "purpose": rng.choice(["working_capital", "working_capital", "rd", "equipment", "export"]),
        "guarantee": sorted(set(guarantees or ["credit"])),
        "rate": f"{rng.choice([3.8, 4.2, 4.5, 5.0, 5.5, 6.0]):.2f}",
        "description": "",
    }


def _create_need(firm: Enterprise, spec: dict, user: User | None, *, posted: date) -> FinancingNeed:
    """A need posted on ``posted`` (the bank history moves it to the day its leads were routed)."""
    return FinancingNeed.objects.create(
        enterprise=firm,
        amount=spec["amount"],
        term_months=spec["term"],
        purpose=spec["purpose"],
        guarantee_types=spec["guarantee"],
        max_annual_rate=Decimal(spec["rate"]),
        needed_by=posted + timedelta(days=60),
        description=spec["description"],
        posted_by=user,
        created_at=_aware(posted, 10),
    )


def _user(username: str, *, password: str, role: str, first_name: str, **fields) -> User:
    user, _ = User.objects.update_or_create(
        username=username, defaults={"role": role, "first_name": first_name, **fields}
    )
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


def seed(*, password: str, firms: int = 300, today: date | None = None, seed: int = SEED) -> SeedReport:
    """Reference data, firms and accounts in one transaction; then, each step on what the one
    before it committed: a full match run (in-process), the banks' history of leads, applications
    and loans, the firms' consents, the centre's service visits, and the subsidy claims on those loans.

    ``today`` (default: the Beijing date) is the day the history ends on; it must not be later
    than the real date (the services refuse facts in the future)."""
    today = today or timezone.localdate()
    _seed_base(password=password, firms=firms, today=today, seed=seed)

    from celery import current_app


    seed_scores(today=today)  # the 科创积分 of every verified firm, before the match run lends on it
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True  # the demo's match run happens here, not on a worker
    try:
        seed_matching()
    finally:
        current_app.conf.task_always_eager = eager
    seed_bank_history(today=today, seed=seed)
    seed_loan_notices(today=today)
    seed_firm_demo(today=today)
    seed_visits(today=today)
    for year in policy_years(today):
        seed_subsidies(today=today, year=year)
    seed_feedback(today=today)
    seed_first_loans(today=today)
    seed_recommendations(today=today)
    return SeedReport(password=password, counts=row_counts())


def _register(firm: Enterprise, *, days_ago: int, verified: bool, today: date) -> date:
    """Date the firm's registration (and verification, a few days later) in the demo's past."""
    registered = today - timedelta(days=days_ago)
    Enterprise.objects.filter(pk=firm.pk).update(
        created_at=_aware(registered, 9),
        verified_at=_aware(min(registered + timedelta(days=2), today), 15) if verified else None,
    )
    return registered


@transaction.atomic
def _seed_base(*, password: str, firms: int, today: date, seed: int = SEED) -> None:
    seed_reference_data(today)
    rng = random.Random(seed)

    demo_enterprises = {}
    for username, spec in DEMO_FIRMS.items():
        uscc = make_uscc(division=spec["city"] if spec["city"] != "140171" else "140100", body=spec["body"])
        firm, created = _upsert_firm(uscc, spec, verified=True, shares=True, today=today)
        demo_enterprises[username] = (firm, created, spec)

    for i in range(firms):
        spec = _firm_spec(i, rng, today)
        body_rng = random.Random(seed * 7 + i)
        division = spec["city"] if spec["city"] != "140171" else "140100"
        uscc = make_uscc(division=division, body=_body(body_rng))
        firm, created = _upsert_firm(
            uscc, spec, verified=spec["verified"], shares=spec["shares"], today=today
        )
        asset_rng = random.Random(seed * 11 + i)
        if created:
            # Registered over the past year, a few of them today (this month's figures on the 1st).
            days_ago = 0 if i % 60 == 7 else asset_rng.randint(1, HISTORY_DAYS - 5)
            registered = _register(firm, days_ago=days_ago, verified=spec["verified"], today=today)
            _ensure_assets(firm, asset_rng, today=today)
            for _ in range(1 if asset_rng.random() < 0.85 else 2):
                posted = min(registered + timedelta(days=asset_rng.randint(0, 30)), today)
                _create_need(firm, _need_spec(firm, asset_rng), None, posted=posted)

    pufa = Institution.objects.get(name="浦发银行太原分行")
    boc = Institution.objects.get(name="中国银行山西省分行")
    pufa_scitech = Branch.objects.get(institution=pufa, name="浦发银行太原科技支行")
    pufa_head = Branch.objects.get(institution=pufa, is_provincial=True)
    boc_centre = Branch.objects.get(institution=boc, name="中国银行太原科技金融中心")

    users = {}
    for username, (firm, created, spec) in demo_enterprises.items():
        users[username] = _user(
            username,
            password=password,
            role=Role.FIRM,
            first_name=spec["legal"],
            enterprise=firm,
            mobile="13900000001" if username == "demo_firm" else "13900000002",
        )
        if created:
            _register(firm, days_ago=HISTORY_DAYS - 5, verified=True, today=today)
            _ensure_assets(
                firm,
                rng,
                today=today,
                quals=spec["quals"],
                patents=spec["patents"],
                other_ip=spec["other_ip"],
            )
            _create_need(firm, spec["need"], users[username], posted=today - timedelta(days=1))
    users["demo_officer"] = _user(
        "demo_officer", password=password, role=Role.OFFICER, first_name="赵敏", branch=pufa_scitech
    )
    users["demo_officer2"] = _user(
        "demo_officer2", password=password, role=Role.OFFICER, first_name="孙磊", branch=pufa_scitech
    )
    users["demo_officer_other"] = _user(
        "demo_officer_other", password=password, role=Role.OFFICER, first_name="周静", branch=boc_centre
    )
    users["demo_manager"] = _user(
        "demo_manager", password=password, role=Role.MANAGER, first_name="陈涛", branch=pufa_head
    )
    users["demo_staff"] = _user("demo_staff", password=password, role=Role.STAFF, first_name="刘芳")
    # Region desks (区域专班): 太原市财政局's desk and the 综改区 科技金融部 (who run the zone's 上门服务).
    users["demo_city"] = _user(
        "demo_city",
        password=password,
        role=Role.REGION,
        first_name="郭宁",
        region=Region.objects.get(pk="140100"),
    )
    users["demo_zonggai"] = _user(
        "demo_zonggai",
        password=password,
        role=Role.REGION,
        first_name="韩冰",
        region=Region.objects.get(pk="140171"),
    )
    # The finance desk: two people, so the demo's claims are approved by one and paid by another.
    users["demo_finance"] = _user("demo_finance", password=password, role=Role.FINANCE, first_name="郭建华")
    users["demo_cashier"] = _user("demo_cashier", password=password, role=Role.FINANCE, first_name="韩雪")


def row_counts() -> dict[str, int]:

    models = [
        Region,
        Institution,
        Branch,
        Product,
        Criteria,
        Policy,
        LprRate,
        Enterprise,
        AnnualFigures,
        Qualification,
        IPAsset,
        FinancingNeed,
        ServiceVisit,
        User,
        Match,
        Application,
        Loan,
        Claim,
        LedgerEntry,
        Rating,
        Complaint,
        RecommendationList,
        RecommendationEntry,
        RecommendationFeedback,
    ]
    return {m._meta.label: m.objects.count() for m in models}
