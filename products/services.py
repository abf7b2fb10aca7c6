"""Writes of the product catalogue: a bank manager creates, edits, publishes and retires its
institution's products and their criteria. Publishing (or changing a published product) triggers
matching of that product against all open needs."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lenders.services import require_bank, require_same_institution
from matching.services.dispatch import enqueue_product_match
from portal.models import Region, User
from portal.services import ConflictError, ServiceError, transition_record
from portal.vocabulary import INDUSTRIES, QUALIFICATIONS, STAGES

from .models import Criteria, Product

PRODUCT_FIELDS = (
    "name",
    "product_type",
    "amount_min",
    "amount_max",
    "term_min_months",
    "term_max_months",
    "rate_min",
    "rate_max",
    "guarantee_types",
    "fully_online",
    "is_exclusive",
    "description",
)
CRITERIA_FIELDS = (
    "cities",
    "industries",
    "stages",
    "required_qualifications",
    "min_revenue",
    "min_invention_patents",
    "min_years",
    "export_required",
    "max_amount_revenue_ratio",
    "min_innovation_score",
)


def _validate_criteria(criteria: Criteria) -> None:

    errors = {}
    if any(i not in INDUSTRIES for i in criteria.industries or []):
        errors["industries"] = _("行业不在可选范围内")
    if any(s not in STAGES for s in criteria.stages or []):
        errors["stages"] = _("发展阶段不在可选范围内")
    if any(q not in QUALIFICATIONS for q in criteria.required_qualifications or []):
        errors["required_qualifications"] = _("资质不在可选范围内")
    cities = list(criteria.cities or [])
    if cities and Region.objects.filter(code__in=cities).count() != len(set(cities)):
        errors["cities"] = _("城市代码不在可选范围内")
    if errors:
        raise ValidationError(errors)


def _save(product: Product, criteria_fields: dict | None) -> Product:
    product.full_clean(exclude=["institution", "created_by"], validate_unique=False)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        raise ServiceError(_("本机构已有同名产品。"), field="name")
    criteria, _created = Criteria.objects.get_or_create(product=product)
    if criteria_fields:
        for name in CRITERIA_FIELDS:
            if name in criteria_fields:
                value = criteria_fields[name]
                if value is None and name in ("cities", "industries", "stages", "required_qualifications"):
                    value = []
                setattr(criteria, name, value)
        _validate_criteria(criteria)
        criteria.full_clean(exclude=["product"])
        criteria.save()
    return product


@transaction.atomic
def product_create(*, user: User, criteria: dict | None = None, **fields) -> Product:
    """A manager adds a draft product to its institution."""
    require_bank(user, manager=True)
    product = Product(
        institution_id=user.institution_id,
        created_by=user,
        status=Product.Status.DRAFT,
        **{k: v for k, v in fields.items() if k in PRODUCT_FIELDS},
    )
    product = _save(product, criteria)
    transition_record(subject=product, from_state="", to_state=product.status, actor=user)
    return product


@transaction.atomic
def product_update(*, user: User, product: Product, criteria: dict | None = None, **fields) -> Product:
    """A manager edits its institution's product; a published product is matched again."""
    require_bank(user, manager=True)
    require_same_institution(user, product.institution_id)
    product = Product.objects.select_for_update().get(pk=product.pk)
    for name, value in fields.items():
        if name in PRODUCT_FIELDS:
            setattr(product, name, value)
    product = _save(product, criteria)
    if product.is_published:

        enqueue_product_match(product)
    return product


@transaction.atomic
def product_publish(*, user: User, product: Product, note: str = "") -> Product:
    """Put a draft or retired product on the shelf and match it against all open needs."""
    require_bank(user, manager=True)
    require_same_institution(user, product.institution_id)
    product = Product.objects.select_for_update().get(pk=product.pk)
    if product.status == Product.Status.PUBLISHED:
        raise ConflictError(_("该产品已上架。"), code="already_published")
    product.full_clean(exclude=["institution", "created_by"], validate_unique=False)
    from_state = product.status
    product.status = Product.Status.PUBLISHED
    product.published_at = timezone.now()
    product.save(update_fields=["status", "published_at", "updated_at"])
    transition_record(subject=product, from_state=from_state, to_state=product.status, actor=user, note=note)

    enqueue_product_match(product)
    return product


@transaction.atomic
def product_retire(*, user: User, product: Product, note: str = "") -> Product:
    """Take a published product off the shelf. Existing leads and applications stay."""
    require_bank(user, manager=True)
    require_same_institution(user, product.institution_id)
    product = Product.objects.select_for_update().get(pk=product.pk)
    if product.status != Product.Status.PUBLISHED:
        raise ConflictError(_("只有已上架的产品可以下架。"), code="not_published")
    product.status = Product.Status.RETIRED
    product.save(update_fields=["status", "updated_at"])
    transition_record(
        subject=product, from_state=Product.Status.PUBLISHED, to_state=product.status, actor=user, note=note
    )
    return product
