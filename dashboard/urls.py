from django.urls import path

from . import views

urlpatterns = [
    # The incident page, with the monitoring state the incidents app cannot read (views.incident_page).
    path("incidents/<int:pk>/", views.incident_page, name="incident_detail"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/fragment/", views.fragment, name="dashboard_fragment"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:plan_id>/", views.approval, name="approval"),
    path("approvals/<int:plan_id>/decide/", views.approval_decide, name="approval_decide"),
    path("announcements/", views.announcements, name="announcements"),
    path("announcements/new/", views.announcement_new, name="announcement_new"),
]
