"""Which adapter sends each channel's replies: one line per channel sub-package."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from bankdesk.intake.channels.base import ChannelAdapter
from bankdesk.lib.channels import Channel

ADAPTERS: dict[str, str] = {
    Channel.EMAIL: "bankdesk.intake.channels.email.adapter.EmailAdapter",
    Channel.WECHAT: "bankdesk.intake.channels.wechat.adapter.WeChatAdapter",
    Channel.ALIPAY: "bankdesk.intake.channels.alipay.adapter.AlipayAdapter",
    Channel.SMS: "bankdesk.intake.channels.sms.adapter.SmsAdapter",
    Channel.WEB_CHAT: "bankdesk.intake.channels.webchat.adapter.WebChatAdapter",
    Channel.SOCIAL: "bankdesk.intake.channels.social.adapter.SocialAdapter",
}


@cache
def adapter_for(channel: str) -> ChannelAdapter | None:
    """The channel's adapter, or None when bankdesk cannot send on it."""
    path = ADAPTERS.get(channel)
    if path is None:
        return None
    module_name, _, class_name = path.rpartition(".")
    try:
        module = import_module(module_name)
    except ModuleNotFoundError:
        return None
    adapter: ChannelAdapter = getattr(module, class_name)()
    return adapter
