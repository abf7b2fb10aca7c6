"""PostgreSQL drops the portal's connection (server restart, failover, an idle-connection killer):
the request that hits the dead connection gets a clean Chinese error page, and the next request
is served (CONN_HEALTH_CHECKS replaces a dead persistent connection before use)."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psycopg2
import pytest
from django.db import close_old_connections, connection

from tests import factories as f
from tests.conftest import ROOT, _test_database_url

pytestmark = pytest.mark.django_db(transaction=True)


def terminate_other_backends() -> int:
    """From a second connection, terminate every backend of the test database except this test's
    own connection (and the killer itself). Returns how many were terminated."""
    connection.ensure_connection()
    keep = connection.connection.get_backend_pid()
    db = connection.settings_dict
    killer = psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"] or "postgres",
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    )
    killer.autocommit = True
    try:
        with killer.cursor() as cur:
            cur.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), %s)",
                [keep],
            )
            return cur.fetchone()[0]
    finally:
        killer.close()


def terminate_backend_of_this_connection() -> None:
    connection.ensure_connection()
    pid = connection.connection.get_backend_pid()
    db = connection.settings_dict
    killer = psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"] or "postgres",
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    )
    killer.autocommit = True
    try:
        with killer.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cur.fetchone()[0] is True
    finally:
        killer.close()


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310 (the live test server)
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.fixture
def gunicorn_server(transactional_db, settings):
    """The portal under gunicorn (one sync worker: one persistent connection, CONN_MAX_AGE 60 s)
    against the test database; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = ROOT / "test-results/gunicorn-faults.log"
    log.parent.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "0",
        "SECRET_KEY": "faults-test-secret-key-not-for-production-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CONN_MAX_AGE": "60",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
        "STATIC_MANIFEST": "0",  # no collectstatic in the test run
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 40
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            if fetch(base + "/healthz/live/")[0] == 200:
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.2)
    yield base
    proc.terminate()
    proc.wait(15)


def test_a_connection_killed_between_requests_is_replaced_and_the_portal_keeps_answering(
    gunicorn_server, settings
):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    f.ProductFactory(name="科创贷演示")
    url = gunicorn_server + "/products/"
    status, body = fetch(url)
    assert status == 200 and "科创贷演示" in body

    assert (
        terminate_other_backends() >= 1
    )  # gunicorn's persistent connection (and any idle one left by earlier tests)

    status, body = fetch(url)  # the first request after the kill
    assert status == 200 or (status == 500 and "服务暂时不可用" in body and "Traceback" not in body)
    status, body = fetch(url)
    assert status == 200 and "科创贷演示" in body
    assert fetch(gunicorn_server + "/healthz/")[0] == 200


def test_a_connection_killed_under_a_request_gives_the_chinese_500_page_then_the_next_request_is_fine(
    client,
):
    f.ProductFactory(name="科创贷演示")
    client.raise_request_exception = False
    assert client.get("/products/").status_code == 200

    # The test client skips Django's per-request connection checks, so the request below uses the
    # dead connection as a request whose connection drops half-way would.
    terminate_backend_of_this_connection()
    r = client.get("/products/")
    assert r.status_code == 500
    body = r.content.decode()
    assert "服务暂时不可用" in body and "返回首页" in body
    assert "Traceback" not in body and "OperationalError" not in body

    close_old_connections()  # what the request_finished signal does at the end of a real request
    r = client.get("/products/")
    assert r.status_code == 200 and "科创贷演示" in r.content.decode()


@pytest.mark.parametrize(
    ("url", "status", "text"),
    [("/no-such-page/", 404, "页面不存在"), ("/matching/runs/", 403, "没有访问权限")],
)
def test_the_404_and_403_pages_are_in_chinese(client_for, url, status, text):
    c = client_for(f.FirmUserFactory())
    r = c.get(url)
    assert r.status_code == status
    assert text in r.content.decode()


def test_the_500_page_renders_without_a_request_or_a_database(django_assert_num_queries):
    from django.template import loader

    with django_assert_num_queries(0):
        html = loader.get_template("500.html").render()
    assert "服务暂时不可用" in html and 'lang="zh-Hans"' in html
