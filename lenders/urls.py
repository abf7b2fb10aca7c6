from django.urls import path

from . import views

app_name = "lenders"

urlpatterns = [
    path("", views.workspace, name="workspace"),
]
