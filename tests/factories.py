"""factory_boy factories shared by every test folder."""

import itertools
from datetime import date
from decimal import Decimal

import factory
from django.utils import timezone

from enterprises.models import (
    AnnualFigures,
    Enterprise,
    FinancingNeed,
    IPAsset,
    Qualification,
    financial_years,
)
from enterprises.uscc import ALPHABET, make_uscc
from lenders.models import Branch, Institution
from matching.models import Application, Loan, Match
from portal.models import Region, Role, User
from products.models import Criteria, Product

PASSWORD = "Kejin-test-2026"
_serial = itertools.count(1)


def _uscc(n: int) -> str:
    digits = []
    for _ in range(5):
        n, r = divmod(n, len(ALPHABET))
        digits.append(ALPHABET[r])
    # The body's 9th character is replaced by its check character, so only 5 characters vary.
    return make_uscc(division="140100", body="MA0" + "".join(reversed(digits)) + "0")


def region(code: str = "140100") -> Region:
    return Region.objects.get(code=code)


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    kind = "bank"
    name = factory.Sequence(lambda n: f"测试银行{n}山西省分行")
    short_name = factory.Sequence(lambda n: f"测试银行{n}")


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch

    institution = factory.SubFactory(InstitutionFactory)
    name = factory.Sequence(lambda n: f"太原第{n}支行")
    city = factory.LazyFunction(lambda: region("140100"))
    is_scitech = False
    is_provincial = False


# EnterpriseFactory's single-year figure names → the AnnualFigures field they fill.
FIRM_FIGURES = {
    "employees": "employees",
    "rd_staff": "st_staff",
    "revenue_last_year": "revenue",
    "rd_spend_last_year": "rd_spend",
}


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"山西测试科技{n}有限公司")
    uscc = factory.LazyFunction(lambda: _uscc(next(_serial) + 5000))
    legal_representative = "张三"
    city = factory.LazyFunction(lambda: region("140100"))
    founded_on = date(2018, 6, 1)
    industry = "next_gen_it"
    stage = "growth"
    verification_status = "verified"
    shares_profile = True
    # The firm's figures (last financial year's AnnualFigures row), under the names the profile's
    # single-year fields had; all four None: no row.
    employees = 120
    rd_staff = 30
    revenue_last_year = Decimal("50000000.00")
    rd_spend_last_year = Decimal("4000000.00")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        figures = {FIRM_FIGURES[k]: kwargs.pop(k) for k in list(kwargs) if k in FIRM_FIGURES}
        firm = super()._create(model_class, *args, **kwargs)
        if any(v is not None for v in figures.values()):
            AnnualFigures.objects.create(enterprise=firm, year=financial_years()[0], **figures)
        return firm

    @factory.post_generation
    def share_with_all(obj, create, extracted, **kwargs):
        """A firm made with ``shares_profile`` on has the switch's live consent record, as a firm that
        ticked the box gets (every purpose and group, one year from today)."""
        if create and obj.shares_profile:
            from enterprises.services import consent_grant

            consent_grant(user=None, enterprise=obj, institution=None)


class QualificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Qualification

    enterprise = factory.SubFactory(EnterpriseFactory)
    kind = "hitech"
    issued_on = date(2025, 1, 1)
    expires_on = date(2027, 12, 31)


class IPAssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IPAsset

    enterprise = factory.SubFactory(EnterpriseFactory)
    kind = "invention_patent"
    number = factory.Sequence(lambda n: f"ZL2024{n:07d}.X")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = ""
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class FirmUserFactory(UserFactory):
    role = Role.FIRM
    enterprise = factory.SubFactory(EnterpriseFactory)


class OfficerFactory(UserFactory):
    role = Role.OFFICER
    branch = factory.SubFactory(BranchFactory)


class ManagerFactory(UserFactory):
    role = Role.MANAGER
    branch = factory.SubFactory(BranchFactory)


class StaffFactory(UserFactory):
    role = Role.STAFF


class RegionDeskFactory(UserFactory):
    """A region desk (区域专班): 太原市's unless told."""

    role = Role.REGION
    region = factory.LazyFunction(lambda: region("140100"))


class FinanceFactory(UserFactory):
    """A user of the finance desk (财政专班): approves and pays claims."""

    role = Role.FINANCE


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    institution = factory.SubFactory(InstitutionFactory)
    name = factory.Sequence(lambda n: f"科创贷{n}号")
    product_type = "credit"
    amount_min = Decimal("500000.00")
    amount_max = Decimal("30000000.00")
    term_min_months = 6
    term_max_months = 36
    rate_min = Decimal("3.000")
    rate_max = Decimal("6.000")
    guarantee_types = factory.LazyFunction(lambda: ["credit"])
    status = "published"
    published_at = factory.LazyFunction(timezone.now)
    criteria = factory.RelatedFactory("tests.factories.CriteriaFactory", factory_related_name="product")


class CriteriaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Criteria

    product = factory.SubFactory(ProductFactory, criteria=None)


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FinancingNeed

    enterprise = factory.SubFactory(EnterpriseFactory)
    amount = Decimal("5000000.00")
    term_months = 12
    purpose = "working_capital"
    guarantee_types = factory.LazyFunction(lambda: ["credit"])
    max_annual_rate = Decimal("5.000")


class MatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Match

    need = factory.SubFactory(NeedFactory)
    product = factory.SubFactory(ProductFactory)
    enterprise = factory.SelfAttribute("need.enterprise")
    institution = factory.SelfAttribute("product.institution")
    score = 75
    is_lead = True


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    enterprise = factory.SubFactory(EnterpriseFactory)
    product = factory.SubFactory(ProductFactory)
    amount = Decimal("3000000.00")
    term_months = 12
    purpose = "working_capital"


class LoanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Loan

    application = factory.SubFactory(ApplicationFactory, status="disbursed")
    principal = Decimal("3000000.00")
    annual_rate = Decimal("3.500")
    start_date = date(2026, 1, 10)
    maturity_date = date(2027, 1, 10)


# --- subsidies (issue 6) -------------------------------------------------------------------------


class RepaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "matching.Repayment"

    loan = factory.SubFactory(LoanFactory)
    paid_on = date(2026, 3, 20)
    principal = Decimal("0.00")
    interest = Decimal("26250.00")
    on_time = True


class PolicyFactory(factory.django.DjangoModelFactory):
    """The demo 贷款贴息 policy of domain.md §4 (ratio 50%, cap 3%, 20万元 per firm-year, basis 360)."""

    class Meta:
        model = "subsidies.Policy"

    series = factory.Sequence(lambda n: f"interest-{n}")
    version = 1
    kind = "interest"
    name = factory.Sequence(lambda n: f"贷款贴息政策{n}")
    parameters = factory.LazyFunction(
        lambda: {
            "ratio": "0.50",
            "principal_cap_rate": "0.03",
            "firm_year_cap": "200000",
            "basis": 360,
            "eligible_product_types": ["credit"],
            "auto_claim": True,
            "require_on_time": True,
            "claim_period": "quarter",
        }
    )
    effective_from = date(2026, 1, 1)
    effective_to = None
    budget = Decimal("10000000.00")
    is_active = True


class RiskPolicyFactory(PolicyFactory):
    series = factory.Sequence(lambda n: f"risk-{n}")
    kind = "risk"
    parameters = factory.LazyFunction(
        lambda: {"ratio": "0.30", "bank_year_cap": "10000000", "npl_trigger": "0.01"}
    )
    budget = Decimal("20000000.00")


class RewardPolicyFactory(PolicyFactory):
    series = factory.Sequence(lambda n: f"reward-{n}")
    kind = "reward"
    parameters = factory.LazyFunction(lambda: {"unit": "100000000", "reward_per_unit": "200000"})
    effective_from = date(2021, 1, 1)
    budget = Decimal("2000000.00")


def sign_offer(application, user=None, **params):
    """The firm accepts an approved offer (签约确认) through the transitions — the step between
    approval and disbursement — as ``user`` or the first firm user of the application's firm."""
    from matching.services.review import application_transition

    if user is None:
        user = (
            User.objects.filter(enterprise_id=application.enterprise_id, role=Role.FIRM)
            .order_by("pk")
            .first()
        )
    return application_transition(user=user, application=application, action="sign", **params)


def claim_through_the_desks(claim, *, reviewer, approver, payer=None):
    """A submitted claim through the real four-eyes flow: the science desk reviews, one finance
    user approves, another (if given) pays. Returns the claim as it ends."""
    from subsidies import services

    claim = services.claim_review(user=reviewer, claim=claim)
    claim = services.claim_approve(user=approver, claim=claim)
    if payer is not None:
        claim = services.claim_pay(user=payer, claim=claim)
    return claim
