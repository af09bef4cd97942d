"""Hotspots as `bankdesk complaints hotspots` prints them: top products and issues (both levels),
the fastest rising, and the narrative clusters, each with the period before and the trend;
as text for a person or as JSON for a script."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bankdesk.complaints.choices import HotspotDimension
from bankdesk.complaints.hotspots import LEAF, TOP, Group, Hotspots

SECTIONS = (
    (HotspotDimension.PRODUCT, TOP, "Products (top level) / 产品大类"),
    (HotspotDimension.PRODUCT, LEAF, "Products / 产品"),
    (HotspotDimension.ISSUE, TOP, "Issues (top level) / 问题大类"),
    (HotspotDimension.ISSUE, LEAF, "Issues / 问题"),
)


def _trend(group: Group) -> str:
    if group.growth is None:
        return "new" if group.count else "—"
    return f"{group.growth:+.1f}%"


def _group_json(group: Group) -> dict[str, Any]:
    return {
        "dimension": group.dimension,
        "key": group.key,
        "name": group.name,
        "name_en": group.name_en,
        "count": group.count,
        "previous": group.previous,
        "change": group.change,
        "growth_percent": group.growth,
        "share_percent": group.share,
    }


def hotspot_report_json(found: Hotspots) -> dict[str, Any]:
    period = found.period
    return {
        "from": period.first_day.isoformat(),
        "to": period.end_day.isoformat(),
        "previous_from": period.previous.first_day.isoformat(),
        "total": found.total,
        "previous_total": found.previous_total,
        **{
            f"{dimension}_{level}": [_group_json(g) for g in found.table(dimension, level).groups]
            for dimension, level, _title in SECTIONS
        },
        "rising": [_group_json(g) for g in found.rising],
        "clusters": [_group_json(g) for g in found.clusters],
    }


def _lines(title: str, groups: tuple[Group, ...], *, dimension: bool = False) -> list[str]:
    lines = [
        "",
        title,
        f"  {'count':>6} {'before':>6} {'change':>7} {'trend':>8} {'share':>6}  group",
    ]
    for g in groups:
        name = g.name if g.name == g.name_en else f"{g.name} / {g.name_en}"
        where = f"[{g.dimension}] " if dimension else ""
        lines.append(
            f"  {g.count:>6} {g.previous:>6} {g.change:>+7} {_trend(g):>8} {g.share:>5.1f}%"
            f"  {where}{name}"
        )
    if not groups:
        lines.append("  (none)")
    return lines


def hotspot_report_text(found: Hotspots) -> str:
    period = found.period
    last = period.end_day - timedelta(days=1)
    before = period.previous
    lines = [
        f"Complaints received {period.first_day} to {last}: {found.total}"
        f" (the period before, {before.first_day} to {period.first_day - timedelta(days=1)}:"
        f" {found.previous_total})"
    ]
    for dimension, level, title in SECTIONS:
        lines += _lines(title, found.table(dimension, level).groups)
    lines += _lines("Rising fastest / 上升最快", found.rising, dimension=True)
    lines += _lines("What customers wrote / 客户诉求文本", found.clusters)
    return "\n".join(lines)
