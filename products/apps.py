from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = _("产品超市")

    def ready(self):
        from portal.api.caching import stale_on_change

        # The catalogue list shows products, their criteria and each product's institution.
        stale_on_change("products.product", "products.Product", "products.Criteria", "lenders.Institution")
