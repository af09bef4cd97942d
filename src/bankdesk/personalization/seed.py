"""The segments and plans a fresh install starts with: the bank changes them as data. Also
run by the tests that flush the database (`migrated_data`)."""

from __future__ import annotations

from typing import Any

SEGMENTS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("private-banking", "私人银行客户", "Private banking", {"lines": ["private_banking"]}),
    ("premium", "高端客户", "Premium tiers", {"tiers": ["diamond", "platinum"]}),
    ("seniors", "老年客户", "Seniors", {"age_min": 65}),
    (
        "accessibility",
        "需无障碍服务客户",
        "Accessibility needs",
        {"accessibility": ["elderly_friendly", "hearing", "large_print", "vision"]},
    ),
    ("small-business", "小微企业客户", "Small business", {"lines": ["small_business"]}),
    ("repeat-complainants", "重复投诉客户", "Repeat complainants", {"complaints_min": 2}),
    (
        "new-retirees",
        "新退休客户",
        "New retirees",
        {"life_events": ["retirement"], "life_event_days": 365},
    ),
    (
        "young-digital",
        "年轻线上客户",
        "Young and digital",
        {"age_max": 35, "channels": ["app", "wechat", "web_chat", "alipay"]},
    ),
)
CLUSTERS = 4

# (code, 中文, English, segment, position, to RM, priority, guidance, guidance in English)
PLANS: tuple[tuple[str, str, str, str, int, bool, str, str, str], ...] = (
    (
        "repeat-care",
        "重复投诉关怀",
        "Repeat-complaint care",
        "repeat-complainants",
        10,
        False,
        "high",
        "客户近一年多次投诉：先致歉并复述以往问题，答复前与主管确认，不得推诿。",
        "They complained more than once this year: acknowledge the history first, check the "
        "answer with a supervisor before giving it, never pass them on.",
    ),
    (
        "private-rm",
        "私人银行专属客户经理",
        "Private banking relationship manager",
        "private-banking",
        20,
        True,
        "high",
        "由专属客户经理优先处理；称呼客户姓氏，告知客户经理的直接联系方式。",
        "Their relationship manager handles it first; address them by name and give the "
        "manager's direct line.",
    ),
    (
        "elderly-friendly",
        "适老化服务",
        "Elderly-friendly service",
        "seniors",
        30,
        False,
        "high",
        "语速放慢、一次只讲一件事并请客户复述确认；主动提供大字版材料；不引导其使用自助渠道。",
        "Speak slowly, one thing at a time, and ask them to repeat it back; offer large-print "
        "papers; do not push them to self-service.",
    ),
    (
        "accessible",
        "无障碍服务",
        "Accessible service",
        "accessibility",
        40,
        False,
        "",
        "按客户登记的需求提供服务（大字版、文字沟通、上门或绿色通道）。",
        "Serve them as their recorded needs say (large print, text instead of calls, a home "
        "visit or the priority lane).",
    ),
    (
        "business-desk",
        "小微企业服务台",
        "Small-business desk",
        "small-business",
        50,
        False,
        "",
        "由小微企业服务台处理；涉及对公账户、结算或贷款的问题一次说清所需材料。",
        "The small-business desk handles it; for business accounts, payments or loans list "
        "every document needed at once.",
    ),
    (
        "premium-care",
        "高端客户服务",
        "Premium service",
        "premium",
        60,
        True,
        "",
        "优先由客户经理跟进；答复前确认客户偏好的联系时间。",
        "Their relationship manager follows up first; check their preferred contact hours "
        "before calling back.",
    ),
)


def personalization_seed(segment_model: Any, plan_model: Any, using: str = "default") -> None:
    segments = {}
    for code, name, name_en, rule in SEGMENTS:
        segments[code], _ = segment_model.objects.using(using).get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "kind": "rule", "rule": rule}
        )
    for number in range(1, CLUSTERS + 1):
        segment_model.objects.using(using).get_or_create(
            code=f"cluster-{number}",
            defaults={
                "name": f"行为分群 {number}",
                "name_en": f"Behaviour cluster {number}",
                "kind": "cluster",
            },
        )
    for code, name, name_en, segment, position, to_rm, priority, guidance, guidance_en in PLANS:
        plan_model.objects.using(using).get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "segment": segments[segment],
                "position": position,
                "to_relationship_manager": to_rm,
                "priority": priority,
                "guidance": guidance,
                "guidance_en": guidance_en,
            },
        )
