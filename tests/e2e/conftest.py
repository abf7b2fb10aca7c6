"""Browser helpers; the browser fixtures live in tests/conftest.py so every folder shares one
Playwright session per test process."""


def login(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
