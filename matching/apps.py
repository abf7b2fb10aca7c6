from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = _("智能匹配")

    def ready(self):
        from portal.api.caching import stale_on_change

        from . import selectors  # noqa: F401  (registers the access rules of this app's models)

        # The match lists (a bank's lead inbox) show matches and the institution they went to.
        stale_on_change("matching.match", "matching.Match", "lenders.Institution")
