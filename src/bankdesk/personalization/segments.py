"""Segments: who is in each, and why.

A rule segment's `rule` is a JSON object of conditions, all of which must hold; a condition
not given does not restrict. The conditions (RULE_KEYS):

- `tiers`: the customer's tier is one of these;
- `lines`: their business line (retail, private banking, small business, corporate) is one of these;
- `age_min` / `age_max`: their age in whole years (customers whose year of birth is unknown
  never match an age condition);
- `holds`: they hold an active product of one of these kinds (account, card, loan);
- `products_min`: they hold at least this many active products;
- `channels`: most of their contacts in the last year came by one of these channels;
- `complaints_min`: they complained at least this many times in the last year;
- `life_events`: the bank recorded one of these in the last `life_event_days` days (365 unless
  given);
- `accessibility`: they need one of these (large print, elderly-friendly service …).

Each membership keeps its reasons: for a rule, every condition with what the customer's
profile showed; for a behaviour cluster, the features that set the cluster apart, the
customer's value of each beside the cluster's centre.

Behaviour clusters are k-means over five features of every customer's profile (products held,
contacts in the last year, share of them on digital channels, complaints, age), each scaled to
unit variance; k is the number of active cluster segments. A run keeps each segment on the
centre nearest its last one, so a cluster's members do not jump segments from one run to the
next, and names each cluster by the features furthest from the average.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from bankdesk.customers.choices import AccessibilityNeed, HoldingKind, LifeEventKind, Tier
from bankdesk.customers.choices import Segment as Line
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.personalization.choices import SegmentKind
from bankdesk.personalization.models import Segment
from bankdesk.personalization.profiles import Profile

Reason = dict[str, Any]
LIFE_EVENT_DAYS = 365
AGE_MAX = 130
COUNT_MAX = 1000

_LISTS: dict[str, list[str]] = {
    "tiers": list(Tier.values),
    "lines": list(Line.values),
    "holds": list(HoldingKind.values),
    "channels": list(Channel.values),
    "life_events": list(LifeEventKind.values),
    "accessibility": list(AccessibilityNeed.values),
}
_NUMBERS = {
    "age_min": AGE_MAX,
    "age_max": AGE_MAX,
    "products_min": COUNT_MAX,
    "complaints_min": COUNT_MAX,
    "life_event_days": 3660,
}
RULE_KEYS = (*_LISTS, *_NUMBERS)


def rule_check(rule: object) -> dict[str, Any]:
    """The rule as kept, or InvalidInput naming what is wrong with it."""
    if not isinstance(rule, dict) or not rule:
        raise InvalidInput("a rule is an object of at least one condition", field="rule")
    clean: dict[str, Any] = {}
    for key, value in rule.items():
        if key in _LISTS:
            if (
                not isinstance(value, list)
                or not value
                or any(item not in _LISTS[key] for item in value)
            ):
                allowed = ", ".join(_LISTS[key])
                raise InvalidInput(f"{key} is a list of: {allowed}", field="rule")
            clean[key] = sorted(set(value))
        elif key in _NUMBERS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(f"{key} is a whole number", field="rule")
            if not 0 <= value <= _NUMBERS[key]:
                raise InvalidInput(f"{key} is 0 to {_NUMBERS[key]}", field="rule")
            clean[key] = value
        else:
            raise InvalidInput(f"unknown condition {key!r}", field="rule")
    if "life_event_days" in clean and "life_events" not in clean:
        raise InvalidInput("life_event_days goes with life_events", field="rule")
    if clean.get("age_min", 0) > clean.get("age_max", AGE_MAX):
        raise InvalidInput("age_min is above age_max", field="rule")
    return clean


def _in_list(
    key: str, observed: Callable[[Profile], str]
) -> Callable[[Any, Profile, date], Reason | None]:
    def test(wanted: list[str], profile: Profile, today: date) -> Reason | None:
        value = observed(profile)
        return {"rule": key, "value": value} if value in wanted else None

    return test


def _age(bound: str) -> Callable[[int, Profile, date], Reason | None]:
    def test(limit: int, profile: Profile, today: date) -> Reason | None:
        if profile.age is None:
            return None
        holds = profile.age >= limit if bound == "age_min" else profile.age <= limit
        return {"rule": bound, "value": profile.age, "limit": limit} if holds else None

    return test


def _holds(wanted: list[str], profile: Profile, today: date) -> Reason | None:
    kinds = sorted(kind for kind in wanted if profile.holding_kinds[kind])
    return {"rule": "holds", "value": kinds} if kinds else None


def _products(least: int, profile: Profile, today: date) -> Reason | None:
    if profile.products < least:
        return None
    return {"rule": "products_min", "value": profile.products, "limit": least}


def _channels(wanted: list[str], profile: Profile, today: date) -> Reason | None:
    main = profile.main_channel
    if main not in wanted:
        return None
    return {
        "rule": "channels",
        "value": main,
        "count": profile.contacts[main],
        "of": profile.contact_count,
    }


def _complaints(least: int, profile: Profile, today: date) -> Reason | None:
    if profile.complaints < least:
        return None
    return {"rule": "complaints_min", "value": profile.complaints, "limit": least}


def _accessibility(wanted: list[str], profile: Profile, today: date) -> Reason | None:
    # Which need is not written here: the needs are sealed on the customer's row, and the
    # reasons are kept in the clear (reason_text reads them from the customer to say them).
    return {"rule": "accessibility"} if set(wanted) & set(profile.accessibility) else None


_TESTS: dict[str, Callable[[Any, Profile, date], Reason | None]] = {
    "tiers": _in_list("tiers", lambda p: p.tier),
    "lines": _in_list("lines", lambda p: p.line),
    "age_min": _age("age_min"),
    "age_max": _age("age_max"),
    "holds": _holds,
    "products_min": _products,
    "channels": _channels,
    "complaints_min": _complaints,
    "accessibility": _accessibility,
}


def rule_reasons(rule: dict[str, Any], profile: Profile, today: date) -> list[Reason] | None:
    """Why the profile satisfies every condition of the rule; None when one fails."""
    reasons: list[Reason] = []
    for key, wanted in rule.items():
        if key == "life_event_days":
            continue
        if key == "life_events":
            days = rule.get("life_event_days", LIFE_EVENT_DAYS)
            recent = [
                (kind, on)
                for kind, on in sorted(profile.life_events.items())
                if kind in wanted and on >= today - timedelta(days=days)
            ]
            if not recent:
                return None
            reasons.append({"rule": "life_events", "value": recent[0][0], "on": str(recent[0][1])})
            continue
        reason = _TESTS[key](wanted, profile, today)
        if reason is None:
            return None
        reasons.append(reason)
    return reasons


# --- behaviour clusters ---------------------------------------------------------------------

FEATURES = ("products", "contacts", "digital_share", "complaints", "age")
# What a feature far above (or below) the average makes a cluster, in a segment's name.
_HIGH = {
    "products": ("多产品", "many products"),
    "contacts": ("常联系", "frequent contact"),
    "digital_share": ("线上为主", "mostly digital"),
    "complaints": ("有投诉", "has complained"),
    "age": ("年长", "older"),
}
_LOW = {
    "products": ("单一产品", "few products"),
    "contacts": ("少联系", "rare contact"),
    "digital_share": ("柜台与电话为主", "branch and phone"),
    "complaints": ("无投诉", "no complaints"),
    "age": ("年轻", "younger"),
}
NAMED_BY = 2  # features in a cluster's name
EXPLAINED_BY = 3  # features in a member's reasons
ITERATIONS = 50


def features(profile: Profile) -> list[float]:
    """The profile's place in the clusters' space; an unknown age is NaN (the run puts the
    median age there)."""
    return [
        float(profile.products),
        float(profile.contact_count),
        profile.digital_share,
        float(profile.complaints),
        float(profile.age) if profile.age is not None else float("nan"),
    ]


@dataclass(frozen=True)
class Clustering:
    """The k centres (in the features' own units), which row is nearest which centre, and the
    features that set each cluster apart (by how far its centre is from the average, in
    standard deviations)."""

    centres: list[dict[str, float]]
    nearest: np.ndarray
    apart: list[list[str]]
    # Each centre in standard deviations from the average customer.
    distances: list[dict[str, float]]
    # The rows as clustered (unknown ages filled in), in the features' own units.
    data: np.ndarray


def clusters_compute(
    data: np.ndarray, previous: list[dict[str, float]], k: int
) -> Clustering | None:
    """k-means over the rows of `data` (one customer each, FEATURES wide), seeded from the
    previous centres where there are k of them (so clusters keep their place between runs),
    else from k rows spread evenly. None when there are fewer rows than clusters."""
    count = len(data)
    if k < 1 or count < k:
        return None
    data = data.astype(float, copy=True)
    ages = data[:, FEATURES.index("age")]
    known = ages[~np.isnan(ages)]
    ages[np.isnan(ages)] = float(np.median(known)) if known.size else 0.0
    mean, scale = data.mean(axis=0), data.std(axis=0)
    scale[scale == 0] = 1.0
    scaled = (data - mean) / scale
    if len(previous) == k and all(set(c) == set(FEATURES) for c in previous):
        centres = (np.array([[c[f] for f in FEATURES] for c in previous]) - mean) / scale
    else:
        centres = scaled[np.linspace(0, count - 1, k).astype(int)]
    nearest = np.zeros(count, dtype=int)
    distances = np.empty((count, k))
    for _round in range(ITERATIONS):
        for i in range(k):  # one centre at a time: memory stays one row per customer
            distances[:, i] = ((scaled - centres[i]) ** 2).sum(axis=1)
        nearest = distances.argmin(axis=1)
        moved = np.array(
            [
                scaled[nearest == i].mean(axis=0) if (nearest == i).any() else centres[i]
                for i in range(k)
            ]
        )
        if np.allclose(moved, centres):
            break
        centres = moved
    raw = centres * scale + mean
    return Clustering(
        centres=[
            {f: round(float(v), 3) for f, v in zip(FEATURES, centre, strict=True)} for centre in raw
        ],
        nearest=nearest,
        apart=[
            [FEATURES[j] for j in np.argsort(-np.abs(centre))[:EXPLAINED_BY]] for centre in centres
        ],
        distances=[
            {f: round(float(v), 3) for f, v in zip(FEATURES, centre, strict=True)}
            for centre in centres
        ],
        data=data,
    )


def cluster_name(centre_z: dict[str, float], apart: list[str]) -> tuple[str, str]:
    """(中文, English) from the features that set the cluster apart."""
    words = [(_HIGH if centre_z[f] >= 0 else _LOW)[f] for f in apart[:NAMED_BY]]
    return "·".join(w[0] for w in words), " · ".join(w[1] for w in words)


def cluster_reasons(row: np.ndarray, centre: dict[str, float], apart: list[str]) -> list[Reason]:
    values = dict(zip(FEATURES, (float(v) for v in row), strict=True))
    return [
        {"feature": f, "value": round(values[f], 2), "centre": round(centre[f], 2)} for f in apart
    ]


# --- saying why ---------------------------------------------------------------------------


def _names(choices: Any, values: Iterable[str]) -> str:
    labels = dict(choices.choices)
    return "、".join(str(labels.get(v, v)) for v in values)


FEATURE_NAMES = {
    "products": lambda: _("products held"),
    "contacts": lambda: _("contacts in the last year"),
    "digital_share": lambda: _("share of contacts on digital channels"),
    "complaints": lambda: _("complaints in the last year"),
    "age": lambda: _("age"),
}


def _figure(feature: str, value: float) -> str:
    """A feature's value as people read it: a share in per cent, counts and ages whole, a
    centre's fraction to one place."""
    if feature == "digital_share":
        return f"{round(100 * value)} %"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def reason_text(reason: Reason, needs: Sequence[str] = ()) -> str:
    """One reason, said in the active language; `needs` are the customer's accessibility
    needs, which a reason never holds itself."""
    if "feature" in reason:
        return _("%(feature)s: %(value)s (the cluster's centre: %(centre)s)") % {
            "feature": FEATURE_NAMES[reason["feature"]](),
            "value": _figure(reason["feature"], reason["value"]),
            "centre": _figure(reason["feature"], reason["centre"]),
        }
    rule, value = reason.get("rule"), reason.get("value", "")
    texts: dict[str, Callable[[], str]] = {
        "tiers": lambda: _("Tier: %(value)s") % {"value": _names(Tier, [value])},
        "lines": lambda: _("Business line: %(value)s") % {"value": _names(Line, [value])},
        "age_min": lambda: _("Age %(value)s (%(limit)s or over)") % reason,
        "age_max": lambda: _("Age %(value)s (%(limit)s or under)") % reason,
        "holds": lambda: _("Holds: %(value)s") % {"value": _names(HoldingKind, value)},
        "products_min": lambda: _("%(value)s products held (at least %(limit)s)") % reason,
        "channels": lambda: (
            _("Most contacts by %(channel)s (%(count)s of %(of)s)")
            % {"channel": _names(Channel, [value]), "count": reason["count"], "of": reason["of"]}
        ),
        "complaints_min": lambda: (
            _("%(value)s complaints in the last year (at least %(limit)s)") % reason
        ),
        "life_events": lambda: (
            _("%(event)s on %(on)s") % {"event": _names(LifeEventKind, [value]), "on": reason["on"]}
        ),
        "accessibility": lambda: (
            _("Needs: %(value)s") % {"value": _names(AccessibilityNeed, needs)}
            if needs
            else _("A recorded accessibility need")
        ),
        "no_relationship_manager": lambda: _("No relationship manager yet"),
        "no_verified_phone": lambda: _("No verified phone number"),
        "no_card": lambda: _("Holds no card"),
    }
    return texts[str(rule)]() if rule in texts else str(reason)


def rule_text(rule: dict[str, Any]) -> str:
    """A rule's conditions as staff read them, in the active language."""
    lists: dict[str, tuple[Callable[[], str], Any]] = {
        "tiers": (lambda: _("Tier"), Tier),
        "lines": (lambda: _("Business line"), Line),
        "holds": (lambda: _("Holds"), HoldingKind),
        "channels": (lambda: _("Contacts mostly by"), Channel),
        "life_events": (lambda: _("Life event"), LifeEventKind),
        "accessibility": (lambda: _("Needs"), AccessibilityNeed),
    }
    numbers: dict[str, Callable[[], str]] = {
        "age_min": lambda: _("Age at least %(n)s"),
        "age_max": lambda: _("Age at most %(n)s"),
        "products_min": lambda: _("At least %(n)s products"),
        "complaints_min": lambda: _("At least %(n)s complaints in the last year"),
        "life_event_days": lambda: _("within %(n)s days"),
    }
    parts = []
    for key, value in rule.items():
        if key in lists:
            label, choices = lists[key]
            parts.append(f"{label()}: {_names(choices, value)}")
        elif key in numbers:
            parts.append(numbers[key]() % {"n": value})
    return "; ".join(parts)


def cluster_segments() -> list[Segment]:
    return list(Segment.objects.filter(kind=SegmentKind.CLUSTER, is_active=True).order_by("code"))
