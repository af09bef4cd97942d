"""The SLA settings as this process last read them: policies with their targets and categories,
the category tree, and business calendars compiled for deadline arithmetic.

A case change replays the case's clocks, which needs all of the above. Read from the database
each time, that was a dozen statements and a calendar rebuilt per change; here it is one indexed
read of `SlaSettingsStamp`, and the compiled settings are reused for as long as the stamp stands.
Whatever changes a policy, target, calendar, working period, calendar day or category gives the
stamp a new value in the same transaction (`sla_settings_changed`, called by the model signals
wired in `SlaConfig.ready` and by the services that write in bulk), so every process sees the
change with its next case change — on every node, since the stamp lives in the database.

Compiled calendars keep the years they have worked out (`BusinessCalendarSpec`), so a deadline
on a warm calendar is arithmetic only.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from bankdesk.sla.calendar import BusinessCalendarSpec
from bankdesk.sla.models import BusinessCalendar, SlaPolicy, SlaSettingsStamp, SlaTarget
from bankdesk.sla.selectors import ROUND_THE_CLOCK, calendar_spec
from bankdesk.tickets.models import Category

DEFAULT_CALENDAR_CODE = "cn-mainland"


@dataclass(frozen=True)
class PolicyRules:
    """An active policy with what matching and clocks need of it. The model instances are read
    once and shared; nothing may change them."""

    policy: SlaPolicy
    category_ids: frozenset[int]
    targets: tuple[SlaTarget, ...]


@dataclass
class SlaSettings:
    """One reading of the SLA settings, valid while the stamp is `stamp`."""

    stamp: int | None
    policies: tuple[PolicyRules, ...]
    category_parents: dict[int, int | None]
    default_calendar_id: int | None
    _specs: dict[int, BusinessCalendarSpec] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def category_path(self, category_id: int | None) -> frozenset[int]:
        """The category and all its ancestors."""
        path: set[int] = set()
        while category_id is not None and category_id not in path:
            path.add(category_id)
            category_id = self.category_parents.get(category_id)
        return frozenset(path)

    def spec(self, calendar_id: int | None) -> BusinessCalendarSpec:
        """The calendar compiled for arithmetic, built on first use (three statements)."""
        if calendar_id is None:
            return ROUND_THE_CLOCK  # calendar minutes: every minute works
        spec = self._specs.get(calendar_id)
        if spec is None:
            spec = calendar_spec(calendar=BusinessCalendar.objects.get(pk=calendar_id))
            with self._lock:
                spec = self._specs.setdefault(calendar_id, spec)
        return spec


_current: SlaSettings | None = None


def _stamp_now() -> int | None:
    return SlaSettingsStamp.objects.filter(pk=1).values_list("stamp", flat=True).first()


def _read(stamp: int | None) -> SlaSettings:
    policies = []
    for policy in SlaPolicy.objects.filter(is_active=True).prefetch_related("categories"):
        targets = tuple(SlaTarget.objects.filter(policy=policy).select_related("policy"))
        category_ids = frozenset(category.pk for category in policy.categories.all())
        policies.append(PolicyRules(policy=policy, category_ids=category_ids, targets=targets))
    return SlaSettings(
        stamp=stamp,
        policies=tuple(policies),
        category_parents=dict(Category.objects.values_list("pk", "parent_id")),
        default_calendar_id=BusinessCalendar.objects.filter(code=DEFAULT_CALENDAR_CODE)
        .values_list("pk", flat=True)
        .first(),
    )


def sla_settings() -> SlaSettings:
    """The SLA settings as they stand in the database (one statement while they are unchanged).

    The stamp is read before the settings, so what is kept under a stamp is never older than it.
    """
    global _current
    stamp = _stamp_now()
    current = _current
    if current is not None and stamp is not None and current.stamp == stamp:
        return current
    fresh = _read(stamp)
    if stamp is not None:
        _current = fresh
    return fresh


def sla_settings_forget() -> None:
    """Drop this process's copy (tests that change settings behind the ORM's back)."""
    global _current
    _current = None


def sla_settings_changed() -> None:
    """Give the stamp a new value in the current transaction: every process re-reads the SLA
    settings at its next case change after this commits."""
    stamp = secrets.randbits(62)
    if SlaSettingsStamp.objects.filter(pk=1).update(stamp=stamp):
        return
    try:
        with transaction.atomic():
            SlaSettingsStamp.objects.create(pk=1, stamp=stamp)
    except IntegrityError:  # another writer created it first; its new value does as well
        pass


def _on_change(**kwargs: object) -> None:
    if kwargs.get("raw"):  # fixtures loading rows as they are: the loader's caller decides
        return
    sla_settings_changed()


def sla_settings_signals_connect() -> None:
    """Every save or delete of what the settings are read from changes the stamp. Writes that
    bypass signals (bulk_create, bulk_update, QuerySet.update) call sla_settings_changed."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from bankdesk.sla.models import CalendarDay, WorkingPeriod

    for model in (BusinessCalendar, WorkingPeriod, CalendarDay, SlaPolicy, SlaTarget, Category):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"sla-settings-{model.__name__}")
        post_delete.connect(
            _on_change, sender=model, dispatch_uid=f"sla-settings-del-{model.__name__}"
        )
    m2m_changed.connect(
        _on_change, sender=SlaPolicy.categories.through, dispatch_uid="sla-settings-categories"
    )
