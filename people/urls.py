from django.urls import path

from . import views

urlpatterns = [
    path("language/", views.set_language_for_person, name="set_language_for_person"),
]
