from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "enterprises"
    verbose_name = _("企业")

    def ready(self):
        from . import (
            selectors,  # noqa: F401  late import: registers the access rules of this app's models
            tasks,  # noqa: F401  late import: registers the Celery tasks the scoring service looks up by name
        )
