"""The demo seeding (``manage.py seed_demo``): with ``dashboard`` the only package that may import
every app, so each app's demo data lives here, one module per app (see docs/architecture.md)."""
