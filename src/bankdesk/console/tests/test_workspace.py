"""The case workspace: properties changed in place (and a stale form refused, keeping what was
chosen), internal notes, replies refused with their reason, SLA clocks, a failed reply sent
again, and no write controls for those who only read."""

from __future__ import annotations

import pytest

from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.models import OutboxMessage
from bankdesk.intake.services import case_reply, inbound_receive
from bankdesk.sla.services import TargetSpec
from bankdesk.sla.tests.policies import standard_policy_create
from bankdesk.tickets.choices import EventKind
from bankdesk.tickets.models import Case, InternalNote, Message
from bankdesk.tickets.services import case_create, case_priority_change, message_delivery_record

pytestmark = pytest.mark.django_db


def _case(team, **kwargs) -> Case:
    return case_create(subject="网银转账失败", channel="phone", team=team, actor=None, **kwargs)


def _form(client, case: Case) -> dict:
    """The properties form as the page filled it in."""
    initial = client.get(f"/cases/{case.pk}/").context["properties"].initial
    return {k: ("" if v is None else v) for k, v in initial.items()}


def test_status_priority_and_assignee_change_in_place(client, agent, general_team):
    case = _case(general_team)
    client.force_login(agent)
    form = _form(client, case)
    form.update(status="open", priority="urgent", assignee=agent.pk)
    response = client.post(f"/cases/{case.pk}/properties/", form, follow=True)
    assert "工单已更新" in response.content.decode()
    case.refresh_from_db()
    assert (case.status, case.priority, case.assignee_id) == ("open", "urgent", agent.pk)
    kinds = set(case.events.values_list("kind", flat=True))
    assert {EventKind.STATUS_CHANGED, EventKind.PRIORITY_CHANGED, EventKind.ASSIGNED} <= kinds


def test_the_status_offers_only_the_moves_the_case_can_make(client, agent, general_team):
    case = _case(general_team)
    client.force_login(agent)
    choices = client.get(f"/cases/{case.pk}/").context["properties"].fields["status"].choices
    assert [value for value, _ in choices] == ["new", "open"]


def test_a_stale_form_is_a_conflict_that_keeps_what_was_chosen(
    client, agent, supervisor, general_team
):
    case = _case(general_team)
    client.force_login(agent)
    form = _form(client, case)
    case_priority_change(case=case, priority="high", actor=supervisor)  # meanwhile

    form.update(status="open", priority="urgent")
    response = client.post(f"/cases/{case.pk}/properties/", form)
    page = response.content.decode()
    assert response.status_code == 409
    assert "其他人已修改了它" in page
    assert '<option value="urgent" selected>' in page  # the user's choice, kept
    case.refresh_from_db()
    assert (case.status, case.priority) == ("new", "high")

    again = response.context["properties"].data.copy()
    assert client.post(f"/cases/{case.pk}/properties/", again).status_code == 302
    case.refresh_from_db()
    assert (case.status, case.priority) == ("open", "urgent")


def test_a_note_is_added_once_and_an_empty_one_is_refused(client, agent, general_team):
    case = _case(general_team)
    client.force_login(agent)
    for _ in range(2):  # a double click
        client.post(f"/cases/{case.pk}/notes/", {"note": "客户要求下午回电"})
    assert InternalNote.objects.filter(case=case).count() == 1
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'class="thread-note"' in page and "客户要求下午回电" in page

    refused = client.post(f"/cases/{case.pk}/notes/", {"note": "   \n "})
    assert refused.status_code == 400 and "请先填写备注内容" in refused.content.decode()
    assert InternalNote.objects.filter(case=case).count() == 1


def _wechat_case(team) -> Case:
    result = inbound_receive(
        InboundMessage(
            channel="wechat",
            external_id="wx-1",
            text="我的信用卡被盗刷了",
            sender_kind="wechat_openid",
            sender_value="openid-1",
        )
    )
    Case.objects.filter(pk=result.case.pk).update(team=team)
    return Case.objects.get(pk=result.case.pk)


def test_a_reply_too_long_for_wechat_is_refused_with_the_reason_and_kept(
    client, agent, general_team
):
    case = _wechat_case(general_team)
    client.force_login(agent)
    text = "您好" * 400  # 800 characters, 2,400 bytes
    response = client.post(f"/cases/{case.pk}/reply/", {"text": text})
    page = response.content.decode()
    assert response.status_code == 400
    assert "微信 的回复最多 2048 字节，此回复有 2400 字节" in page
    assert text in page  # nothing typed is lost
    assert not Message.objects.filter(case=case, direction="outbound").exists()

    blank = client.post(f"/cases/{case.pk}/reply/", {"text": "  \n\t "})
    assert blank.status_code == 400 and "请先填写回复内容" in blank.content.decode()


def test_a_failed_reply_shows_why_and_a_supervisor_sends_it_again(client, supervisor, general_team):
    case = _wechat_case(general_team)
    message, item = case_reply(case=case, text="您好，已为您冻结卡片", actor=supervisor)
    OutboxMessage.objects.filter(pk=item.pk).update(status="dead", last_error="errcode 45015")
    message_delivery_record(message=message, status="failed", reason="errcode 45015: 回复时间超限")
    sign_in_with_second_factor(client, supervisor)

    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'class="delivery-failed"' in page and "errcode 45015: 回复时间超限" in page
    assert "重新发送" in page

    response = client.post(f"/cases/{case.pk}/messages/{message.pk}/retry/", follow=True)
    assert "该回复已排队，将重新发送" in response.content.decode()
    message.refresh_from_db()
    assert message.delivery_status == "queued"


def test_sla_clocks_count_down_on_the_case(client, agent, general_team):
    standard_policy_create(
        TargetSpec(name="首次响应 30 分钟", metric="first_response", minutes=30, basis="calendar")
    )
    case = _case(general_team)
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "首次响应 30 分钟" in page and "clock-running" in page and "个工作分钟" in page


def test_an_auditor_reads_the_case_without_any_write_control(client, auditor, general_team):
    case = _case(general_team)
    sign_in_with_second_factor(client, auditor)
    response = client.get(f"/cases/{case.pk}/")
    page = response.content.decode()
    assert response.status_code == 200 and case.number in page
    for control in ('action="/cases/%d/reply/"', 'action="/cases/%d/notes/"'):
        assert control % case.pk not in page
    assert f'action="/cases/{case.pk}/properties/"' not in page
    refused = client.post(f"/cases/{case.pk}/notes/", {"note": "看看"}, follow=True)
    assert "无权修改" in refused.content.decode()
    assert not InternalNote.objects.filter(case=case).exists()


def test_english_staff_read_the_workspace_in_english(client, agent, general_team):
    case = _case(general_team)
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/", headers={"Accept-Language": "en"}).content.decode()
    assert "Properties" in page and "Add note" in page and "SLA clocks" in page


def test_category_and_tags_change_in_place(client, agent, general_team, categories):
    case = _case(general_team)
    client.force_login(agent)
    form = _form(client, case)
    form.update(category=categories["card_lost"].pk, tags="挂失， 加急,挂失")
    assert client.post(f"/cases/{case.pk}/properties/", form).status_code == 302
    case.refresh_from_db()
    assert case.category_id == categories["card_lost"].pk
    assert sorted(case.tags.values_list("name", flat=True)) == ["加急", "挂失"]

    form = _form(client, case)
    form.update(tags="x" * 51)
    refused = client.post(f"/cases/{case.pk}/properties/", form)
    assert refused.status_code == 400 and "每个标签最多 50 个字符" in refused.content.decode()


def test_a_case_is_merged_into_another_of_the_same_customer(client, agent, general_team, customer):
    first = _case(general_team, customer=customer)
    second = _case(general_team, customer=customer)
    client.force_login(agent)
    response = client.post(
        f"/cases/{second.pk}/merge/", {"into": first.number, "reason": "同一问题重复来电"}
    )
    assert response.status_code == 302 and response.url == f"/cases/{first.pk}/"
    second.refresh_from_db()
    assert second.merged_into_id == first.pk and second.status == "closed"
    missing = client.post(f"/cases/{first.pk}/merge/", {"into": "C0000"}, follow=True)
    assert "该记录已不存在" in missing.content.decode()


def test_the_workspace_shows_the_customer_and_who_else_is_on_the_case(
    client, agent, make_staff, general_team, customer
):
    earlier = _case(general_team, customer=customer)
    case = _case(general_team, customer=customer)
    colleague = make_staff("agent2", teams=[general_team])
    client.force_login(colleague)
    client.get(f"/cases/{case.pk}/")
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'class="card customer-panel"' in page and "王小明" in page
    assert "5678" in page and "13812345678" not in page
    assert earlier.number in page  # their other recent case
    assert "agent2 · 正在查看" in page


def test_the_reply_goes_by_the_channel_chosen_among_those_that_reach_the_customer(
    client, agent, general_team
):
    from bankdesk.customers.services import IdentityInput, identity_add

    case = _wechat_case(general_team)
    assert case.customer is not None
    identity_add(
        customer=case.customer,
        identity=IdentityInput(kind="email", value="li.na@example.cn"),
        actor=None,
    )
    client.force_login(agent)
    form = client.get(f"/cases/{case.pk}/").context["form"]
    assert [value for value, _ in form.fields["channel"].choices] == ["wechat", "email"]

    response = client.post(
        f"/cases/{case.pk}/reply/", {"text": "详情请见邮件。", "channel": "email"}
    )
    assert response.status_code == 302
    outbox = OutboxMessage.objects.get(case=case)
    assert outbox.channel == "email" and "li.na@example.cn" in str(outbox.recipient)

    # No phone on file: SMS cannot reach this customer, and nothing is sent.
    refused = client.post(f"/cases/{case.pk}/reply/", {"text": "短信通知", "channel": "sms"})
    assert refused.status_code == 400
    assert "不能在该渠道答复" in refused.content.decode() and "短信通知" in refused.content.decode()
    assert OutboxMessage.objects.filter(case=case).count() == 1


def test_recordings_play_and_pictures_show_in_the_thread_other_files_download(
    client, agent, make_staff, general_team
):
    import io

    from bankdesk.staff.models import Team
    from bankdesk.tickets.attachments import attachment_add

    case = _wechat_case(general_team)
    message = Message.objects.get(case=case)
    files = {
        name: attachment_add(
            message=message,
            upload=io.BytesIO(body),
            filename=name,
            declared_type=kind,
            actor=None,
        )
        for name, body, kind in [
            ("通话录音.mp3", b"ID3\x03\x00" + b"\x00" * 64, "audio/mpeg"),
            ("转账截图.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png"),
            ("流水.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
        ]
    }
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    audio, picture, pdf = (files[n] for n in ("通话录音.mp3", "转账截图.png", "流水.pdf"))
    assert f'<audio controls preload="none" src="/cases/{case.pk}/attachments/{audio.pk}/"' in page
    assert f'<img src="/cases/{case.pk}/attachments/{picture.pk}/"' in page
    assert f'src="/cases/{case.pk}/attachments/{pdf.pk}/"' not in page  # a download link only

    played = client.get(f"/cases/{case.pk}/attachments/{audio.pk}/")
    assert played.status_code == 200 and played["Content-Type"] == "audio/mpeg"
    assert played["Content-Disposition"].startswith("inline")
    assert b"".join(played.streaming_content).startswith(b"ID3")
    assert played["Content-Security-Policy"] == "default-src 'none'; sandbox"
    document = client.get(f"/cases/{case.pk}/attachments/{pdf.pk}/")
    assert document["Content-Disposition"].startswith("attachment")
    saved = client.get(f"/cases/{case.pk}/attachments/{audio.pk}/?download=1")
    assert saved["Content-Disposition"].startswith("attachment")

    # Someone who may not read the case gets nothing, not even that the file exists.
    outsider = make_staff("outsider", teams=[Team.objects.create(code="cards", name="信用卡")])
    client.force_login(outsider)
    assert client.get(f"/cases/{case.pk}/attachments/{audio.pk}/").status_code == 404
