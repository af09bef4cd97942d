"""The queue at `/cases/`: every case the member of staff may see, filtered by what is in the
query string (so a view is a link), a page at a time, with bulk changes.

The left navigation's views are the same filters with names; their counts come from
`/cases/counts/`, fetched after the page is drawn and again every half minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from bankdesk.console.models import SavedView
from bankdesk.console.words import error_text
from bankdesk.customers.choices import Tier
from bankdesk.lib.channels import Channel
from bankdesk.lib.chinese import in_reader_script
from bankdesk.lib.errors import BankdeskError, InvalidInput
from bankdesk.lib.languages import active_language
from bankdesk.sla.selectors import case_next_due
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import Team, User
from bankdesk.tickets import services
from bankdesk.tickets.access import (
    access_case_by_id,
    assignment_check,
    case_page_for,
    cases_visible_to,
)
from bankdesk.tickets.choices import ACTIVE_STATUSES, CaseStatus, Priority
from bankdesk.tickets.models import Case, Category
from bankdesk.tickets.selectors import (
    SLA_AT_RISK,
    SLA_BREACHED,
    CaseFilters,
    PageOrder,
    case_filter,
)

PAGE_SIZE = 50
QUEUE_PATH = "/cases/"
# A count in the navigation stops here and shows "999+": counting further costs more than it tells.
COUNT_CAP = 999
RECENT = timedelta(hours=24)

ME, NOBODY = "me", "nobody"


class DateInput(forms.DateInput):
    input_type = "date"


class QueueForm(forms.Form):
    """The queue's filters, read from the query string."""

    status = forms.MultipleChoiceField(
        label=gettext_lazy("Status"), choices=CaseStatus.choices, required=False
    )
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"), choices=[("", "—"), *Priority.choices], required=False
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), choices=[("", "—"), *Channel.choices], required=False
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"),
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label="—",
    )
    assignee = forms.CharField(label=gettext_lazy("Assignee"), required=False, max_length=20)
    category = forms.ModelChoiceField(
        label=gettext_lazy("Category"),
        queryset=Category.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label="—",
    )
    tag = forms.CharField(label=gettext_lazy("Tag"), required=False, max_length=50)
    tier = forms.ChoiceField(
        label=gettext_lazy("Customer tier"), choices=[("", "—"), *Tier.choices], required=False
    )
    sla = forms.ChoiceField(
        label=gettext_lazy("SLA"),
        choices=[
            ("", "—"),
            (SLA_AT_RISK, gettext_lazy("At risk")),
            (SLA_BREACHED, gettext_lazy("Breached")),
        ],
        required=False,
    )
    created_from = forms.DateField(
        label=gettext_lazy("Created from"), required=False, widget=DateInput
    )
    created_to = forms.DateField(label=gettext_lazy("Created to"), required=False, widget=DateInput)
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    my_teams = forms.BooleanField(required=False, widget=forms.HiddenInput)
    recent = forms.BooleanField(required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        label=gettext_lazy("Order"),
        choices=[
            (PageOrder.NEWEST, gettext_lazy("Newest first")),
            (PageOrder.OLDEST, gettext_lazy("Oldest first")),
            (PageOrder.DUE, gettext_lazy("Deadline soonest (running clocks only)")),
        ],
        required=False,
    )
    cursor = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_assignee(self) -> str | int | None:
        value = self.cleaned_data["assignee"].strip()
        if value in {"", ME, NOBODY}:
            return value or None
        if value.isdigit():
            return int(value)
        raise forms.ValidationError(_("Choose “me”, “nobody” or a member of staff."))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and end < start:
            self.add_error("created_to", _("The end date comes before the start date."))
        return data

    def filters(self) -> CaseFilters:
        data = self.cleaned_data
        assignee = data.get("assignee")
        team: Team | None = data.get("team")
        category: Category | None = data.get("category")
        return CaseFilters(
            status=list(data.get("status") or []) or None,
            priority=data.get("priority") or None,
            channel=data.get("channel") or None,
            team_id=team.pk if team else None,
            team_ids=_team_ids(self.user) if data.get("my_teams") else None,
            assignee_id=self.user.pk if assignee == ME else _staff_id(assignee),
            unassigned=assignee == NOBODY,
            category_id=category.pk if category else None,
            tag=data.get("tag") or None,
            customer_tier=data.get("tier") or None,
            sla_state=data.get("sla") or None,
            customer_id=data.get("customer"),
            created_from=_day_start(data.get("created_from")),
            created_to=_day_start(data.get("created_to"), next_day=True),
            updated_from=timezone.now() - RECENT if data.get("recent") else None,
        )


def _staff_id(assignee: str | int | None) -> int | None:
    return assignee if isinstance(assignee, int) else None


def _day_start(day: Any, *, next_day: bool = False) -> datetime | None:
    """Midnight of a date the user picked, in their time zone (the end date is taken whole)."""
    if day is None:
        return None
    if next_day:
        day = day + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time.min))


def _team_ids(user: User) -> list[int]:
    return list(user.teams.values_list("pk", flat=True))


@dataclass(frozen=True)
class QueueView:
    """A view in the left navigation: a name and the query string of its filters."""

    key: str
    label: str
    query: dict[str, Any]


def queue_views() -> list[QueueView]:
    active = sorted(ACTIVE_STATUSES)
    return [
        QueueView("mine", _("My open cases"), {"assignee": ME, "status": active}),
        QueueView("team", _("My team's queue"), {"my_teams": "on", "status": active}),
        QueueView("unassigned", _("Unassigned"), {"assignee": NOBODY, "status": active}),
        QueueView(
            "waiting", _("Waiting on the customer"), {"status": [CaseStatus.PENDING_CUSTOMER]}
        ),
        QueueView("at_risk", _("SLA at risk"), {"sla": SLA_AT_RISK}),
        QueueView("breached", _("SLA breached"), {"sla": SLA_BREACHED}),
        QueueView("recent", _("Recently updated"), {"recent": "on"}),
    ]


def view_link(query: dict[str, Any]) -> str:
    return f"{reverse('console:queue')}?{urlencode(query, doseq=True)}"


def _row(case: Case, now: datetime, tick: str, language: str) -> dict[str, Any]:
    """One queue row as the page shows it, worked out here once: the template only places it
    (the page draws 50 of them, and template logic per cell is what costs)."""
    due = case_next_due(list(case.sla_clocks.all()), now)
    due_at = localtime(due.due_at).strftime("%Y-%m-%d %H:%M") if due and due.due_at else ""
    return {
        "pk": case.pk,
        "link": f"{QUEUE_PATH}{case.pk}/",
        "number": case.number,
        "tick": f"{tick} {case.number}",
        "subject": in_reader_script(case.subject, language),
        "status": case.get_status_display(),
        "priority": case.priority,
        "priority_label": case.get_priority_display(),
        "channel": case.get_channel_display(),
        "customer": case.customer.name if case.customer else "—",
        "team": case.team.name if case.team else "—",
        "assignee": str(case.assignee) if case.assignee else "—",
        "due": {"state": due.state, "label": due.label, "name": due.name, "at": due_at}
        if due
        else None,
        "created": localtime(case.created_at).strftime("%Y-%m-%d %H:%M"),
    }


def _controls(form: QueueForm) -> list[dict[str, Any]]:
    """The filter controls with their options, worked out once (a Django widget renders each
    option through a template of its own)."""
    controls = []
    for name in ("priority", "channel", "team", "category", "tier", "sla", "sort"):
        field = form[name]
        value = "" if field.value() is None else str(field.value())
        choices = field.field.choices  # type: ignore[attr-defined]
        options = [(str(v), str(label), str(v) == value) for v, label in choices]
        controls.append(
            {"name": name, "label": field.label, "options": options, "errors": field.errors}
        )
    for name in ("tag", "created_from", "created_to"):
        field = form[name]
        controls.append(
            {
                "name": name,
                "label": field.label,
                "input": "date" if name.startswith("created") else "text",
                "value": "" if field.value() is None else str(field.value()),
                "errors": field.errors,
            }
        )
    return controls


@require_GET
@mfa_required
def queue(request: HttpRequest) -> HttpResponse:
    user = request_staff(request)
    form = QueueForm(request.GET or None, user=user)
    rows: list[dict[str, Any]] = []
    next_link = None
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        filters = form.filters() if request.GET else CaseFilters()
        try:
            page = case_page_for(
                user,
                filters=filters,
                cursor=data.get("cursor") or None,
                limit=PAGE_SIZE,
                order=data.get("sort") or PageOrder.NEWEST,
            )
        except BankdeskError as exc:  # a cursor that was tampered with or has gone stale
            form.add_error(None, exc.message)
        else:
            now, tick = timezone.now(), _("Tick case")
            language = active_language()
            rows = [_row(case, now, tick, language) for case in page.items]
            if page.next_cursor:
                query = request.GET.copy()
                query["cursor"] = page.next_cursor
                next_link = f"?{query.urlencode()}"
    views = queue_views()
    current = request.GET.copy()
    current.pop("cursor", None)
    return render(
        request,
        "console/queue.html",
        {
            "form": form,
            "controls": _controls(form),
            "rows": rows,
            "next_link": next_link,
            "first_link": f"?{current.urlencode()}" if request.GET.get("cursor") else None,
            "views": [(view, view_link(view.query)) for view in views],
            "staff": list(User.objects.filter(is_active=True).order_by("username")),
            "statuses": CaseStatus.choices,
            "priorities": Priority.choices,
            "me": ME,
            "nobody": NOBODY,
            "back": request.get_full_path(),
        },
    )


@require_GET
@mfa_required
def queue_counts(request: HttpRequest) -> JsonResponse:
    """How many cases each navigation view holds, for this user, each capped at COUNT_CAP."""
    user = request_staff(request)
    counts = {}
    for view in queue_views():
        form = QueueForm(_as_query(view.query), user=user)
        if not form.is_valid():  # pragma: no cover - the views are ours
            raise ValueError(form.errors.as_text())
        selection = case_filter(cases_visible_to(user), form.filters()).order_by()
        found = selection.values("pk")[: COUNT_CAP + 1].count()
        counts[view.key] = f"{COUNT_CAP}+" if found > COUNT_CAP else str(found)
    return JsonResponse(counts)


def _as_query(query: dict[str, Any]) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in query.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    return data


BULK_ACTIONS = ("assign_me", "assign", "status", "priority", "tag")


@require_POST
@mfa_required
def queue_bulk(request: HttpRequest) -> HttpResponse:
    """One change to every ticked case. Each case is changed on its own: one that may not
    change (out of scope, a transition it cannot make) is named, and the rest go ahead."""
    user = request_staff(request)
    back = request.POST.get("back") or reverse("console:queue")
    if not back.startswith((reverse("console:queue"), reverse("console:floor"))):
        back = reverse("console:queue")
    action = request.POST.get("action", "")
    ids = [int(v) for v in request.POST.getlist("case") if v.isdigit()]
    if action not in BULK_ACTIONS:
        messages.error(request, _("Choose what to do with the ticked cases."))
        return HttpResponseRedirect(back)
    if not ids:
        messages.error(request, _("Tick at least one case first."))
        return HttpResponseRedirect(back)
    value = request.POST.get(action, "").strip()
    done, refused = 0, []
    for case_id in ids:
        try:
            case = access_case_by_id(user, case_id, change=True)
            _bulk_apply(user, case, action, value)
        except BankdeskError as exc:
            refused.append(f"#{case_id}: {error_text(exc)}")
        else:
            done += 1
    if done:
        messages.success(
            request,
            ngettext("%(count)d case changed.", "%(count)d cases changed.", done) % {"count": done},
        )
    for refusal in refused:
        messages.error(request, refusal)
    return HttpResponseRedirect(back)


def _bulk_apply(user: User, case: Case, action: str, value: str) -> None:
    if action == "assign_me":
        assignment_check(user, case.team, user)
        services.case_assign(case=case, team=case.team, assignee=user, actor=user)
    elif action == "assign":
        assignee = (
            User.objects.filter(pk=int(value), is_active=True).first() if value.isdigit() else None
        )
        if assignee is None:
            raise InvalidInput(_("Choose a member of staff to assign to."), field="assign")
        assignment_check(user, case.team, assignee)
        services.case_assign(case=case, team=case.team, assignee=assignee, actor=user)
    elif action == "status":
        services.case_status_change(case=case, status=value, actor=user)
    elif action == "priority":
        services.case_priority_change(case=case, priority=value, actor=user)
    elif action == "tag":
        if not value:
            raise InvalidInput(_("Write the tag to add."), field="tag")
        names = list(case.tags.values_list("name", flat=True))
        services.case_tags_set(case=case, tags=[*names, value], actor=user)


SAVED_VIEWS_SHOWN = 20


def saved_views(user: Any) -> list[SavedView]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(SavedView.objects.filter(user=user).order_by("name")[:SAVED_VIEWS_SHOWN])


class SavedViewForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=60, strip=True)
    query = forms.CharField(max_length=1000, required=False)


@require_POST
@mfa_required
def saved_view_create(request: HttpRequest) -> HttpResponse:
    """Save the queue's current filters under a name; the same name again replaces them."""
    user = request_staff(request)
    form = SavedViewForm(request.POST)
    query = QueryDict(request.POST.get("query", ""), mutable=True)
    query.pop("cursor", None)
    if not form.is_valid() or not form.cleaned_data["name"]:
        messages.error(request, _("Give the view a name of at most 60 characters."))
    elif not QueueForm(query, user=user).is_valid():
        messages.error(request, _("Correct the filters before saving them as a view."))
    elif (
        SavedView.objects.filter(user=user).count() >= SAVED_VIEWS_SHOWN
        and not SavedView.objects.filter(user=user, name=form.cleaned_data["name"]).exists()
    ):
        messages.error(
            request,
            _("You have %(count)d saved views already; remove one first.")
            % {"count": SAVED_VIEWS_SHOWN},
        )
    else:
        SavedView.objects.update_or_create(
            user=user, name=form.cleaned_data["name"], defaults={"query": query.urlencode()}
        )
        messages.success(request, _("View saved."))
    return HttpResponseRedirect(f"{reverse('console:queue')}?{query.urlencode()}")


@require_POST
@mfa_required
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    user = request_staff(request)
    SavedView.objects.filter(user=user, pk=view_id).delete()
    messages.success(request, _("View removed."))
    return HttpResponseRedirect(reverse("console:queue"))
