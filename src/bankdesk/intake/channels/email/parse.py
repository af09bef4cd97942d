"""Reading one e-mail, as a customer's mail program wrote it, into an `InboundMessage`.

Chinese mail comes in many encodings: GB2312 labels on text that is really GBK or GB18030,
Big5 from Hong Kong and Taiwan, raw 8-bit headers from old clients. Every label is read as the
widest encoding it could mean, and nothing a customer wrote is dropped because one byte is off.

The loop and bounce guards live here too: auto-replies, delivery reports, list mail and mail
from bankdesk's own addresses are marked automatic, so they never open or reopen a case and
are never answered (RFC 3834 on automatic responses, RFC 3464 on delivery status reports).
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.header import decode_header
from email.message import Message as MimePart
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from bankdesk.customers.errors import InvalidIdentity
from bankdesk.customers.normalise import email_canonical
from bankdesk.intake.channels.base import (
    ATTACHMENTS_MAX,
    DIGEST_ID_PREFIX,
    EXTERNAL_ID_MAX,
    REPLIES_TO_MAX,
    InboundAttachment,
    InboundMessage,
)
from bankdesk.intake.errors import MalformedPayload
from bankdesk.intake.services import CASE_TOKEN
from bankdesk.lib.channels import Channel
from bankdesk.tickets.attachments import MAX_BYTES as ATTACHMENT_MAX_BYTES

logger = logging.getLogger(__name__)

# Larger than any attachment the bank keeps, base64-encoded, plus the text around it.
MESSAGE_MAX_BYTES = 32 * 1024 * 1024
# Mail programs nest a few levels (mixed, alternative, related, a forwarded mail inside one);
# far deeper is a mail built to exhaust the stack of whatever walks or re-writes its parts.
MIME_DEPTH_MAX = 32
TEXT_MAX_CHARS = 100_000

# A label names the widest encoding it could mean: mail programs write "gb2312" for text that
# uses GBK or GB18030 characters (rare surnames, 〇, ·), and "big5" for text with HKSCS ones.
CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "windows-936": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "cp950": "cp950",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "ks_c_5601-1987": "cp949",
    "unknown-8bit": "",
    "x-unknown": "",
}
# Tried in order when a label is missing or wrong: strict UTF-8 rarely matches anything else.
FALLBACK_CHARSETS = ("utf-8", "gb18030", "big5hkscs")

AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
AUTOMATIC_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|bounce[s]?)([+@]|$)", re.I)
MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
# RFC 5322 msg-id without its brackets: dot-atom-text "@" (dot-atom-text / no-fold-literal).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
MSG_ID_SYNTAX = re.compile(rf"{_DOT_ATOM}@(?:{_DOT_ATOM}|\[[!-Z^-~]*\])")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text from bytes under a declared charset, falling back to the likely Chinese ones."""
    label = (charset or "").strip().strip('"').lower()
    label = CHARSET_ALIASES.get(label, label)
    candidates: list[str] = []
    if label:
        with contextlib.suppress(LookupError):
            candidates.append(codecs.lookup(label).name)
    candidates.extend(name for name in FALLBACK_CHARSETS if name not in candidates)
    for name in candidates:
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    # Keep what can be read; a wrong byte must not cost the customer their whole message.
    return data.decode(candidates[0], errors="replace")


def _raw_header_bytes(value: str) -> str:
    """Headers sent as raw 8-bit (no RFC 2047) arrive surrogate-escaped: read them as text."""
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    return decode_bytes(value.encode("ascii", "surrogateescape"), None)


def decode_header_value(value: object) -> str:
    """One header as text, with RFC 2047 encoded words in any of the customers' charsets."""
    if value is None:
        return ""
    text = _raw_header_bytes(str(value))
    try:
        chunks = decode_header(text)
    except Exception:  # a broken encoded word: show it as it came
        return " ".join(text.split())
    pieces: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            pieces.append(chunk)
        else:
            pieces.append(decode_bytes(chunk, charset))
    return " ".join("".join(pieces).split())


def message_ids(value: object) -> list[str]:
    """The ids in a Message-ID, In-Reply-To or References header, without angle brackets."""
    text = str(value or "").strip()
    found = MESSAGE_ID.findall(text)
    if not found and text and not any(char.isspace() for char in text):
        found = [text]  # some programs leave the brackets off
    return [_kept_id(found_id) for found_id in found]


def _kept_id(message_id: str) -> str:
    """The id as bankdesk keeps it: as sent when it is a well-formed msg-id that fits, since it
    will be written back into the In-Reply-To of the bank's reply; else a digest of it, which
    still tells the same message from another and never reaches a header."""
    if len(message_id) <= EXTERNAL_ID_MAX and MSG_ID_SYNTAX.fullmatch(message_id):
        return message_id
    digest = hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()
    return DIGEST_ID_PREFIX + digest


class _TextFromHtml(HTMLParser):
    """The words of an HTML mail, for staff who read the plain text and for search."""

    BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "table", "hr"})
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def text_from_html(html: str) -> str:
    reader = _TextFromHtml()
    reader.feed(html)
    reader.close()
    lines = (" ".join(line.split()) for line in "".join(reader.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _part_text(part: MimePart) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text = decode_bytes(payload, part.get_content_charset())
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _filename(part: MimePart) -> str:
    """The attachment's name: RFC 2231 (filename*=gbk''…) or RFC 2047 (=?GBK?B?…?=)."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        value = part.get_param(param, header=header)
        if value is None:
            continue
        if isinstance(value, tuple):
            charset, _language, encoded = value
            # compat32 hands back the %-decoded bytes as code points, as collapse_rfc2231_value
            # expects; raw-unicode-escape turns them back into the bytes that were sent.
            return decode_bytes((encoded or "").encode("raw-unicode-escape"), charset)
        return decode_header_value(value)
    return ""


def _is_attachment(part: MimePart) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment" or _filename(part):
        return True
    return part.get_content_maintype() not in {"text", "multipart", "message"}


def _depth_check(message: MimePart) -> None:
    """Refuse parts nested past MIME_DEPTH_MAX, forwarded messages' parts included; counted
    without recursion, before anything walks or re-writes them."""
    pending = [(message, 1)]
    while pending:
        part, depth = pending.pop()
        if depth > MIME_DEPTH_MAX:
            raise MalformedPayload("the e-mail's parts are nested too deeply", field="message")
        children = part.get_payload()
        if isinstance(children, list):
            pending.extend((child, depth + 1) for child in children if isinstance(child, MimePart))


def _walk(message: MimePart) -> Iterable[MimePart]:
    """Every leaf part, not descending into forwarded or reported messages' own parts."""
    if message.is_multipart() and message.get_content_maintype() == "multipart":
        for part in message.get_payload():
            if isinstance(part, MimePart):
                yield from _walk(part)
    else:
        yield message


def _body(message: MimePart) -> tuple[str, str, list[InboundAttachment]]:
    """The customer's text (text/plain preferred), the raw HTML, and the attachments."""
    plain: list[str] = []
    html: list[str] = []
    attachments: list[InboundAttachment] = []
    for part in _walk(message):
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            attachment = _forwarded(part)
            if attachment is not None:
                attachments.append(attachment)
        elif part.get_content_maintype() == "message":
            continue  # delivery-status and similar reports: machine data, not words
        elif _is_attachment(part):
            attachment = _attachment(part)
            if attachment is not None:
                attachments.append(attachment)
        elif content_type == "text/plain":
            plain.append(_part_text(part))
        elif content_type == "text/html":
            html.append(_part_text(part))
    raw_html = "\n".join(part for part in html if part.strip())
    text = "\n\n".join(part.strip() for part in plain if part.strip())
    if not text and raw_html:
        text = text_from_html(raw_html)
    if len(attachments) > ATTACHMENTS_MAX:
        logger.warning(
            "e-mail with %s attachments: only the first %s kept", len(attachments), ATTACHMENTS_MAX
        )
        attachments = attachments[:ATTACHMENTS_MAX]
    return text[:TEXT_MAX_CHARS], raw_html, attachments


def _attachment(part: MimePart) -> InboundAttachment | None:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload:
        return None
    if len(payload) > ATTACHMENT_MAX_BYTES:
        # The rest of the mail still reaches the case; the file is too big to keep.
        logger.warning("e-mail attachment of %s bytes not kept: over the limit", len(payload))
        return None
    return InboundAttachment(
        filename=_filename(part) or "attachment",
        content_type=part.get_content_type(),
        content=payload,
    )


def _raw_header(message: MimePart, name: str) -> str | None:
    """A header as it came: compat32 turns raw 8-bit headers into unreadable Header objects."""
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return str(value)
    return None


def _forwarded(part: MimePart) -> InboundAttachment | None:
    """A mail forwarded as an attachment is kept whole, as an .eml file staff can open."""
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], MimePart):
        content = inner[0].as_bytes()
    elif isinstance(inner, str):
        content = inner.encode("ascii", "surrogateescape")
    else:
        return None
    if not content or len(content) > ATTACHMENT_MAX_BYTES:
        return None
    name = _filename(part) or "forwarded.eml"
    return InboundAttachment(filename=name, content_type="message/rfc822", content=content)


def _first_address(value: object) -> tuple[str, str]:
    """(display name, address) of the first mailbox in an address header."""
    text = _raw_header_bytes(str(value or ""))
    for name, address in getaddresses([text]):
        if address:
            return decode_header_value(name), address.strip().lower()
    return "", ""


def _usable_address(address: str) -> str:
    """The sender's address when it is one a reply could reach, else "": `M <not-an-address>`
    or `<a@@b>` name nobody, and so can neither be recognised nor continue anyone's case."""
    try:
        return email_canonical(address)
    except InvalidIdentity:
        return ""


def _automatic_reason(
    message: MimePart, sender: str, envelope_sender: str | None, own_addresses: set[str]
) -> str:
    """Why this mail is machine-made, or "" when a person wrote it."""
    if sender and sender in own_addresses:
        return "own_address"
    auto_submitted = str(message.get("Auto-Submitted", "")).split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return "auto_submitted"
    if message.get("X-Autoreply") is not None or message.get("X-Autorespond") is not None:
        return "autoreply"
    if str(message.get("Precedence", "")).strip().lower() in AUTOMATIC_PRECEDENCE:
        return "precedence"
    if message.get_content_type() == "multipart/report":
        return "report"
    local = sender.split("@", 1)[0]
    if AUTOMATIC_SENDERS.match(local):
        return "mailer_daemon"
    # A null reverse path (MAIL FROM:<>) is what bounces and auto-replies are sent with.
    return_path = str(message.get("Return-Path", "")).strip()
    if envelope_sender in {"", "<>"} or return_path == "<>":
        return "null_sender"
    return ""


def _received_at(message: MimePart) -> datetime | None:
    try:
        sent = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    if sent is None or sent.tzinfo is None:
        return None
    return sent.astimezone(UTC)


def email_parse(
    raw: bytes,
    *,
    own_addresses: Iterable[str] = (),
    envelope_sender: str | None = None,
    endpoint_id: int | None = None,
) -> InboundMessage:
    """One RFC 5322 message as bankdesk's inbound message.

    `own_addresses` are the bank's mailboxes: mail from them is bankdesk's own coming back.
    `envelope_sender` is SMTP's MAIL FROM when the mail came over SMTP (None from IMAP).
    """
    if not raw or not raw.strip():
        raise MalformedPayload("the e-mail is empty", field="message")
    if len(raw) > MESSAGE_MAX_BYTES:
        raise MalformedPayload("the e-mail is too large", field="message")
    try:
        message = BytesParser(policy=compat32).parsebytes(raw)
    except Exception as exc:  # the parser is lenient; anything it still refuses is broken
        raise MalformedPayload("the e-mail cannot be read", field="message") from exc
    if message.get("From") is None:
        raise MalformedPayload("the e-mail has no From header", field="from")
    _depth_check(message)

    sender_name, sender = _first_address(_raw_header(message, "From"))
    own = {address.strip().lower() for address in own_addresses}
    reason = _automatic_reason(message, sender, envelope_sender, own)
    subject = decode_header_value(_raw_header(message, "Subject"))
    text, html, attachments = _body(message)
    if not text.strip() and not attachments:
        text = subject  # a customer who wrote only a subject still wrote to the bank
    if not text.strip() and not attachments:
        raise MalformedPayload("the e-mail has neither text nor attachments", field="text")

    own_ids = message_ids(message.get("Message-ID"))
    external_id = (
        own_ids[0] if own_ids else DIGEST_ID_PREFIX + hashlib.sha256(raw).hexdigest()
    )  # the same bytes again are the same message, even without an id
    in_reply_to = message_ids(message.get("In-Reply-To"))
    references = message_ids(" ".join(str(value) for value in message.get_all("References", [])))
    replies_to = list(dict.fromkeys([*in_reply_to, *reversed(references)]))[:REPLIES_TO_MAX]
    thread_root = references[0] if references else (in_reply_to[0] if in_reply_to else "")
    token = CASE_TOKEN.search(subject)
    address = _usable_address(sender)
    return InboundMessage(
        channel=Channel.EMAIL,
        external_id=external_id,
        text=text,
        html=html,
        subject=subject,
        sender_kind="email" if address else "",
        sender_value=address,
        sender_name=sender_name,
        # The thread root ties a reply to its case even when the mail it answers is not ours;
        # only with a sender, since a thread without one would give replies nowhere to go.
        thread_id=(thread_root or external_id) if address else "",
        replies_to=tuple(replies_to),
        case_number=token.group(1) if token else "",
        received_at=_received_at(message),
        is_automatic=bool(reason),
        attachments=tuple(attachments),
        endpoint_id=endpoint_id,
        metadata={"automatic_reason": reason} if reason else {},
    )
