from django.urls import path

from . import views

app_name = "matching"

urlpatterns = [
    path("runs/", views.run_list, name="runs"),
    path("runs/start/", views.run_start, name="run_start"),
    path("runs/<int:pk>/progress/", views.run_progress, name="run_progress"),
    path("suggestions/", views.suggestions, name="suggestions"),
]
