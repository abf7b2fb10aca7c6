from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = _("智能匹配")

    def ready(self):
        from . import selectors  # noqa: F401  (registers the access rules of this app's models)
