"""Complaint hotspots (投诉热点): where complaints gather in a period — by product, issue,
cause, branch, channel and what customers wrote — against the period before, and which groups
rise fastest. Read-only.

A group is (dimension, key): a taxonomy code ("cards-credit"; "under:cards" for the node with
everything under it), a branch code, a channel, "(none)" for complaints not classified there,
or a narrative cluster's key (clusters.py). `hotspot_complaints` returns exactly the complaints
a group counts, so every number on the screen opens as a list of the same length.

Counting is done by the database (one grouped query per dimension over both periods); only
the narratives are read into Python, to cluster them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Count, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bankdesk.complaints.choices import ClassKind, HotspotDimension
from bankdesk.complaints.clusters import (
    cluster_members,
    cluster_model,
    cluster_sizes,
    narratives,
    window_of,
)
from bankdesk.complaints.models import Complaint, ComplaintClass
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.staff.models import Branch

NONE_KEY = "(none)"
UNDER = "under:"
TOP, LEAF = "top", "leaf"
# A group rises only from this many complaints up, and its growth is measured against at least
# this many before: one complaint becoming three is noise, not a hotspot.
RISING_MIN_COUNT = 5
RISING_SHOWN = 8
PERIOD_MAX_DAYS = 3 * 366

CLASS_DIMENSIONS: dict[str, str] = {
    HotspotDimension.PRODUCT: ClassKind.PRODUCT,
    HotspotDimension.ISSUE: ClassKind.ISSUE,
    HotspotDimension.CAUSE: ClassKind.CAUSE,
}
FIELDS: dict[str, str] = {
    HotspotDimension.PRODUCT: "product_id",
    HotspotDimension.ISSUE: "issue_id",
    HotspotDimension.CAUSE: "cause_id",
    HotspotDimension.BRANCH: "case__branch_id",
    HotspotDimension.CHANNEL: "channel",
}


# Ties in the fastest-rising list go to what the bank can fix first: products, issues, causes.
ORDER = list(HotspotDimension.values)


@dataclass(frozen=True)
class Period:
    """[start, end): complaints received from `start`, before `end`."""

    start: datetime
    end: datetime

    @classmethod
    def of_dates(cls, first: date, end: date) -> Period:
        """From the first day up to (not including) `end`, in the bank's time zone."""
        if not first < end:
            raise InvalidInput("the period ends after it starts", field="to")
        if (end - first).days > PERIOD_MAX_DAYS:
            raise InvalidInput("a period is at most three years", field="to")
        zone = timezone.get_default_timezone()
        return cls(
            timezone.make_aware(datetime.combine(first, time()), zone),
            timezone.make_aware(datetime.combine(end, time()), zone),
        )

    @property
    def previous(self) -> Period:
        """The period of equal length just before: what a trend is measured against."""
        return Period(self.start - (self.end - self.start), self.start)

    @property
    def first_day(self) -> date:
        return timezone.localtime(self.start).date()

    @property
    def end_day(self) -> date:
        return timezone.localtime(self.end).date()

    def within(self, complaints: QuerySet[Complaint]) -> QuerySet[Complaint]:
        return complaints.filter(received_at__gte=self.start, received_at__lt=self.end)


@dataclass(frozen=True)
class Group:
    """One hotspot candidate: its complaints in the period and in the period before."""

    dimension: str
    key: str
    name: str
    name_en: str
    count: int
    previous: int
    share: float  # per cent of the period's complaints

    @property
    def label(self) -> str:
        """The name in the reader's language."""
        language = translation.get_language() or "zh-hans"
        return self.name_en if language.startswith("en") and self.name_en else self.name

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def growth(self) -> float | None:
        """Per cent more (or fewer) than the period before; None for a group that is new."""
        if self.previous == 0:
            return None
        return round(100 * self.change / self.previous, 1)

    @property
    def rise_rate(self) -> float:
        """Growth measured against at least RISING_MIN_COUNT complaints before."""
        return self.change / max(self.previous, RISING_MIN_COUNT)


@dataclass(frozen=True)
class Table:
    """A dimension's groups, most complaints first; taxonomy dimensions come at two levels."""

    dimension: str
    level: str
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class Hotspots:
    period: Period
    total: int
    previous_total: int
    tables: tuple[Table, ...]
    rising: tuple[Group, ...]
    clusters: tuple[Group, ...]

    def table(self, dimension: str, level: str = LEAF) -> Table:
        return next(t for t in self.tables if t.dimension == dimension and t.level in {level, ""})


def _bilingual(text: object) -> tuple[str, str]:
    with translation.override("zh-hans"):
        zh = str(text)
    with translation.override("en"):
        return zh, str(text)


class _Tree:
    """One kind of taxonomy node, read once: names, each node's top-level node, descendants."""

    def __init__(self, kind: str) -> None:
        rows = ComplaintClass.objects.filter(kind=kind).values_list(
            "id", "code", "name", "name_en", "parent_id"
        )
        self.code: dict[int, str] = {}
        self.names: dict[int, tuple[str, str]] = {}
        self.parent: dict[int, int | None] = {}
        for pk, code, name, name_en, parent in rows:
            self.code[pk], self.names[pk], self.parent[pk] = code, (name, name_en or name), parent
        self.by_code = {code: pk for pk, code in self.code.items()}

    def top(self, pk: int) -> int:
        seen = {pk}
        while (parent := self.parent.get(pk)) is not None and parent not in seen:
            seen.add(parent)
            pk = parent
        return pk

    def under(self, pk: int) -> set[int]:
        """The node and every node beneath it."""
        children: dict[int, list[int]] = defaultdict(list)
        for child, parent in self.parent.items():
            if parent is not None:
                children[parent].append(child)
        found, todo = set(), [pk]
        while todo:
            node = todo.pop()
            if node not in found:
                found.add(node)
                todo.extend(children[node])
        return found


def _counts(base: QuerySet[Complaint], field: str, period: Period) -> dict[object, tuple[int, int]]:
    rows = (
        base.values(field)
        .annotate(
            current=Count("id", filter=Q(received_at__gte=period.start)),
            before=Count("id", filter=Q(received_at__lt=period.start)),
        )
        .order_by()
    )
    return {row[field]: (row["current"], row["before"]) for row in rows}


def _group(
    dimension: str, key: str, names: tuple[str, str], counts: tuple[int, int], total: int
) -> Group:
    count, before = counts
    share = round(100 * count / total, 1) if total else 0.0
    return Group(dimension, key, names[0], names[1], count, before, share)


def _ordered(groups: list[Group]) -> tuple[Group, ...]:
    groups = [g for g in groups if g.count or g.previous]
    return tuple(sorted(groups, key=lambda g: (-g.count, -g.previous, g.key)))


def _class_tables(dimension: str, counts: dict[object, tuple[int, int]], total: int) -> list[Table]:
    tree = _Tree(CLASS_DIMENSIONS[dimension])
    unclassified = _bilingual(_("Not classified"))
    leaf: list[Group] = []
    rolled: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for pk, pair in counts.items():
        if pk is None:
            leaf.append(_group(dimension, NONE_KEY, unclassified, pair, total))
            continue
        assert isinstance(pk, int)
        leaf.append(_group(dimension, tree.code[pk], tree.names[pk], pair, total))
        summed = rolled[tree.top(pk)]
        summed[0], summed[1] = summed[0] + pair[0], summed[1] + pair[1]
    tops = [
        _group(dimension, UNDER + tree.code[pk], tree.names[pk], (c, b), total)
        for pk, (c, b) in rolled.items()
    ]
    if None in counts:
        tops.append(_group(dimension, NONE_KEY, unclassified, counts[None], total))
    return [
        Table(dimension, TOP, _ordered(tops)),
        Table(dimension, LEAF, _ordered(leaf)),
    ]


def _plain_table(dimension: str, counts: dict[object, tuple[int, int]], total: int) -> Table:
    groups = []
    if dimension == HotspotDimension.BRANCH:
        branches = {
            pk: (code, name)
            for pk, code, name in Branch.objects.filter(
                pk__in=[k for k in counts if k]
            ).values_list("id", "code", "name")
        }
        for pk, pair in counts.items():
            if pk is None:
                names = _bilingual(_("No branch"))
                groups.append(_group(dimension, NONE_KEY, names, pair, total))
            else:
                assert isinstance(pk, int)
                code, name = branches[pk]
                groups.append(_group(dimension, code, (name, name), pair, total))
    else:
        for value, pair in counts.items():
            label = Channel(str(value)).label if value in Channel.values else value
            groups.append(_group(dimension, str(value), _bilingual(label), pair, total))
    return Table(dimension, "", _ordered(groups))


def _clusters(base: QuerySet[Complaint], period: Period, total: int) -> tuple[Group, ...]:
    """Narrative clusters fitted on both periods (bank-wide), counted within `base`."""
    model = cluster_model(period.previous.start, period.end)
    if model is None:
        return ()
    received = dict(base.values_list("id", "received_at"))
    texts = narratives(base)
    current = {i: t for i, t in texts.items() if received[i] >= period.start}
    before = {i: t for i, t in texts.items() if received[i] < period.start}
    now, then = cluster_sizes(model, [current, before])
    groups = [
        Group(
            HotspotDimension.TEXT,
            model.key(index),
            "、".join(name),
            ", ".join(name),
            now[index],
            then[index],
            round(100 * now[index] / total, 1) if total else 0.0,
        )
        for index, name in enumerate(model.names)
    ]
    return _ordered(groups)


def hotspots(
    *, period: Period, within: QuerySet[Complaint] | None = None, top: int = 10
) -> Hotspots:
    """The period's complaints grouped every way, each group with the period before."""
    complaints = within if within is not None else Complaint.objects.all()
    base = complaints.filter(received_at__gte=period.previous.start, received_at__lt=period.end)
    totals = base.aggregate(
        current=Count("id", filter=Q(received_at__gte=period.start)),
        before=Count("id", filter=Q(received_at__lt=period.start)),
    )
    total = totals["current"]
    tables: list[Table] = []
    for dimension, field in FIELDS.items():
        counts = _counts(base, field, period)
        if dimension in CLASS_DIMENSIONS:
            tables.extend(_class_tables(dimension, counts, total))
        else:
            tables.append(_plain_table(dimension, counts, total))
    clusters = _clusters(base, period, total)
    # Rising: every group of the finest level (a top-level node would repeat its children),
    # the small ones too: a group not yet among the largest may be the one growing fastest.
    candidates = [g for t in tables if t.level != TOP for g in t.groups] + list(clusters)
    rising = sorted(
        (g for g in candidates if g.count >= RISING_MIN_COUNT and g.change > 0),
        key=lambda g: (-g.rise_rate, -g.change, ORDER.index(g.dimension), g.key),
    )[:RISING_SHOWN]
    shown = tuple(Table(t.dimension, t.level, t.groups[:top]) for t in tables)
    return Hotspots(period, total, totals["before"], shown, tuple(rising), clusters)


def _class_filter(dimension: str, key: str) -> Q:
    field = FIELDS[dimension]
    if key == NONE_KEY:
        return Q(**{f"{field}__isnull": True})
    tree = _Tree(CLASS_DIMENSIONS[dimension])
    code = key.removeprefix(UNDER)
    pk = tree.by_code.get(code)
    if pk is None:
        raise InvalidInput(f"no {dimension} {code}", field="key")
    if key.startswith(UNDER):
        return Q(**{f"{field}__in": sorted(tree.under(pk))})
    return Q(**{field: pk})


def hotspot_complaints(
    *,
    dimension: str,
    key: str,
    period: Period,
    within: QuerySet[Complaint] | None = None,
) -> QuerySet[Complaint]:
    """Exactly the complaints a group counts in `period`: what its number opens."""
    complaints = period.within(within if within is not None else Complaint.objects.all())
    if dimension in CLASS_DIMENSIONS:
        return complaints.filter(_class_filter(dimension, key))
    if dimension == HotspotDimension.BRANCH:
        if key == NONE_KEY:
            return complaints.filter(case__branch__isnull=True)
        if not Branch.objects.filter(code=key).exists():
            raise InvalidInput(f"no branch {key}", field="key")
        return complaints.filter(case__branch__code=key)
    if dimension == HotspotDimension.CHANNEL:
        if key not in Channel.values:
            raise InvalidInput(f"no channel {key}", field="key")
        return complaints.filter(channel=key)
    if dimension == HotspotDimension.TEXT:
        model = cluster_model(*window_of(key))
        if model is None:
            return complaints.none()
        members = cluster_members(model, model.index_of(key), narratives(complaints))
        return complaints.filter(pk__in=members)
    raise InvalidInput(f"no dimension {dimension}", field="dimension")


def hotspot_names(dimension: str, key: str) -> tuple[str, str]:
    """A group's name (中文, English), for a register filtered to it and a root cause's label."""
    if dimension not in HotspotDimension.values:
        raise InvalidInput(f"no dimension {dimension}", field="dimension")
    if key == NONE_KEY:
        return _bilingual(_("Not classified"))
    if dimension in CLASS_DIMENSIONS:
        node = ComplaintClass.objects.filter(
            kind=CLASS_DIMENSIONS[dimension], code=key.removeprefix(UNDER)
        ).first()
        if node is None:
            raise InvalidInput(f"no {dimension} {key}", field="key")
        return node.name, node.name_en or node.name
    if dimension == HotspotDimension.BRANCH:
        branch = Branch.objects.filter(code=key).first()
        if branch is None:
            raise InvalidInput(f"no branch {key}", field="key")
        return branch.name, branch.name
    if dimension == HotspotDimension.CHANNEL:
        if key not in Channel.values:
            raise InvalidInput(f"no channel {key}", field="key")
        return _bilingual(Channel(key).label)
    window_of(key)  # a malformed key is refused here, not later
    terms = key.partition("|")[2].split()
    return "、".join(terms), ", ".join(terms)
