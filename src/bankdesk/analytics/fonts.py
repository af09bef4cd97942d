"""The CJK font the evaluation PDF carries inside it: a reader's PDF viewer need not have
Chinese glyphs, so the file embeds its own, only the characters it uses.

`BANKDESK_REPORT_FONT` names the file; unset, the fonts Debian packages ship are tried in
order. A .ttc collection holds several faces: `collection_face` picks the Simplified Chinese
one, because Noto CJK's first face is the Japanese one, whose Han glyphs differ (骨, 直, 角).

Noto CJK draws with CFF outlines. fpdf2 (2.8.6 on) embeds those as a CID CFF font whose
encoding is a CMap of its own, which Acrobat and poppler read but pypdf and other text
extractors do not (the text comes out as NUL-separated bytes). `embeddable_font` therefore
hands fpdf2 a small TrueType face instead, which goes in as Identity-H with /FontFile2: the
form every reader and extractor knows.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from fontTools.pens.cu2quPen import Cu2QuPen  # type: ignore[import-untyped]
from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]
from fontTools.subset import Options, Subsetter  # type: ignore[import-untyped]
from fontTools.ttLib import TTCollection, TTFont, newTable  # type: ignore[import-untyped]

from bankdesk.lib.errors import BankdeskError

INSTALL_HINT = "install Debian's fonts-noto-cjk (apt-get install fonts-noto-cjk)"

# Regular and bold of each font, most readable first; None where the package has no bold.
FONT_CANDIDATES: tuple[tuple[Path, Path | None], ...] = (
    # fonts-noto-cjk (Debian, Ubuntu), then the same files where Arch and Fedora put them.
    (
        Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
        Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    ),
    (
        Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
        Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc"),
    ),
    (
        Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),
        Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc"),
    ),
    (
        Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
        Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
    ),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), None),  # fonts-wqy-microhei
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), None),  # fonts-wqy-zenhei
    (Path("/usr/share/fonts/truetype/arphic/uming.ttc"), None),  # fonts-arphic-uming
    (Path("/usr/share/fonts/truetype/arphic/ukai.ttc"), None),  # fonts-arphic-ukai
    (Path("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"), None),  # …-gbsn00lp
)

# The first bytes of a font file: TrueType, OpenType (CFF), old Apple TrueType, a collection.
SFNT_TAGS = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"ttcf")
# A face whose name carries one of these words is the Simplified Chinese one of a collection.
SIMPLIFIED_CHINESE_WORDS = frozenset({"SC", "CN", "GB"})
# How far, in font units (1/1000 em for Noto), a quadratic may stray from the cubic it replaces.
CURVE_TOLERANCE = 1.0


class ReportFontMissing(BankdeskError):
    """No CJK font to embed: the PDF cannot be written until the operator installs one."""

    status = 503
    code = "report_font_missing"


def report_font() -> Path:
    """The regular face's file for the evaluation PDF."""
    return _font_files()[0]


def report_font_bold() -> Path:
    """The bold face's file; the regular one again where the font has no bold."""
    return _font_files()[1]


def collection_face(path: Path) -> int:
    """The face to embed from `path`: the Simplified Chinese one of a collection, else the first.

    Also the check that the file is a font at all, so a wrong setting fails here, by name.
    """
    with path.open("rb") as file:
        tag = file.read(4)
    if tag not in SFNT_TAGS:
        raise ReportFontMissing(f"{path} is not a TrueType or OpenType font; {INSTALL_HINT}")
    if tag != b"ttcf":
        return 0
    with TTCollection(str(path), lazy=True) as collection:
        for number, face in enumerate(collection.fonts):
            words = set(str(face["name"].getDebugName(1) or "").split())
            if words & SIMPLIFIED_CHINESE_WORDS and "Mono" not in words:
                return number
    return 0


def embeddable_font(path: Path, text: str, directory: Path) -> Path:
    """`path`'s face cut down to the characters of `text` and with TrueType outlines, written
    into `directory` for fpdf2 to embed (see the module's docstring for why TrueType)."""
    face = collection_face(path)
    font = TTFont(str(path), fontNumber=face, lazy=True)
    options = Options()
    options.layout_features = []  # fpdf2 places glyphs one by one; no shaping tables needed
    options.name_IDs = ["*"]  # keep the names: the PDF's font name says which face it is
    options.notdef_outline = True
    options.recommended_glyphs = True
    subsetter = Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    if "CFF " in font:
        _redraw_as_truetype(font)
    target = directory / f"{path.stem}-{face}.ttf"
    font.save(str(target))
    font.close()
    return target


def _redraw_as_truetype(font: TTFont) -> None:
    """Replace the CFF outlines by quadratic TrueType ones (fontTools' otf2ttf recipe)."""
    order = font.getGlyphOrder()
    outlines = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        # CFF runs counter-clockwise, TrueType clockwise.
        outlines[name].draw(Cu2QuPen(pen, CURVE_TOLERANCE, reverse_direction=True))
        glyphs[name] = pen.glyph()
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    font["loca"] = newTable("loca")
    del font["CFF "]
    if "VORG" in font:  # vertical origins belong to CFF fonts only
        del font["VORG"]
    metrics = font["hmtx"].metrics
    for name, glyph in glyphs.items():
        glyph.recalcBounds(glyf)
        metrics[name] = (metrics[name][0], getattr(glyph, "xMin", 0))
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for field in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font.sfntVersion = "\x00\x01\x00\x00"


def _font_files() -> tuple[Path, Path]:
    configured = str(getattr(settings, "BANKDESK_REPORT_FONT", "") or "").strip()
    if configured:
        # A setting that names a missing file is a mistake to show, not to paper over with
        # whatever font the machine happens to have.
        regular = Path(configured).expanduser()
        if not regular.is_file():
            raise ReportFontMissing(
                f"BANKDESK_REPORT_FONT names {regular}, which does not exist; point it at a "
                f"CJK font file or unset it and {INSTALL_HINT}",
                field="BANKDESK_REPORT_FONT",
            )
        bold = regular.with_name(regular.name.replace("Regular", "Bold"))
        return regular, bold if bold.is_file() else regular
    for installed, installed_bold in FONT_CANDIDATES:
        if not installed.is_file():
            continue
        if installed_bold is not None and installed_bold.is_file():
            return installed, installed_bold
        return installed, installed
    raise ReportFontMissing(
        f"no CJK font found for the report PDF; {INSTALL_HINT}, or set BANKDESK_REPORT_FONT "
        "to a .ttf, .otf or .ttc file"
    )
