from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("门户")

    def ready(self):
        from . import (
            audit,  # noqa: F401  (connects the login/logout/failed-login audit receivers)
            celery,  # noqa: F401  (the Celery app: shared tasks bind to it)
        )
        from .api import authentication

        authentication._connect()  # cached token lookups are dropped when a token or user changes
        from . import workdays

        workdays._connect()  # the cached holiday schedules are dropped when a staff row changes

        from django.db.models.signals import pre_save

        from .text import clean_text_fields

        # Every model's text: control characters stripped, length caps enforced (portal/text.py).
        pre_save.connect(clean_text_fields, weak=False, dispatch_uid="kejin-clean-text-fields")
