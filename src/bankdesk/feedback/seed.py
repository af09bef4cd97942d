"""What a fresh bankdesk follows up and asks: the survey template and the follow-up rules, as
data the bank then edits. Used by the migration that seeds them (with its historical models)."""

from __future__ import annotations

from typing import Any

SURVEY_TEMPLATE: dict[str, Any] = {
    "code": "after_case",
    "version": 1,
    "name": "After a resolved case",
    "questions": [
        {
            "key": "csat",
            "kind": "csat",
            "required": True,
            "text": {
                "zh-hans": "您对这次服务的整体满意程度如何？",
                "zh-hant": "您對這次服務的整體滿意程度如何？",
                "en": "Overall, how satisfied are you with how we handled your case?",
            },
        },
        {
            "key": "nps",
            "kind": "nps",
            "required": False,
            "text": {
                "zh-hans": "您有多大可能向亲友推荐我行？（0 表示完全不可能，10 表示非常可能）",
                "zh-hant": "您有多大可能向親友推薦我行？（0 表示完全不可能，10 表示非常可能）",
                "en": "How likely are you to recommend us to a friend or family member?",
            },
        },
        {
            "key": "comment",
            "kind": "text",
            "required": False,
            "text": {
                "zh-hans": "还有什么想告诉我们的吗？",
                "zh-hant": "還有什麼想告訴我們的嗎？",
                "en": "Is there anything else you would like to tell us?",
            },
        },
    ],
}

# (name, is_complaint, due business hours): complaints first and fastest, then every other case.
FOLLOW_UP_RULES: list[tuple[str, bool | None, int]] = [
    ("Complaints: call back within one working day", True, 8),
    ("Every other resolved case: call back within three working days", None, 24),
]


def feedback_seed(template_model: Any, rule_model: Any, using: str = "default") -> None:
    """Add the template and rules where there are none (never over the bank's own)."""
    templates = template_model.objects.using(using)
    if not templates.filter(code=SURVEY_TEMPLATE["code"]).exists():
        templates.create(**SURVEY_TEMPLATE)
    rules = rule_model.objects.using(using)
    if not rules.exists():
        for position, (name, is_complaint, hours) in enumerate(FOLLOW_UP_RULES, start=1):
            rules.create(
                name=name, position=position * 10, is_complaint=is_complaint, due_hours=hours
            )
