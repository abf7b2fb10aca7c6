from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("firm/ratings/", views.my_ratings, name="my_ratings"),
    path("firm/ratings/application/<int:pk>/", views.rate_application, name="rate_application"),
    path("firm/ratings/lead/<int:pk>/", views.rate_match, name="rate_match"),
    path("firm/complaints/", views.complaint_list, name="complaint_list"),
    path("firm/complaints/new/", views.complaint_create, name="complaint_create"),
    path("firm/complaints/<int:pk>/", views.complaint_detail, name="complaint_detail"),
    path("complaints/<int:pk>/<slug:action>/", views.complaint_action, name="complaint_action"),
    path("staff/complaints/", views.staff_complaint_list, name="staff_complaint_list"),
    path("staff/complaints/<int:pk>/", views.staff_complaint_detail, name="staff_complaint_detail"),
    path("bank/ratings/", views.bank_ratings, name="bank_ratings"),
    path("bank/complaints/", views.bank_complaint_list, name="bank_complaint_list"),
    path("bank/complaints/<int:pk>/", views.bank_complaint_detail, name="bank_complaint_detail"),
]
