"""API fuzzing (issue 8, item 2): schemathesis generates requests for every operation of the
OpenAPI schema served at /api/schema/ and sends them, authenticated by token as staff, as a firm and
as a bank officer, to the Django WSGI application. Every response must be a non-5xx answer that
conforms to the documented schema.

Bounded for the suite: ``MAX_EXAMPLES`` generated requests per operation (derandomized, so a run is
reproducible), each sent once per role. The figures (operations, examples, failures) are printed at
the end of the module and written to test-results/api-fuzz.txt. A full fuzz by hand:
``FUZZ_MAX_EXAMPLES=200 pytest tests/test_api_fuzz.py -n 0``.
"""

import os
from collections import Counter

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests import factories as f
from tests.conftest import ROOT

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "5"))
ROLES = ("staff", "firm", "officer")
FIGURES: Counter = Counter()
OPERATIONS: set[str] = set()


def _wsgi_app():
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


# The schema the portal serves, loaded once at collection (it needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/", _wsgi_app())
# The schema's own examples, then MAX_EXAMPLES generated requests (the coverage phase would send
# hundreds per operation: run by hand with the schemathesis CLI for a full fuzz).
schema.config.phases.update(phases=["examples", "fuzzing"])


@pytest.fixture(autouse=True)
def _in_test_transaction(db, settings):
    """Requests go through Django's WSGI application inside the test's transaction, as with the
    test client: the per-request connection checks are switched off so the atomic block stays."""
    settings.API_THROTTLE_DISABLED = True  # thousands of requests from one address in seconds
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db):
    """Token headers of the three roles, with some data of their own to find."""
    bank = f.BranchFactory(is_scitech=True)
    firm = f.FirmUserFactory()
    officer = f.OfficerFactory(branch=bank)
    staff = f.StaffFactory()
    product = f.ProductFactory(institution=bank.institution)
    need = f.NeedFactory(enterprise=firm.enterprise)
    f.MatchFactory(need=need, product=product)
    return {
        role: {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}
        for role, user in (("staff", staff), ("firm", firm), ("officer", officer))
    }


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_generated_requests_without_5xx_and_as_documented(case, tokens):
    OPERATIONS.add(case.operation.label)
    for role in ROLES:
        cache.clear()  # no login lock-out or throttle state carried between examples
        FIGURES["examples"] += 1
        try:
            case.call_and_validate(
                headers=tokens[role], checks=[not_a_server_error, response_schema_conformance]
            )
        except BaseException:  # schemathesis raises a FailureGroup (a BaseExceptionGroup)
            FIGURES["failures"] += 1
            raise


@pytest.fixture(scope="module", autouse=True)
def _fuzz_figures(request):
    yield
    line = (
        f"api fuzz: operations={len(OPERATIONS)} examples={FIGURES['examples']} "
        f"failures={FIGURES['failures']} (max {MAX_EXAMPLES} generated per operation × {len(ROLES)} roles)"
    )
    out = ROOT / "test-results"
    out.mkdir(exist_ok=True)
    (out / "api-fuzz.txt").write_text(line + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(line)
