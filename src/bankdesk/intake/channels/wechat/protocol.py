"""The WeChat official-account server protocol: signatures, messages, replies (safe mode's
sealing is in `crypto`).

WeChat signs every call to the bank's server with SHA-1 over the sorted token, timestamp and
nonce, and posts each customer message as a small XML document. It waits 5 seconds for an
answer, and retries the same message (same MsgId) up to three times when it gets none, so the
answer must be quick and the same message must be taken once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

# defusedxml ships no type information; the two names used here are typed at their use.
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bankdesk.intake.errors import BadSignature, MalformedPayload

# A signed call older or newer than this is refused: a captured request cannot be replayed later,
# and five minutes leaves room for clock drift and WeChat's own retries (within 15 seconds).
REPLAY_WINDOW_SECONDS = 300
# WeChat's nonces are decimal numbers of about ten digits; room to spare, and a bound on storage.
NONCE_MAX = 64
# WeChat's messages are a few hundred bytes; anything much larger is not from WeChat.
BODY_MAX_BYTES = 64 * 1024
# openids are 28 characters today; the pattern matches customers.normalise.
_OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
# Characters XML 1.0 cannot carry at all, even in CDATA.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def signature_of(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's signature: SHA-1 hex of the token, timestamp and nonce, sorted and joined.

    SHA-1 is what WeChat's server protocol prescribes; bankdesk cannot choose another hash
    for a signature WeChat computes. The token stays secret and the timestamp is checked
    against a replay window.
    """
    joined = "".join(sorted([token, timestamp, nonce]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()  # noqa: S324  # nosec B324


def signature_verify(
    *, token: str, signature: str, timestamp: str, nonce: str, now: float | None = None
) -> None:
    """Raise BadSignature unless WeChat signed this call with our token, recently.

    The comparison is constant-time, and the timestamp must lie within the replay window. The
    signature does not cover the message: a call can still be replayed within the window with
    another body, which `replay.signed_call_remember` refuses.
    """
    expected = signature_of(token, timestamp, nonce)
    if not signature or not hmac.compare_digest(expected, signature.lower()):
        raise BadSignature("the WeChat signature does not verify")
    if not nonce or len(nonce) > NONCE_MAX:
        raise BadSignature("the WeChat nonce is not one WeChat sends")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise BadSignature("the WeChat timestamp is not a number") from exc
    current = time.time() if now is None else now
    if abs(current - sent_at) > REPLAY_WINDOW_SECONDS:
        raise BadSignature("the WeChat timestamp is outside the replay window")


@dataclass(frozen=True)
class WeChatMessage:
    """One message or event as WeChat posts it; `fields` holds every child element's text."""

    to_user: str  # the official account's original id (gh_…)
    from_user: str  # the customer's openid
    create_time: int
    msg_type: str
    fields: dict[str, str]

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    @property
    def event(self) -> str:
        return self.fields.get("Event", "").lower()

    @property
    def msg_id(self) -> str:
        return self.fields.get("MsgId", "")

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise MalformedPayload(f"the WeChat message has no {name}", field=name)
    return value


def _xml_fields(body: bytes) -> dict[str, str]:
    """The child elements of WeChat's <xml> document, refusing anything else (→ 400).

    defusedxml refuses DTDs, entities and external references, so a hostile body cannot expand
    into gigabytes or read local files.
    """
    if len(body) > BODY_MAX_BYTES:
        raise MalformedPayload("the WeChat message is too large", field="body")
    try:
        root: Element = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedPayload(f"the WeChat message is not well-formed XML: {exc}") from exc
    if root.tag != "xml":
        raise MalformedPayload("the WeChat message's root element must be <xml>")
    return {child.tag: (child.text or "").strip() for child in root if isinstance(child.tag, str)}


def sealed_text(body: bytes) -> str:
    """The sealed message (Encrypt) of a call in safe or compatible mode."""
    return _required(_xml_fields(body), "Encrypt")


def message_parse(body: bytes) -> WeChatMessage:
    """Read WeChat's XML, refusing anything that is not a well-formed message (→ 400)."""
    fields = _xml_fields(body)
    to_user = _required(fields, "ToUserName")
    from_user = _required(fields, "FromUserName")
    if not _OPENID.match(from_user):
        raise MalformedPayload("FromUserName is not an openid", field="FromUserName")
    try:
        create_time = int(_required(fields, "CreateTime"))
    except ValueError as exc:
        raise MalformedPayload("CreateTime is not a number", field="CreateTime") from exc
    msg_type = _required(fields, "MsgType").lower()
    if msg_type == "event":
        _required(fields, "Event")
    else:
        _required(fields, "MsgId")
    return WeChatMessage(
        to_user=to_user,
        from_user=from_user,
        create_time=create_time,
        msg_type=msg_type,
        fields=fields,
    )


def _location(message: WeChatMessage) -> str:
    x = _required(message.fields, "Location_X")
    y = _required(message.fields, "Location_Y")
    label = message.get("Label")
    scale = message.get("Scale")
    lines = [f"[位置 Location] {label}".rstrip(), f"纬度 latitude {x}, 经度 longitude {y}"]
    if scale:
        lines.append(f"缩放 scale {scale}")
    return "\n".join(lines)


def message_text(message: WeChatMessage) -> str:
    """The text an agent reads for one customer message.

    Media are not downloaded here (WeChat's 5-second window and the media API's quota forbid
    it); the note keeps PicUrl and MediaId so an agent or a later job can fetch them.
    """
    kind = message.msg_type
    if kind == "text":
        return _required(message.fields, "Content")
    if kind == "image":
        pic_url, media_id = message.get("PicUrl"), message.get("MediaId")
        if not pic_url and not media_id:
            raise MalformedPayload("the image has neither PicUrl nor MediaId", field="PicUrl")
        return f"[图片 Image] PicUrl: {pic_url}\nMediaId: {media_id}"
    if kind == "voice":
        media_id = _required(message.fields, "MediaId")
        recognition = message.get("Recognition")
        heard = recognition or "（语音未识别 voice message, no transcript）"
        return f"[语音 Voice] {heard}\nMediaId: {media_id}"
    if kind == "location":
        return _location(message)
    if kind == "link":
        title, url = message.get("Title"), _required(message.fields, "Url")
        description = message.get("Description")
        return "\n".join(line for line in (f"[链接 Link] {title}", description, url) if line)
    if kind in {"video", "shortvideo"}:
        media_id = _required(message.fields, "MediaId")
        return f"[视频 Video] MediaId: {media_id}\nThumbMediaId: {message.get('ThumbMediaId')}"
    # A type WeChat added after this code: keep it rather than lose the customer's message.
    return f"[{kind}] 暂不支持的消息类型 unsupported message type"


def cdata(text: str) -> str:
    """Text as CDATA; a "]]>" inside is split across two sections so it cannot end the first."""
    clean = _XML_ILLEGAL.sub("", text)
    return "<![CDATA[" + clean.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(*, to_user: str, from_user: str, content: str, now: int | None = None) -> str:
    """A passive text reply, answered in the same HTTP response within WeChat's 5 seconds."""
    create_time = int(time.time()) if now is None else now
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )
