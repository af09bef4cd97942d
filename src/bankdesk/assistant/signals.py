"""How the customer feels and what must reach a person: sentiment, anger, a regulator or the
press named, a person asked for. Lexicons in both languages over the folded text (Traditional
folded to Simplified), with negation ("not happy", 不满意) and intensity (!!, CAPITALS).

Rules rather than a model on purpose: a hand-off on risk must be predictable and auditable —
a supervisor can read exactly which words sent a conversation to a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bankdesk.lib.chinese import fold

POSITIVE_EN = {
    "thanks", "thank", "great", "good", "helpful", "excellent", "perfect", "appreciate",
    "love", "happy", "pleased", "awesome", "wonderful", "resolved", "fantastic", "nice",
}  # fmt: skip
NEGATIVE_EN = {
    "bad", "poor", "problem", "wrong", "unhappy", "disappointed", "annoyed", "frustrated",
    "frustrating", "slow", "worried", "upset", "confused", "failed", "fail", "declined",
    "lost", "stolen", "charged", "missing", "still", "again", "waiting", "terrible", "awful",
    "horrible", "worst", "useless", "ridiculous", "unacceptable",
}  # fmt: skip
ANGER_EN = {
    "angry", "furious", "outrageous", "ridiculous", "unacceptable", "disgusting", "disgraceful",
    "pathetic", "incompetent", "useless", "worst", "scam", "scammers", "fraudsters", "liars",
    "shameful", "wtf", "damn", "hell", "bullshit", "crap", "livid", "fuming", "appalling",
}  # fmt: skip
ANGER_PHRASES_EN = ("fed up", "sick of", "sick and tired", "had enough", "enough is enough",
                    "what the hell", "this is a joke", "never again")  # fmt: skip
NEGATORS_EN = {"not", "no", "never", "don't", "didn't", "isn't", "wasn't", "hardly"}

POSITIVE_ZH = ("谢谢", "感谢", "多谢", "满意", "好的", "太好了", "不错", "很好", "解决了", "点赞",
               "给力", "方便", "辛苦了")  # fmt: skip
NEGATIVE_ZH = ("不满", "失望", "着急", "担心", "麻烦", "问题", "失败", "没到", "还没", "一直",
               "又", "扣了", "被盗", "丢了", "太慢", "很慢", "不行", "不能用", "不了",
               "差")  # fmt: skip
ANGER_ZH = ("生气", "气死", "愤怒", "太差", "垃圾", "骗子", "坑人", "坑爹", "无语", "受够", "恶心",
            "离谱", "欺负", "差劲", "破银行", "什么破", "搞什么", "岂有此理", "忍无可忍", "混蛋",
            "太过分", "过分", "流氓", "霸王条款", "黑心", "欺诈", "耍我", "忽悠", "滚")  # fmt: skip
NEGATED_POSITIVE_ZH = ("不满意", "不太满意", "很不满意", "不好", "不方便", "没解决", "没有解决")

REGULATOR = re.compile(
    r"银保监|银监|保监|金融监管|监管局|监管部门|监管机构|人民银行|人行|央行|12378|12363|12315"
    r"|消费者协会|消协|金管局|金融管理局|媒体|记者|曝光|律师|起诉|法院|报警|公安|上访|信访"
    r"|regulator|regulatory|ombudsman|\bfca\b|\bfos\b|\bcfpb\b|\bhkma\b|central bank|lawyer"
    r"|solicitor|legal action|\bsue\b|\bsuing\b|court|police|journalist|the press|newspaper"
    r"|social media"
)
HANDOFF_REQUEST = re.compile(
    r"转人工|人工客服|人工服务|人工(?!智能)|真人|客服人员|接线员|坐席|活人"
    r"|\b(?:agent|human|representative|operator)\b|real person|someone real|customer service"
    r"|(?:speak|talk|chat)\s+(?:to|with)\s+(?:a |an |some)?(?:person|someone|somebody)"
)
# The customer says in so many words that they are complaining: a complaint, whatever else the
# message is about, handled by the complaint process (not a question to answer).
COMPLAINT = re.compile(
    r"投诉|申诉|举报|要求赔偿|讨个说法|\bcomplain(?:t|ts|ing|ed)?\b|\bgrievance\b"
    r"|\bfile a dispute\b|\bformal dispute\b"
)
WORDS = re.compile(r"[a-z']+")


@dataclass(frozen=True)
class Signals:
    sentiment: float  # -1 (very negative) … +1 (very positive)
    anger: float  # 0 … 1
    regulator: list[str] = field(default_factory=list)  # the words that named one
    wants_person: bool = False
    complaint: list[str] = field(default_factory=list)  # the words that made it one

    @property
    def is_complaint(self) -> bool:
        """Said to be a complaint, or a regulator, the press or the law named."""
        return bool(self.complaint or self.regulator)

    @property
    def is_angry(self) -> bool:
        return self.anger >= ANGER_HANDOFF


ANGER_HANDOFF = 0.5


def _count(text: str, phrases: tuple[str, ...]) -> int:
    return sum(text.count(p) for p in phrases)


def read_signals(text: str) -> Signals:
    folded = fold(text)[:4000]
    words = WORDS.findall(folded)
    positive = negative = anger = 0.0
    for i, word in enumerate(words):
        negated = i > 0 and words[i - 1] in NEGATORS_EN
        if word in POSITIVE_EN:
            if negated:
                negative += 1
            else:
                positive += 1
        elif word in NEGATIVE_EN:
            negative += 1
        if word in ANGER_EN:
            anger += 1
    anger += _count(folded, ANGER_PHRASES_EN)
    negated_zh = _count(folded, NEGATED_POSITIVE_ZH)
    positive += max(0, _count(folded, POSITIVE_ZH) - negated_zh)
    negative += _count(folded, NEGATIVE_ZH) + negated_zh
    anger += _count(folded, ANGER_ZH)
    # Shouting: repeated exclamation marks, and words in capitals in the original text.
    bangs = len(re.findall(r"[!！]{2,}", text))
    capitals = sum(1 for w in re.findall(r"\b[A-Z]{3,}\b", text) if w not in {"ATM", "PIN"})
    intensity = min(1.0, 0.25 * bangs + 0.2 * capitals)
    negative += anger
    total = positive + negative
    sentiment = 0.0 if total == 0 else (positive - negative) / (total + 1)
    if negative > positive:
        sentiment = max(-1.0, sentiment - 0.5 * intensity)
    anger_score = min(1.0, 0.5 * anger + (intensity if anger or negative else 0.0) * 0.5)
    regulator = sorted(set(REGULATOR.findall(folded)))
    return Signals(
        sentiment=round(sentiment, 3),
        anger=round(anger_score, 3),
        regulator=regulator,
        wants_person=bool(HANDOFF_REQUEST.search(folded)),
        complaint=sorted(set(COMPLAINT.findall(folded))),
    )
