"""Text clean-up and language detection shared by training and prediction.

Customers write in English, Simplified Chinese and Traditional Chinese (Taiwan and Hong Kong
usage).  Before any feature is computed the text is folded to one canonical form so that the
same question asked in either Chinese script looks the same to the model: Unicode NFKC
(full-width letters and digits become ASCII), lower case, Traditional characters converted to
Simplified with OpenCC's ``t2s`` table, and runs of white space collapsed.  Very long messages
are cut to their first :data:`MAX_CHARS` characters so that one pasted e-mail cannot make a
prediction slow; the opening of a message is where customers state what they want.
"""

from __future__ import annotations

import re
import unicodedata

from bankdesk.lib.chinese import han_share, script_language, to_simplified

#: Longest prefix of a message that is looked at.  BANKING77 queries are at most ~430 chars.
MAX_CHARS = 512

#: Longest prefix given to the sentence encoder (its cost grows with length): about 100
#: sub-word pieces either way, which keeps one prediction within a few milliseconds.
MAX_EMBED_CHARS = 256
MAX_EMBED_CHARS_HAN = 128

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Fold a raw customer message to the canonical form every feature is computed on."""
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2])[:MAX_CHARS]
    text = _SPACE.sub(" ", text).strip().lower()
    return to_simplified(text)


def embed_prefix(norm_text: str) -> str:
    """The part of a normalised message that the sentence encoder reads."""
    if len(norm_text) <= MAX_EMBED_CHARS_HAN:
        return norm_text
    limit = MAX_EMBED_CHARS_HAN if han_share(norm_text) >= 0.3 else MAX_EMBED_CHARS
    return norm_text[:limit]


def detect_language(text: str) -> str:
    """'zh-hans', 'zh-hant' or 'en' for a customer message (empty or emoji-only: 'en')."""
    return script_language(text[:MAX_CHARS], default="en")
