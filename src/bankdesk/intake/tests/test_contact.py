"""The help centre's contact form opens one case per form through the one door in, replies go
to the address given, and the customer follows the case by a signed link that shows its state
but never its messages."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core import signing
from django.test import Client

from bankdesk.intake.contact import STATUS_LINK_SALT
from bankdesk.intake.models import OutboxMessage
from bankdesk.intake.services import case_reply
from bankdesk.lib.channels import Channel
from bankdesk.staff.models import User
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.models import Case, Message
from bankdesk.tickets.services import case_status_change

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def _form(**changes: str) -> dict[str, str]:
    form = {
        "name": "王小明",
        "email": "xiaoming@example.cn",
        "subject": "信用卡年费被重复扣收",
        "message": "本月信用卡账单里年费扣了两次，请核查并退还。",
        "form_id": str(uuid.uuid4()),
    }
    form.update(changes)
    return form


def _token(response: object) -> str:
    location = response["Location"]  # type: ignore[index]
    match = re.fullmatch(r"/help/status/([^/]+)/\?sent=1", location)
    assert match, location
    return match.group(1)


@pytest.mark.django_db
def test_the_form_speaks_chinese_and_carries_its_own_id() -> None:
    page = Client().get("/help/contact/", **ZH)
    assert page.status_code == 200
    text = page.content.decode()
    assert "您的电子邮件地址" in text and "发送" in text
    assert re.search(r'name="form_id" value="[0-9a-f-]{36}"', text)


@pytest.mark.django_db
def test_a_form_opens_one_case_whose_replies_go_to_the_address(agent: User) -> None:
    client = Client()
    form = _form()
    sent = client.post("/help/contact/", form, **ZH)
    assert sent.status_code == 302
    again = client.post("/help/contact/", form, **ZH)  # the same form sent twice
    assert again.status_code == 302 and _token(again) == _token(sent)

    case = Case.objects.get()
    assert case.subject == "信用卡年费被重复扣收"
    assert case.channel == Channel.EMAIL and case.language == "zh-hans"
    assert Message.objects.filter(case=case).count() == 1
    assert case.customer is not None

    case_reply(case=case, text="您好，我们已核实并将退还重复扣收的年费。", actor=agent)
    outbox = OutboxMessage.objects.get(case=case)
    assert outbox.channel == Channel.EMAIL
    assert "xiaoming@example.cn" in str(outbox.recipient)

    status = client.get(f"/help/status/{_token(sent)}/?sent=1", **ZH)
    text = status.content.decode()
    assert status.status_code == 200
    assert case.number in text and "信用卡年费被重复扣收" in text
    assert "已发送到您的电子邮箱" in text and "1" in text
    # The state, never the conversation itself.
    assert "退还重复扣收" not in text and "扣了两次" not in text


@pytest.mark.django_db
def test_the_status_follows_the_case(agent: User) -> None:
    token = _token(Client().post("/help/contact/", _form(), **ZH))
    case = Case.objects.get()
    case_status_change(case=case, status=CaseStatus.OPEN, actor=agent)
    case_status_change(case=case, status=CaseStatus.RESOLVED, actor=agent)
    page = Client().get(f"/help/status/{token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'class="state state-resolved">Resolved<' in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"email": "not an address"}, "输入一个有效的 Email 地址"),
        ({"message": "   "}, "这个字段是必填项"),
        ({"subject": "x" * 201}, "200"),
        ({"form_id": "twice"}, "页面在传输中受损"),
    ],
)
def test_bad_input_is_refused_and_what_was_typed_stays(change: dict[str, str], said: str) -> None:
    form = _form(**change)
    page = Client().post("/help/contact/", form, **ZH)
    text = page.content.decode()
    assert page.status_code == 400
    assert said in text
    assert "本月信用卡账单里年费扣了两次" in text or change.get("message") == "   "
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_script_is_slowed_down(settings: object) -> None:
    settings.BANKDESK_RATE_LIMIT_CONTACT = "2/300"  # type: ignore[attr-defined]
    client = Client()
    for _ in range(2):
        assert client.post("/help/contact/", _form(), **ZH).status_code == 302
    refused = client.post("/help/contact/", _form(), **ZH)
    assert refused.status_code == 429
    assert "请在" in refused.content.decode()
    assert Case.objects.count() == 2


@pytest.mark.django_db
def test_a_forged_or_foreign_link_shows_nothing() -> None:
    token = _token(Client().post("/help/contact/", _form(), **ZH))
    case = Case.objects.get()
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_use = signing.dumps({"case": case.pk}, salt="another use", compress=True)
    guessed = signing.dumps({"case": "1"}, salt=STATUS_LINK_SALT, compress=True)
    for bad in (forged, other_use, guessed, "nothing"):
        page = Client().get(f"/help/status/{bad}/", **ZH)
        assert page.status_code == 404
        assert case.number not in page.content.decode()
