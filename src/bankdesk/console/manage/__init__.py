"""Management screens of the console under /manage/: what supervisors, knowledge editors and
administrators keep (knowledge, routing, SLA, calendars, channels, staff), instead of the Django
admin, which stays for superusers."""
