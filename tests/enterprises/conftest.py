import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The cast has seven users per test: a cheap hasher keeps these tests quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
