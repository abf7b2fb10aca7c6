from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = _("智能匹配")

    def ready(self):
        from enterprises.signals import need_changed

        from . import (
            selectors,  # noqa: F401  (registers the access rules of this app's models)
            tasks,  # noqa: F401  (registers the Celery tasks the dispatch service looks up by name)
        )
        from .services import dispatch

        need_changed.connect(dispatch.need_changed_match, dispatch_uid="matching-need-changed")
