from django.urls import path

from . import views

app_name = "enterprises"

urlpatterns = [
    path("", views.workspace, name="workspace"),
]
