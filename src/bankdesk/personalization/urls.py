from django.urls import path

from bankdesk.personalization import event_views

app_name = "personalization"

urlpatterns = [
    path("events/", event_views.event_list, name="events"),
    path("events/<int:event_id>/", event_views.event_detail, name="event"),
    # Public, no login: the page a customer's invitation links to (short, for an SMS).
    path("e/<str:token>/", event_views.registration_page, name="event_page"),
]
