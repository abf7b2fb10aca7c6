from django.urls import path

from . import views

app_name = "recommendations"

urlpatterns = [
    path("staff/", views.index, name="index"),
    path("staff/new/", views.build, name="build"),
    path("staff/<int:pk>/", views.detail, name="detail"),
    path("staff/<int:pk>/send/", views.send, name="send"),
    path("bank/", views.bank_index, name="bank_index"),
    path("bank/<int:pk>/", views.bank_detail, name="bank_detail"),
    path("bank/<int:pk>/feedback/", views.bank_feedback, name="bank_feedback"),
]
