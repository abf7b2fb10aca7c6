"""`make run`, for real: a fresh SQLite file in a temporary directory, migrate, seed_demo and
runserver on a free loopback port — the embedded default (no DATABASE_URL, no REDIS_URL: SQLite and
eager tasks) — then the home page, the login, each role's workspace and the dashboard over HTTP."""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Smoke-pass-2026"
WORKSPACES = {  # demo account → the page it lands on after login, and a text that page shows
    "demo_firm": ("/firm/", "山西晋科智能装备有限公司"),
    "demo_officer": ("/bank/", "浦发银行"),
    "demo_manager": ("/bank/", "浦发银行"),
    "demo_staff": ("/staff/", "省级专班"),
    "demo_finance": ("/subsidies/claims/", "补贴申领审核"),
}

pytestmark = pytest.mark.xdist_group("make_run_smoke")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """The portal as `make run` starts it, on http://127.0.0.1:<free port>."""
    workdir = tmp_path_factory.mktemp("make_run")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CACHE_URL")}
    env.update(
        DEBUG="1",
        SQLITE_PATH=str(workdir / "db.sqlite3"),
        HOST="127.0.0.1",
        PORT=str(port),
        DEMO_PASSWORD=PASSWORD,
        PYTHONUNBUFFERED="1",
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    manage = [sys.executable, "manage.py"]

    def run(*args, timeout=600):
        return subprocess.run(
            [*manage, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=True
        )

    run("migrate", "--noinput")
    seeded = run("seed_demo", "--password", PASSWORD)
    log = open(workdir / "runserver.log", "w")
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/healthz/live/", timeout=2)  # noqa: S310 - http to loopback
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None:
                    raise RuntimeError((workdir / "runserver.log").read_text()) from None
                time.sleep(0.5)
        yield {"base": base, "seed_output": seeded.stdout, "port": port}
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def browser():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), jar


def get(opener, url) -> tuple[int, str, str]:
    with opener.open(url, timeout=60) as response:
        return response.status, response.geturl(), response.read().decode()


def log_in(base: str, username: str):
    opener, _jar = browser()
    status, _, page = get(opener, base + "/accounts/login/")
    assert status == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - http to loopback
        base + "/accounts/login/", data=data, headers={"Referer": base + "/"}
    )
    with opener.open(request, timeout=60) as response:
        return opener, response.geturl(), response.read().decode()


def test_the_seed_prints_the_login_url_with_the_port_it_runs_on(portal):
    assert f"http://127.0.0.1:{portal['port']}/accounts/login/" in portal["seed_output"]


def test_the_home_page_and_the_login_page_answer(portal):
    opener, _ = browser()
    status, _url, page = get(opener, portal["base"] + "/")
    assert status == 200 and "科金直通车" in page
    status, _, page = get(opener, portal["base"] + "/accounts/login/")
    assert status == 200 and 'name="password"' in page


@pytest.mark.parametrize("username", list(WORKSPACES))
def test_each_demo_account_logs_in_to_its_workspace(portal, username):
    path, text = WORKSPACES[username]
    _opener, landed, page = log_in(portal["base"], username)
    assert urllib.parse.urlsplit(landed).path == path, landed
    assert text in page


@pytest.mark.parametrize("username", ["demo_staff", "demo_manager"])
def test_the_dashboard_shows_this_months_figures(portal, username):
    opener, _, _ = log_in(portal["base"], username)
    status, _, page = get(opener, portal["base"] + "/dashboard/")
    assert status == 200 and "信息直通车" in page
    status, _, body = get(opener, portal["base"] + "/api/v1/dashboard/summary/")
    assert status == 200 and '"applications":0,' not in body.replace(" ", "")


def test_a_manual_full_run_runs_in_the_background_and_finishes(portal):
    """No broker: the POST returns at once (the run is queued or running in a thread of the web
    process) and the progress page reaches 已完成 with every chunk done."""
    base = portal["base"]
    opener, _, _ = log_in(base, "demo_staff")
    _, _, page = get(opener, base + "/matching/runs/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    request = urllib.request.Request(  # noqa: S310 - http to loopback
        base + "/matching/runs/start/",
        data=urllib.parse.urlencode({"csrfmiddlewaretoken": token}).encode(),
        headers={"Referer": base + "/matching/runs/"},
    )
    with opener.open(request, timeout=60) as response:
        page = response.read().decode()
    run_id = int(re.search(r"已发起全量匹配任务 #(\d+)", page).group(1))
    for _ in range(240):
        _, _, card = get(opener, f"{base}/matching/runs/{run_id}/progress/")
        status = re.search(r'data-status="(\w+)"', card).group(1)
        if status not in ("queued", "running"):
            break
        time.sleep(0.5)
    assert status == "succeeded", card
    done, total = map(int, re.search(r"分片 (\d+) / (\d+)", card).groups())
    assert done == total > 1  # chunk by chunk
