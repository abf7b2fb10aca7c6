from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = _("智能匹配")

    def ready(self):
        # Imports inside ready(): these modules import models, loadable only once the app registry is.
        from enterprises.signals import need_changed  # late import: connected once the apps are ready
        from portal.api.caching import stale_on_change  # late import: with the rest of ready()

        from . import (
            selectors,  # noqa: F401  late import: registers the access rules of this app's models
            tasks,  # noqa: F401  late import: registers the Celery tasks the dispatch service looks up by name
        )
        from .services import dispatch  # late import: services import models (app registry)

        need_changed.connect(dispatch.need_changed_match, dispatch_uid="matching-need-changed")

        # The match lists (a bank's lead inbox) show matches and the institution they went to; a loan
        # ends its firm's 首贷户 status (the lists' first_loan flag and filter).
        stale_on_change("matching.match", "matching.Match", "lenders.Institution", "matching.Loan")
