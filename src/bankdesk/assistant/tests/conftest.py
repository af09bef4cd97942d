"""A small assistant trained once per test session on sentences written for these tests.

Six intents, two of them deliberately alike (a card's arrival and its delivery estimate,
with one sentence taught to both),
some out-of-scope chatter, in English and Chinese. Each test gets it as the model in
service through a ModelVersion row and its stored files, exactly as the server finds a trained
model.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bankdesk.assistant import catalog, engine
from bankdesk.assistant.artifacts import artifact_pack, local_directory_name
from bankdesk.assistant.choices import ModelStatus
from bankdesk.assistant.models import Intent, ModelArtifact, ModelVersion
from bankdesk.assistant.nlu import train
from bankdesk.assistant.seed import RISK_INTENTS
from bankdesk.knowledge.choices import ArticleKind
from bankdesk.knowledge.services import (
    article_create,
    version_draft,
    version_publish,
    version_submit,
)

EXAMPLES: dict[str, list[str]] = {
    "card_arrival": [
        "my new card has not arrived yet",
        "still waiting for my card in the post",
        "the card you sent never came",
        "card not delivered after two weeks",
        "where is the card you posted to me",
        "新卡还没有收到",
        "寄出的卡一直没到",
        "等了两周卡还没寄到",
        # Said the same way about either matter: the assistant must ask which.
        "checking on the status of my replacement",
        "关于新卡寄送的问题",
    ],
    "card_delivery_estimate": [
        "how long does a new card take to arrive",
        "when should I expect my card",
        "how many days for card delivery",
        "what is the delivery time for cards",
        "how soon will my card be posted",
        "新卡多久能寄到",
        "办卡后几天能收到",
        "卡片邮寄需要多长时间",
        "checking on the status of my replacement",
        "关于新卡寄送的问题",
    ],
    "exchange_rate": [
        "what exchange rate do you use",
        "how much is one euro in pounds today",
        "currency conversion rate for dollars",
        "what is today's rate for yen",
        "do you give a good exchange rate",
        "今天的美元汇率是多少",
        "外币兑换汇率怎么算",
        "港币兑人民币的汇率",
    ],
    "lost_or_stolen_card": [
        "I lost my card",
        "my card was stolen yesterday",
        "somebody took my wallet with my card",
        "I can't find my bank card anywhere",
        "my purse and card were stolen on the train",
        "我的银行卡丢了",
        "卡被偷了怎么办",
        "钱包和卡都丢了",
    ],
    "change_pin": [
        "how do I change my PIN",
        "I want a new PIN number",
        "can I reset my card PIN",
        "update the PIN on my debit card",
        "where can I change my PIN code",
        "怎么修改银行卡密码",
        "我想重置卡片密码",
        "更改取款密码",
    ],
    "complaint": [
        "I want to make a complaint",
        "your service is terrible and I want to complain",
        "I am filing a formal complaint",
        "how do I complain about your staff",
        "I wish to lodge a complaint about my branch",
        "我要投诉",
        "投诉你们的服务",
        "我要对网点工作人员进行投诉",
    ],
    "oos": [
        "what is the weather like tomorrow",
        "tell me a joke",
        "how do I cook rice",
        "who won the football last night",
        "book me a table for two",
        "play some music",
        "what is the capital of France",
        "how tall is mount everest",
        "明天天气怎么样",
        "讲个笑话",
        "推荐一部电影",
        "附近有什么好吃的",
    ],
}
TITLES = {
    "card_arrival": ("Card has not arrived", "卡片未收到"),
    "card_delivery_estimate": ("Card delivery time", "卡片寄送时间"),
    "exchange_rate": ("Exchange rates", "汇率"),
    "lost_or_stolen_card": ("Lost or stolen card", "卡片丢失或被盗"),
    "change_pin": ("Changing your PIN", "修改密码"),
    "complaint": ("Making a complaint", "投诉"),
}
ANSWERS = {
    "card_arrival": ("If your card has not arrived within 7 working days, we will send a new "
                     "one.", "如果 7 个工作日内未收到卡片，我们会为您补寄。"),
    "card_delivery_estimate": ("New cards usually arrive within 5 working days.",
                               "新卡一般在 5 个工作日内寄到。"),
    "exchange_rate": ("We convert at the card scheme's daily rate.", "我们按卡组织当日汇率换算。"),
    "lost_or_stolen_card": ("Freeze your card in the app now.", "请立即在手机银行中冻结卡片。"),
    "change_pin": ("You can change your PIN at any of our cash machines.",
                   "您可以在本行任意自动柜员机修改密码。"),
}  # fmt: skip


@pytest.fixture(scope="session")
def trained_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [(text, label) for label, texts in EXAMPLES.items() for text in texts]
    model = train(rows, seed=0)
    directory = tmp_path_factory.mktemp("assistant-model")
    model.save(directory)
    return directory


def install_model(source: Path) -> ModelVersion:
    """Make a saved model the one in service, as a finished training run does: its files are
    stored in the database, and each process fetches them on its next reply."""
    packed = artifact_pack(source)
    version = ModelVersion.objects.create(status=ModelStatus.READY, examples=1, labels=1)
    ModelArtifact.objects.create(
        version=version, sha256=packed.sha256, size=packed.size, content=packed.content
    )
    version.directory = local_directory_name(version.pk, packed.sha256)
    version.save(update_fields=["directory"])
    return version


@pytest.fixture
def assistant(db: None, trained_directory: Path) -> Iterator[ModelVersion]:
    engine.forget()
    catalog.forget()
    for code, (title_en, title_zh) in TITLES.items():
        Intent.objects.create(
            code=code, title_en=title_en, title_zh=title_zh, is_risk=code in RISK_INTENTS
        )
    for code, (answer_en, answer_zh) in ANSWERS.items():
        version = article_create(
            slug=f"faq-{code.replace('_', '-')}",
            kind=ArticleKind.FAQ,
            intent=code,
            language="en",
            title=TITLES[code][0],
            questions=[EXAMPLES[code][0]],
            body=answer_en,
            actor=None,
        )
        version_publish(version=version_submit(version=version, actor=None), actor=None)
        chinese = version_draft(
            article=version.article,
            language="zh-hans",
            title=TITLES[code][1],
            questions=[EXAMPLES[code][5]],
            body=answer_zh,
            actor=None,
        )
        version_publish(version=version_submit(version=chinese, actor=None), actor=None)
    version = install_model(trained_directory)
    catalog.forget()
    yield version
    engine.forget()
    catalog.forget()
