"""Teaching and measuring the assistant: CSV import, a training run, the evaluate command."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bankdesk.assistant import engine
from bankdesk.assistant.artifacts import models_root
from bankdesk.assistant.choices import ModelStatus
from bankdesk.assistant.models import Intent, IntentExample, ModelVersion
from bankdesk.assistant.splits import stratified_split
from bankdesk.assistant.tests.conftest import EXAMPLES
from bankdesk.assistant.training import examples_import, model_train, read_labelled_csv
from bankdesk.lib.errors import InvalidInput
from bankdesk.security.audit import audit_verify


def _csv(path: Path, rows: list[tuple[str, str]], header: str = "text,category") -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header.split(","))
        writer.writerows(rows)
    return path


def test_import_folds_label_case_and_masks_card_numbers(db: None) -> None:
    Intent.objects.create(code="Refund_not_showing_up", title_en="Refund", title_zh="退款")
    result = examples_import(
        [
            ("where is my refund", "refund_not_showing_up"),
            ("where is my refund", "Refund_not_showing_up"),
            ("refund to card 4111 1111 1111 1111 missing", "Refund_not_showing_up"),
            ("what's the weather", "oos"),
            ("new thing", "brand_new_intent"),
        ],
        source="import",
        actor=None,
    )
    assert (result.added, result.already_there, result.intents_added) == (4, 1, 1)
    texts = set(IntentExample.objects.values_list("text", flat=True))
    assert not any("4111111111111111" in t.replace(" ", "") for t in texts)
    assert set(IntentExample.objects.values_list("label", flat=True)) == {
        "Refund_not_showing_up",
        "oos",
        "brand_new_intent",
    }
    assert not Intent.objects.filter(code="oos").exists()
    assert audit_verify().is_intact


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("words,label\nhi,x\n", "header"),
        ("text,category\nhi,\n", "line 2"),
        ("text,category\nhi,bad label!\n", "line 2"),
    ],
)
def test_bad_files_are_refused_with_the_line(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, "utf-8")
    with pytest.raises(InvalidInput, match=problem):
        read_labelled_csv(path)
    with pytest.raises(InvalidInput, match="No such file"):
        read_labelled_csv(tmp_path / "missing.csv")


def test_split_is_stratified_and_reproducible() -> None:
    rows = [(f"{label} {i}", label) for label in "abc" for i in range(20)] + [("lone", "d")]
    kept, held = stratified_split(rows, 0.1, seed=0)
    assert len(held) == 6 and {label for _, label in held} == {"a", "b", "c"}
    assert (kept, held) == stratified_split(rows, 0.1, seed=0)
    assert sorted(kept + held) == sorted(rows)


def test_training_writes_a_version_that_serves_and_evaluate_prints_one_line(
    db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.forget()
    rows = [(text, label) for label, texts in EXAMPLES.items() for text in texts]
    data = _csv(tmp_path / "examples.csv", rows)
    out = StringIO()
    call_command("assistant", "train", "--data", str(data), stdout=out, stderr=StringIO())
    version = ModelVersion.objects.get()
    assert version.status == ModelStatus.READY and version.examples == len(rows)
    assert set(version.metrics) == {"n", "accuracy", "macro_f1", "oos_recall", "p50_ms", "p99_ms"}
    assert (models_root() / version.directory / "metrics.json").exists()

    dev = _csv(
        tmp_path / "dev.csv",
        [
            ("I want to change my PIN", "change_pin"),
            ("my card was stolen on the bus", "lost_or_stolen_card"),
            ("what's the exchange rate for euros", "exchange_rate"),
            ("银行卡丢了", "lost_or_stolen_card"),
            ("sing me a song", "oos"),
            ("今天下雨吗", "oos"),
        ],
    )
    printed = StringIO()
    call_command("assistant", "evaluate", "--file", str(dev), stdout=printed)
    lines = printed.getvalue().strip().splitlines()
    assert len(lines) == 1
    figures = json.loads(lines[0])
    assert list(figures) == ["n", "accuracy", "macro_f1", "oos_recall", "p50_ms", "p99_ms"]
    assert figures["n"] == 6
    assert figures["accuracy"] >= 0.75 and figures["oos_recall"] >= 0.5
    engine.forget()


def test_evaluate_without_a_model_says_so(db: None, tmp_path: Path) -> None:
    engine.forget()
    dev = _csv(tmp_path / "dev.csv", [("hi", "oos")])
    with pytest.raises(CommandError, match="no model has been trained"):
        call_command("assistant", "evaluate", "--file", str(dev), stdout=StringIO())


def test_training_needs_two_intents(db: None) -> None:
    examples_import([("hello", "greeting"), ("weather", "oos")], source="admin", actor=None)
    with pytest.raises(InvalidInput, match="two intents"):
        model_train(actor=None, holdout=False)
    assert not ModelVersion.objects.exists()


def test_admins_add_intents_with_examples_through_the_api(
    db: None, admin_user: object, api_for: object
) -> None:
    api = api_for(admin_user)  # type: ignore[operator]
    body = {
        "code": "annual_fee",
        "title_en": "Annual fee",
        "title_zh": "年费",
        "is_risk": False,
        "examples": ["年费怎么收", "why was I charged an annual fee", "年费怎么收"],
    }
    created = api.post("/assistant/intents", body)
    assert created.status_code == 201, created.json_body
    assert created.json_body["code"] == "annual_fee"
    assert set(IntentExample.objects.values_list("text", flat=True)) == {
        "年费怎么收",
        "why was I charged an annual fee",
    }
    again = api.post("/assistant/intents", {**body, "code": "Annual_Fee"})
    assert again.status_code == 409 and again.json_body["field"] == "code"
    reserved = api.post("/assistant/intents", {**body, "code": "oos"})
    assert reserved.status_code == 422
    listed = {i["code"]: i for i in api.get("/assistant/intents").json_body}
    assert listed["annual_fee"]["examples"] == 2
    more = api.post("/assistant/intents/annual_fee/examples", {"texts": ["年费能减免吗"]})
    assert more.status_code == 201 and more.json_body == {"added": 1, "already_there": 0}
    missing = api.post("/assistant/intents/nothing_here/examples", {"texts": ["x"]})
    assert missing.status_code == 404


def test_the_background_task_trains_a_version_the_server_then_uses(
    db: None, admin_user: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bankdesk.assistant.services import assistant_reply
    from bankdesk.assistant.tasks import assistant_train_run

    engine.forget()
    monkeypatch.setattr(engine, "CHECK_EVERY_SECONDS", 0.0)
    rows = [(text, label) for label, texts in EXAMPLES.items() for text in texts]
    examples_import(rows, source="admin", actor=None)
    before = assistant_reply(text="how do I change my PIN", actor=None)
    assert before.model_version is None and before.action == "fallback"
    version_id = assistant_train_run.call(requested_by_id=admin_user.pk)  # type: ignore[attr-defined]
    version = ModelVersion.objects.get(pk=version_id)
    assert version.status == ModelStatus.READY and version.requested_by_id == admin_user.pk  # type: ignore[attr-defined]
    after = assistant_reply(text="how do I change my PIN", actor=None)
    assert after.model_version == version_id and after.intent == "change_pin"
    engine.forget()
