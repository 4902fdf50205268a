from django.urls import path

from kim.privacy import transfer_views

from . import views

app_name = "casework"
urlpatterns = [
    path("", views.my_cases, name="my-cases"),
    path("teilnehmende/", views.participants, name="participants"),
    path("teilnehmende/neu/", views.participant_new, name="participant-new"),
    path("teilnehmende/<int:pk>/", views.participant_detail, name="participant"),
    path("teilnehmende/<int:pk>/bearbeiten/", views.participant_edit, name="participant-edit"),
    path("teilnehmende/<int:pk>/einwilligung/", views.consent_new, name="consent-new"),
    path("teilnehmende/<int:pk>/fall/", views.case_new, name="case-new"),
    path("einwilligung/<int:pk>/widerruf/", views.consent_withdraw, name="consent-withdraw"),
    path("haushalt/<int:pk>/", views.household_detail, name="household"),
    path("fall/<int:pk>/", views.case_detail, name="case"),
    path("fall/<int:pk>/bearbeiten/", views.case_edit, name="case-edit"),
    path("fall/<int:pk>/phase/", views.case_advance, name="case-advance"),
    path("fall/<int:pk>/abschluss/", views.case_close, name="case-close"),
    path("fall/<int:pk>/assessment/", views.assessment_new, name="assessment-new"),
    path("fall/<int:pk>/ziel/", views.goal_new, name="goal-new"),
    path("fall/<int:pk>/massnahme/", views.action_new, name="action-new"),
    path("fall/<int:pk>/verweis/", transfer_views.referral_new, name="referral-new"),
    path("fall/<int:pk>/uebergabe/", transfer_views.case_transfer, name="case-transfer"),
    path("fall/<int:pk>/termin/", views.case_appointment_new, name="case-appointment-new"),
    path("assessment/<int:pk>/", views.assessment_detail, name="assessment"),
    path("ziel/<int:pk>/status/", views.goal_status, name="goal-status"),
    path("massnahme/<int:pk>/erledigt/", views.action_done, name="action-done"),
    path("termine/", views.appointments, name="appointments"),
    path("termine/neu/", views.appointment_new, name="appointment-new"),
    path("termine/<int:pk>/", views.appointment_edit, name="appointment-edit"),
    path("vertretung/", views.deputies, name="deputies"),
    path("vertretung/<int:pk>/widerrufen/", views.deputy_revoke, name="deputy-revoke"),
]
