#!/usr/bin/env python
import os
import secrets
import sys

# Commands that only turn code into files (nothing served, nothing signed) need no SECRET_KEY: they
# get a throwaway one for this process. Every other command still requires SECRET_KEY when DEBUG is
# off (portal/settings.py).
OFFLINE_COMMANDS = frozenset({"makemigrations", "makemessages", "compilemessages"})


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if len(sys.argv) > 1 and sys.argv[1] in OFFLINE_COMMANDS and not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
