"""Tests of the intent engine on a tiny hand-written bank (no datasets, a few seconds)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from bankdesk.assistant.nlu import IntentModel, Prediction, detect_language, normalise, train

FIXTURE: dict[str, list[str]] = {
    "card_arrival": [
        "my new card still hasn't come in the post",
        "when will the card I ordered arrive",
        "the card you sent me never turned up",
        "I've been waiting two weeks for my card",
        "where is my card, it should be here by now",
        "has my card been posted yet",
        "still no card in my mailbox",
        "card delivery is taking forever",
        "我的新卡怎么还没寄到",
        "卡片寄出来了吗，一直没收到",
        "等了两个星期还没收到卡",
        "我申請的卡還沒送到",
    ],
    "lost_or_stolen_card": [
        "I lost my card",
        "someone stole my wallet with my bank card",
        "my card was stolen yesterday",
        "I can't find my debit card anywhere",
        "I think I dropped my card on the bus",
        "please block my card, it's gone missing",
        "lost card what should I do",
        "my purse was taken and my card was inside",
        "我的卡丢了",
        "银行卡被偷了怎么办",
        "钱包丢了，卡也在里面",
        "我的卡不見了，請幫我停用",
    ],
    "exchange_rate": [
        "what is the exchange rate for euros",
        "how much is one dollar in pounds today",
        "which rate do you use to convert currency",
        "tell me the current euro to dollar rate",
        "is the exchange rate good right now",
        "what rate will I get when I change money",
        "dollar exchange rate please",
        "how do you calculate your currency rates",
        "今天美元汇率是多少",
        "欧元兑人民币的汇率",
        "你们换汇用什么汇率",
        "港幣匯率多少",
    ],
    "cancel_transfer": [
        "I want to cancel a transfer I just made",
        "how do I stop a payment I sent by mistake",
        "can I undo the bank transfer from this morning",
        "please cancel my last transfer",
        "I sent money to the wrong person, can I cancel it",
        "reverse the transfer I made an hour ago",
        "stop my outgoing transfer",
        "is it possible to call back a transfer",
        "我想取消刚才的转账",
        "转错人了，能撤回吗",
        "怎么取消一笔转账",
        "請幫我取消轉帳",
    ],
    "oos": [
        "what's the weather like tomorrow",
        "tell me a joke",
        "who won the football match last night",
        "recommend a good pasta recipe",
        "book me a flight to paris",
        "what time is it in tokyo",
        "play some relaxing music",
        "how tall is mount everest",
        "are you a robot",
        "what's a good movie to watch tonight",
        "how do I get to the train station",
        "set an alarm for 7am",
        "今天天气怎么样",
        "讲个笑话吧",
        "附近有什么好吃的餐厅",
        "帮我订一张去上海的机票",
        "你是機器人嗎",
        "推薦一部電影",
    ],
}

HELD_OUT = [
    ("my card hasn't arrived yet", "card_arrival"),
    ("I misplaced my card and can't find it", "lost_or_stolen_card"),
    ("what's the pound to euro exchange rate", "exchange_rate"),
    ("cancel the transfer I sent this morning", "cancel_transfer"),
    ("我的卡被偷了", "lost_or_stolen_card"),
    ("日元汇率是多少", "exchange_rate"),
    ("我的卡還沒寄到", "card_arrival"),
]


def _examples() -> list[tuple[str, str]]:
    return [(text, label) for label, texts in FIXTURE.items() for text in texts]


@pytest.fixture(scope="module")
def model() -> IntentModel:
    return train(_examples(), seed=0)


def test_labels_are_the_in_scope_intents(model: IntentModel) -> None:
    assert sorted(model.labels) == sorted(k for k in FIXTURE if k != "oos")


@pytest.mark.parametrize(("text", "label"), HELD_OUT)
def test_held_out_paraphrases(model: IntentModel, text: str, label: str) -> None:
    prediction = model.predict(text)
    assert prediction.ranked[0][0] == label, prediction
    assert not prediction.out_of_scope, prediction


@pytest.mark.parametrize(
    "text",
    [
        "what should I cook for dinner tonight",
        "who is the president of france",
        "明天会下雨吗",
        "asdkjh qwpoeiru zxmcnv",
    ],
)
def test_out_of_scope_is_rejected(model: IntentModel, text: str) -> None:
    prediction = model.predict(text)
    assert prediction.out_of_scope, prediction
    assert prediction.oos_score >= model.threshold


def test_prediction_shape(model: IntentModel) -> None:
    prediction = model.predict("where is my card")
    assert isinstance(prediction, Prediction)
    assert len(prediction.ranked) == 4  # only four in-scope intents exist
    probabilities = [p for _, p in prediction.ranked]
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0.0 <= sum(probabilities) <= 1.0 + 1e-6
    assert 0.0 <= prediction.oos_score <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "😀🎉👍",
        "?!...",
        "x" * 10_000,
        "卡" * 10_000,
        "my 卡 is lost 请帮忙",
        "\x00\u200b",
        "\ud800",
    ],
)
def test_edge_cases_never_raise(model: IntentModel, text: str) -> None:
    prediction = model.predict(text)
    assert isinstance(prediction, Prediction)
    assert prediction.language in {"en", "zh-hans", "zh-hant"}


@pytest.mark.parametrize("text", ["", "   ", "😀🎉👍", "?!..."])
def test_contentless_input_is_out_of_scope(model: IntentModel, text: str) -> None:
    assert model.predict(text).out_of_scope


def test_predict_many_matches_predict(model: IntentModel) -> None:
    texts = [t for t, _ in HELD_OUT] + ["tell me a joke", "", "😀"]
    batch = model.predict_many(texts)
    single = [model.predict(t) for t in texts]
    for a, b in zip(batch, single, strict=True):
        assert a.ranked[0][0] == b.ranked[0][0]
        assert a.out_of_scope == b.out_of_scope
        assert a.oos_score == pytest.approx(b.oos_score, abs=1e-4)


def test_save_load_round_trip(model: IntentModel, tmp_path: pathlib.Path) -> None:
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.npz"]
    with np.load(tmp_path / "model.npz", allow_pickle=False) as arrays:
        assert all(arrays[k].dtype != object for k in arrays.files)
    info = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    dumped = json.dumps(info, ensure_ascii=False)
    assert "stole my wallet" not in dumped and "银行卡被偷了" not in dumped
    loaded = IntentModel.load(tmp_path)
    texts = [t for t, _ in HELD_OUT] + ["tell me a joke", "hello"]
    for a, b in zip(model.predict_many(texts), loaded.predict_many(texts), strict=True):
        assert a.ranked[0][0] == b.ranked[0][0]
        assert a.out_of_scope == b.out_of_scope
        assert a.oos_score == pytest.approx(b.oos_score, abs=2e-3)  # weights stored as float16
        for (la, pa), (lb, pb) in zip(a.ranked, b.ranked, strict=True):
            assert pa == pytest.approx(pb, abs=2e-3)
            if abs(pa - pb) < 1e-9:
                assert la == lb


def test_training_is_deterministic_and_reports_progress() -> None:
    stages: list[tuple[str, int, int]] = []
    a = train(_examples(), seed=0, progress=lambda s, d, n: stages.append((s, d, n)))
    b = train(_examples(), seed=0)
    assert {s for s, _, _ in stages} >= {"embed", "fit", "done"}
    assert stages[-1] == ("done", 1, 1)
    texts = [t for t, _ in HELD_OUT]
    assert [p.ranked for p in a.predict_many(texts)] == [p.ranked for p in b.predict_many(texts)]


def test_training_without_out_of_scope_examples() -> None:
    examples = [(t, lab) for t, lab in _examples() if lab != "oos"]
    model = train(examples)
    assert model.predict("I lost my card").ranked[0][0] == "lost_or_stolen_card"


def test_training_rejects_empty_input() -> None:
    with pytest.raises(ValueError, match="no training examples"):
        train([])


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("where is my card", "en"),
        ("我的卡丢了", "zh-hans"),
        ("我的卡不見了", "zh-hant"),
        ("點解我張卡用唔到", "zh-hant"),
        ("", "en"),
        ("😀", "en"),
        ("my card 丢了怎么办", "zh-hans"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_normalise_folds_scripts_and_width() -> None:
    assert normalise("  ＨＥＬＬＯ　我的卡不見了 ") == "hello 我的卡不见了"
    assert len(normalise("a" * 50_000)) <= 512


@pytest.mark.parametrize("kind", ["word", "char"])
def test_ngram_rows_equal_the_reference_hasher(kind: str) -> None:
    """Replies hash n-grams themselves; the columns and values must be those that the
    reference (scikit-learn's HashingVectorizer, which training uses) gives."""
    from bankdesk.assistant.nlu.features import HashedTfidf, _hasher

    texts = [
        normalise(t)
        for t in [
            *(text for examples in FIXTURE.values() for text in examples),
            "my card my card my card",
            "a",
            "",
            "🙂🙂",
            "转账  transfer   失败 twice",
        ]
    ]
    tfidf = HashedTfidf.fit(kind, texts[:20], min_df=1)
    reference = _hasher(kind).transform(texts).tocsr()
    reference.sum_duplicates()
    for _ in range(2):  # the second pass answers from the remembered columns
        for text, (cols, vals), row in zip(texts, tfidf.rows(texts), reference, strict=True):
            kept = {
                int(np.searchsorted(tfidf.buckets, h)): np.log1p(v)
                for h, v in zip(row.indices, row.data, strict=True)
                if h in set(tfidf.buckets.tolist())
            }
            expected = {c: v * tfidf.idf[c] for c, v in kept.items()}
            norm = np.sqrt(sum(v * v for v in expected.values())) or 1.0
            assert dict(zip(cols.tolist(), vals.tolist(), strict=True)) == pytest.approx(
                {c: v / norm for c, v in expected.items()}, rel=1e-5
            ), text
