from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LendersConfig(AppConfig):
    name = "lenders"
    verbose_name = _("金融机构")

    def ready(self):
        from . import selectors  # noqa: F401  (registers the access rules of this app's models)
