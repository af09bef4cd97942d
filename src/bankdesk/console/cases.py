"""The case workspace: the conversation as it arrives, the reply box and internal notes, the
case's properties editable in place, its SLA clocks and its history.

The page itself is ordinary HTML; `static/console/case_live.js` connects it to `/ws/staff/` so
messages from the customer (and colleagues' replies) appear without a reload.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from bankdesk.assistant.selectors import case_handoff
from bankdesk.console.complaints import complaint_panel
from bankdesk.console.followups import follow_up_panel
from bankdesk.console.personal import personal_panel
from bankdesk.console.words import error_text
from bankdesk.customers.masking import identity_shown
from bankdesk.intake.outbox import outbox_retry
from bankdesk.intake.services import case_reply, case_reply_channels
from bankdesk.knowledge.selectors import case_suggestions
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import BankdeskError, NotFound
from bankdesk.sla.choices import ClockState
from bankdesk.sla.models import SlaClock
from bankdesk.sla.selectors import case_clocks, clock_out
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import Team, User
from bankdesk.tickets import services
from bankdesk.tickets.access import access_case_by_id, assignment_check, cases_visible_to
from bankdesk.tickets.attachments import attachment_open
from bankdesk.tickets.choices import (
    TRANSITIONS,
    Activity,
    CaseStatus,
    EventKind,
    Priority,
)
from bankdesk.tickets.collision import case_activity_report
from bankdesk.tickets.macros import macro_apply, macro_text, macros_for
from bankdesk.tickets.models import (
    Attachment,
    Case,
    CaseEvent,
    Category,
    InternalNote,
    Macro,
    Message,
)
from bankdesk.tickets.selectors import (
    case_events,
    case_links,
    case_messages_from_contacts_not_on_file,
)

MESSAGES_SHOWN = 200
RECENT_CASES = 5
TAG_MAX = 50
EVENTS_SHOWN = 100
REPLY_MAX = 4000
NOTE_MAX = 4000
# The same note from the same person on the same case this soon again is a second click.
DOUBLE_SUBMIT = timedelta(seconds=30)
# Shown in the page (a player, a picture); any other file is only ever a download.
PLAYABLE_AUDIO = frozenset(
    {"audio/mpeg", "audio/wav", "audio/x-wav", "audio/ogg", "audio/webm", "audio/mp4", "audio/aac"}
)
VIEWABLE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Reply"), max_length=REPLY_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    channel = forms.ChoiceField(label=gettext_lazy("Send by"), choices=(), required=False)

    def __init__(self, *args: Any, channels: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["channel"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(c, Channel(c).label) for c in channels]
        field.error_messages["invalid_choice"] = gettext_lazy(
            "This case cannot be answered on that channel."
        )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Internal note"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Write the note first.")},
    )


class PropertiesForm(forms.Form):
    """Status, priority, team and assignee, with the moment the case was read: a change made
    meanwhile by someone else is a conflict, not overwritten."""

    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=CaseStatus.choices)
    priority = forms.ChoiceField(label=gettext_lazy("Priority"), choices=Priority.choices)
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"),
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label="—",
    )
    assignee = forms.ModelChoiceField(
        label=gettext_lazy("Assignee"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        empty_label="—",
    )
    category = forms.ModelChoiceField(
        label=gettext_lazy("Category"),
        queryset=Category.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label="—",
    )
    tags = forms.CharField(
        label=gettext_lazy("Tags"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("Separated by commas."),
    )
    read_at = forms.CharField(widget=forms.HiddenInput)

    def clean_tags(self) -> list[str]:
        names = [name.strip() for name in self.cleaned_data["tags"].replace("，", ",").split(",")]
        names = sorted({name for name in names if name})
        if any(len(name) > TAG_MAX for name in names):
            raise forms.ValidationError(
                _("A tag is at most %(count)d characters.") % {"count": TAG_MAX}
            )
        return names

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = {case.status, *TRANSITIONS[case.status]}
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)
        status.choices = [c for c in CaseStatus.choices if c[0] in allowed]


def _properties_initial(case: Case) -> dict[str, Any]:
    return {
        "status": case.status,
        "priority": case.priority,
        "team": case.team_id,
        "assignee": case.assignee_id,
        "category": case.category_id,
        "tags": ", ".join(sorted(tag.name for tag in case.tags.all())),
        "read_at": case.updated_at.isoformat(),
    }


class MergeForm(forms.Form):
    into = forms.CharField(label=gettext_lazy("Merge into case number"), max_length=20)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, required=False)


def _case(request: HttpRequest, case_id: int, *, change: bool = False) -> Case:
    try:
        return access_case_by_id(request_staff(request), case_id, change=change)
    except NotFound as exc:
        raise Http404 from exc


@require_GET
@mfa_required
def case_live(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    return workspace_page(request, case)


def workspace_page(
    request: HttpRequest,
    case: Case,
    *,
    properties: PropertiesForm | None = None,
    note: NoteForm | None = None,
    reply: ReplyForm | None = None,
    complaint_typed: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request_staff(request)
    shown = list(
        Message.objects.filter(case=case)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("-created_at", "-id")[:MESSAGES_SHOWN]
    )
    shown.reverse()
    failures = {
        event.data.get("message_id"): str(event.data.get("reason") or "")
        for event in CaseEvent.objects.filter(case=case, kind=EventKind.DELIVERY_FAILED).order_by(
            "id"
        )
    }
    notes = list(InternalNote.objects.filter(case=case).select_related("author").order_by("id"))
    now = timezone.now()
    clocks = [_clock_shown(clock, now) for clock in case_clocks(case.pk)]
    can_change = user.has_perm("tickets.change_case", case)
    others = case_activity_report(case=case, user=user, activity=Activity.VIEWING)
    return render(
        request,
        "console/case_live.html",
        {
            "case": case,
            "thread": _thread(shown, notes, failures),
            "links": case_links(case=case),
            "contacts_not_on_file": case_messages_from_contacts_not_on_file(case=case),
            "playable_audio": PLAYABLE_AUDIO,
            "viewable_images": VIEWABLE_IMAGES,
            "form": reply or ReplyForm(channels=case_reply_channels(case)),
            "macros": [
                {"macro": macro, "text": macro_text(macro, case, user)}
                for macro in macros_for(user)
            ]
            if can_change
            else [],
            "note_form": note or NoteForm(),
            "properties": properties
            or PropertiesForm(initial=_properties_initial(case), case=case),
            "clocks": clocks,
            "events": list(case_events(case=case).order_by("-id")[:EVENTS_SHOWN]),
            "can_change": can_change,
            "watchers": others,
            "customer_panel": _customer_panel(case, user),
            "personal": personal_panel(case.customer, user),
            "can_decide": can_change and user.has_perm("personalization.decide_suggestion"),
            "merge_form": MergeForm(),
            "can_retry": can_change and user.has_perm("intake.retry_outboxmessage"),
            "handoff": case_handoff(case),
            "complaint": complaint_panel(case, user, complaint_typed),
            "feedback": follow_up_panel(case, user),
            "suggestions": case_suggestions(case)
            if user.has_perm("knowledge.view_article")
            else [],
        },
        status=status,
    )


def _customer_panel(case: Case, user: User) -> dict[str, Any] | None:
    """Who the customer is, as this reader may see them, and their other recent cases."""
    customer = case.customer
    if customer is None or not user.has_perm("customers.view_customer"):
        return None
    identities = [
        (identity.get_kind_display(), identity_shown(user, identity.kind, identity.value))
        for identity in customer.identities.all()
    ]
    rows = (
        cases_visible_to(user)
        .filter(customer=customer)
        .exclude(pk=case.pk)
        .select_related(None)
        .prefetch_related(None)
        .order_by("-created_at", "-id")
        .values_list("pk", "number", "subject", "status")[:RECENT_CASES]
    )
    recent = [
        {"pk": pk, "number": number, "subject": subject, "status": CaseStatus(status).label}
        for pk, number, subject, status in rows
    ]
    return {"customer": customer, "identities": identities, "recent": recent}


def _clock_shown(clock: SlaClock, now: datetime) -> dict[str, Any]:
    shown = clock_out(clock, now)
    shown["state_label"] = ClockState(shown["state"]).label
    shown["pauses"] = [
        {
            "started_at": pause.started_at,
            "ended_at": pause.ended_at,
            "status_label": CaseStatus(pause.status).label
            if pause.status in CaseStatus.values
            else pause.status,
        }
        for pause in clock.pauses.all()
    ]
    return shown


def _thread(
    shown: list[Message], notes: list[InternalNote], failures: dict[int, str]
) -> list[dict[str, Any]]:
    """Messages and internal notes in one line, oldest first, each saying what it is; a reply
    that was not delivered carries the reason."""
    items: list[dict[str, Any]] = [
        {"kind": "message", "at": m.created_at, "message": m, "reason": failures.get(m.pk, "")}
        for m in shown
    ]
    oldest = shown[0].created_at if shown else None
    items += [
        {"kind": "note", "at": n.created_at, "note": n}
        for n in notes
        if oldest is None or n.created_at >= oldest
    ]
    items.sort(key=lambda item: item["at"])
    return items


@require_POST
@mfa_required
def case_properties(request: HttpRequest, case_id: int) -> HttpResponse:
    """Save what changed of status, priority, team and assignee, each as its own recorded
    change; refuse (409) when the case changed since the form was read."""
    case = _case(request, case_id)
    user = request_staff(request)
    form = PropertiesForm(request.POST, case=case)
    if not form.is_valid():
        return workspace_page(request, case, properties=form, status=400)
    data = form.cleaned_data
    if data["read_at"] != case.updated_at.isoformat():
        # Keep what the user chose, with the new moment read: saving again is a choice made
        # knowing the current values, which the page shows beside the form.
        again = request.POST.copy()
        again["read_at"] = case.updated_at.isoformat()
        form = PropertiesForm(again, case=case)
        form.is_valid()
        form.add_error(
            None,
            _(
                "Someone else changed this case since you opened it. The current values are "
                "shown beside yours: check them and save again."
            ),
        )
        return workspace_page(request, case, properties=form, status=409)
    try:
        case = _case(request, case_id, change=True)
        team, assignee = data["team"], data["assignee"]
        if (team.pk if team else None, assignee.pk if assignee else None) != (
            case.team_id,
            case.assignee_id,
        ):
            assignment_check(user, team, assignee)
            case = services.case_assign(case=case, team=team, assignee=assignee, actor=user)
        if data["priority"] != case.priority:
            case = services.case_priority_change(case=case, priority=data["priority"], actor=user)
        category = data["category"]
        if category is not None and category.pk != case.category_id:
            case = services.case_category_change(case=case, category=category, actor=user)
        if data["tags"] != sorted(case.tags.values_list("name", flat=True)):
            case = services.case_tags_set(case=case, tags=data["tags"], actor=user)
        if data["status"] != case.status:
            case = services.case_status_change(case=case, status=data["status"], actor=user)
    except BankdeskError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Case updated."))
    return HttpResponseRedirect(reverse("console:case_live", args=[case_id]))


@require_POST
@mfa_required
def case_note(request: HttpRequest, case_id: int) -> HttpResponse:
    """An internal note: staff see it on the case, the customer never does."""
    case = _case(request, case_id)
    user = request_staff(request)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return workspace_page(request, case, note=form, status=400)
    text = form.cleaned_data["note"]
    again = InternalNote.objects.filter(
        case=case, author=user, text=text, created_at__gte=timezone.now() - DOUBLE_SUBMIT
    ).exists()
    if not again:
        try:
            services.case_note_add(case=_case(request, case_id, change=True), text=text, actor=user)
        except BankdeskError as exc:
            messages.error(request, error_text(exc))
            return workspace_page(request, case, note=form, status=exc.status)
    messages.success(request, _("Note added."))
    return HttpResponseRedirect(reverse("console:case_live", args=[case_id]))


@require_POST
@mfa_required
def case_retry(request: HttpRequest, case_id: int, message_id: int) -> HttpResponse:
    """Send a reply whose delivery failed again, once its cause is fixed."""
    user = request_staff(request)
    try:
        case = _case(request, case_id, change=True)
        if not user.has_perm("intake.retry_outboxmessage"):
            raise NotFound("no retry for this member of staff")
        outbox_retry(case=case, message_id=message_id, actor=user)
    except BankdeskError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("The reply is queued to be sent again."))
    return HttpResponseRedirect(reverse("console:case_live", args=[case_id]))


def _macro(request: HttpRequest, user: User) -> Macro | None:
    """The macro the reply was written from, whose changes go with it (if the user may use it)."""
    raw = request.POST.get("macro", "")
    return macros_for(user).filter(pk=int(raw)).first() if raw.isdigit() else None


@require_POST
@mfa_required
def case_live_reply(request: HttpRequest, case_id: int) -> HttpResponse:
    """The reply box: record the reply and send it on the customer's channel. A refused reply
    comes back with its reason and with the text as typed."""
    case = _case(request, case_id)
    form = ReplyForm(request.POST, channels=case_reply_channels(case))
    problem = None
    if not form.is_valid():
        if "channel" in form.errors:
            problem = " ".join(str(error) for error in form.errors["channel"])
        elif request.POST.get("text", "").strip():
            problem = _("Write a reply of at most %(count)d characters.") % {"count": REPLY_MAX}
        else:
            problem = _("Write the reply first.")
    else:
        user = request_staff(request)
        macro = _macro(request, user)
        try:
            with transaction.atomic():
                case = _case(request, case_id, change=True)
                case_reply(
                    case=case,
                    text=form.cleaned_data["text"],
                    actor=user,
                    channel=form.cleaned_data["channel"] or None,
                )
                if macro is not None:
                    macro_apply(macro=macro, case=case, actor=user)
        except BankdeskError as exc:
            problem = error_text(exc)
    if request.headers.get("X-Requested-With") == "fetch":
        # The live page: the reply appears through the WebSocket like everyone else's.
        return HttpResponse(problem or "", status=400 if problem else 204)
    if problem:
        messages.error(request, problem)
        return workspace_page(request, _case(request, case_id), reply=form, status=400)
    return HttpResponseRedirect(reverse("console:case_live", args=[case.pk]))


@require_POST
@mfa_required
def case_merge(request: HttpRequest, case_id: int) -> HttpResponse:
    """Fold this case into another of the same customer: its conversation moves there, this one
    closes and points at it."""
    user = request_staff(request)
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the number of the case to merge into."))
        return HttpResponseRedirect(reverse("console:case_live", args=[case_id]))
    try:
        source = _case(request, case_id, change=True)
        target_id = (
            cases_visible_to(user)
            .filter(number__iexact=form.cleaned_data["into"].strip())
            .values_list("pk", flat=True)
            .first()
        )
        if target_id is None:
            raise NotFound("no such case", field="into")
        target = _case(request, target_id, change=True)
        merged = services.case_merge(
            source=source, target=target, actor=user, reason=form.cleaned_data["reason"]
        )
    except BankdeskError as exc:
        messages.error(request, error_text(exc))
        return HttpResponseRedirect(reverse("console:case_live", args=[case_id]))
    messages.success(request, _("Case merged: its conversation is now on this case."))
    return HttpResponseRedirect(reverse("console:case_live", args=[merged.pk]))


@require_GET
@mfa_required
def case_attachment(request: HttpRequest, case_id: int, attachment_id: int) -> FileResponse:
    """A file of the case's conversation, for whoever may read the case: recordings and
    pictures inline (the player and the picture in the thread), anything else, or any file
    asked for with ?download=1, as a download. Never sniffed, never run as a page."""
    case = _case(request, case_id)
    attachment = Attachment.objects.filter(pk=attachment_id, message__case=case).first()
    if attachment is None:
        raise Http404
    inline = attachment.content_type in PLAYABLE_AUDIO | VIEWABLE_IMAGES
    response = FileResponse(
        attachment_open(attachment),
        as_attachment=not inline or request.GET.get("download") == "1",
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["Content-Length"] = str(attachment.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
