"""The home page and the desks' workspace, included inside the ``portal`` namespace by portal/urls.py
(by name, so the ground package imports nothing of the roof)."""

from django.urls import path

from . import home

urlpatterns = [
    path("", home.home, name="home"),
    path("staff/", home.staff_workspace, name="staff_workspace"),
]
