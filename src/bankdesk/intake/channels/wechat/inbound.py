"""A verified WeChat message answered by the assistant or put onto a case, and the passive
reply WeChat shows the customer."""

from __future__ import annotations

from bankdesk.assistant.services import chat_reply
from bankdesk.customers.choices import IdentityKind
from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.channels.wechat.protocol import WeChatMessage, message_text, text_reply
from bankdesk.intake.errors import MalformedPayload
from bankdesk.intake.identity import customer_for_contact
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.services import inbound_receive
from bankdesk.lib.channels import Channel
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.selectors import thread_case

WELCOME = (
    "欢迎关注！直接在此发送消息即可联系客服，我们会尽快回复。\n"
    "Welcome! Send us a message here to reach customer service."
)
RECEIVED = (
    "您的消息已收到，工单号 {number}，客服将尽快回复。\n"
    "We have received your message (case {number}); an agent will reply soon."
)


def _inbound(message: WeChatMessage, endpoint: ChannelEndpoint) -> InboundMessage:
    return InboundMessage(
        channel=Channel.WECHAT,
        external_id=message.msg_id,
        text=message_text(message),
        sender_kind=IdentityKind.WECHAT_OPENID,
        sender_value=message.from_user,
        thread_id=message.from_user,
        endpoint_id=endpoint.pk,
        metadata={"msg_type": message.msg_type, "create_time": message.create_time},
    )


def _with_a_person(openid: str) -> bool:
    """Whether the customer's latest case on this account is still open: then their words
    are for the person on it, not for the assistant (a closed case is over)."""
    case = thread_case(Channel.WECHAT, openid)
    return case is not None and case.status != CaseStatus.CLOSED


def _assistant_answer(message: WeChatMessage, endpoint: ChannelEndpoint) -> str | None:
    """The assistant's answer to a text message, or None when it is for people: the account
    does not offer the assistant (settings "assistant": false), the message is not text, or
    `chat_reply` says so (a person has the customer's case, no model is in service); WeChat's
    retry of a message the assistant answered gets that answer again."""
    if message.msg_type != "text" or endpoint.settings.get("assistant", True) is False:
        return None
    openid = message.from_user
    answered = chat_reply(
        channel=Channel.WECHAT,
        thread_id=openid,
        client_id=message.msg_id,
        text=message_text(message),
        customer=lambda: customer_for_contact(kind=IdentityKind.WECHAT_OPENID, value=openid),
        with_a_person=_with_a_person(openid),
    )
    if answered is None or len(answered.turns) < 2:
        return None
    return answered.turns[-1].text


def wechat_message_receive(*, message: WeChatMessage, endpoint: ChannelEndpoint) -> str | None:
    """Take one message or event; return the passive reply XML, or None for WeChat's "success".

    A text message goes to the assistant first, whose answer is the reply; when it hands the
    customer to a person, the case it opens continues on this openid. Any other message, or
    one while a person has the customer's case, goes onto that case (or a new one) and is
    acknowledged with the case number. WeChat's retries of the same MsgId find the message
    already taken and get the same reply. Subscribing is greeted; unsubscribing and menu or
    location events open no case, because there is nothing for an agent to answer.
    """
    original_id = str(endpoint.settings.get("original_id") or "")
    if original_id and message.to_user != original_id:
        raise MalformedPayload("the message is for another official account", field="ToUserName")
    if message.is_event:
        if message.event != "subscribe":
            return None
        content = str(endpoint.settings.get("welcome") or WELCOME)
    else:
        answer = _assistant_answer(message, endpoint)
        if answer is not None:
            content = answer
        else:
            result = inbound_receive(_inbound(message, endpoint))
            if result.case is None:
                return None
            content = RECEIVED.format(number=result.case.number)
    return text_reply(to_user=message.from_user, from_user=message.to_user, content=content)
