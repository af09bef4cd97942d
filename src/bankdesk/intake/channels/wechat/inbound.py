"""A verified WeChat message onto a case, and the passive reply WeChat shows the customer."""

from __future__ import annotations

from bankdesk.customers.choices import IdentityKind
from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.channels.wechat.protocol import WeChatMessage, message_text, text_reply
from bankdesk.intake.errors import MalformedPayload
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.services import inbound_receive
from bankdesk.lib.channels import Channel

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


def wechat_message_receive(*, message: WeChatMessage, endpoint: ChannelEndpoint) -> str | None:
    """Take one message or event; return the passive reply XML, or None for WeChat's "success".

    A message goes onto the customer's open case (or a new one) and is acknowledged with the
    case number. WeChat's retries of the same MsgId find the message already taken and get the
    same acknowledgement. Subscribing is greeted; unsubscribing and menu or location events
    open no case, because there is nothing for an agent to answer.
    """
    original_id = str(endpoint.settings.get("original_id") or "")
    if original_id and message.to_user != original_id:
        raise MalformedPayload("the message is for another official account", field="ToUserName")
    if message.is_event:
        if message.event != "subscribe":
            return None
        content = str(endpoint.settings.get("welcome") or WELCOME)
    else:
        result = inbound_receive(_inbound(message, endpoint))
        if result.case is None:
            return None
        content = RECEIVED.format(number=result.case.number)
    return text_reply(to_user=message.from_user, from_user=message.to_user, content=content)
