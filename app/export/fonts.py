"""Find a font that draws Chinese for matplotlib, on Linux, Windows and macOS.

Order: fonts installed on the system (Noto/Source Han, WenQuanYi, Microsoft YaHei, PingFang, …)
found through matplotlib's font manager, then the Noto Sans CJK SC that the ``mplfonts`` package
ships, if it is installed. Never a hard-coded path: the same code runs on a planner's laptop.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from core.errors import SchoolPlanError

# Family names as font_manager reports them; first match wins.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
    "Heiti SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
)

PROBE = "学校布局规划图小学初中高中"


@dataclass(frozen=True)
class CJKFont:
    family: str
    path: str


def _covers(path: str, text: str = PROBE) -> bool:
    try:
        font = FT2Font(path)
        return all(font.get_char_index(ord(ch)) for ch in text)
    except Exception:  # unreadable font file: not a candidate
        return False


def _weight(w) -> int:
    if isinstance(w, int):
        return w
    return font_manager.weight_dict.get(str(w), 400)


def _from_system() -> CJKFont | None:
    by_family: dict[str, str] = {}
    # Prefer the regular face's file (weights of one family share the name).
    for entry in sorted(
        font_manager.fontManager.ttflist, key=lambda e: abs(_weight(e.weight) - 400)
    ):
        by_family.setdefault(entry.name, entry.fname)
    for fam in CJK_FAMILIES:
        path = by_family.get(fam)
        if path and _covers(path):
            return CJKFont(fam, path)
    return None


def _rescan_system() -> CJKFont | None:
    # A font installed after matplotlib built its cache (e.g. apt-get during setup) is missing
    # from ttflist; add the files fontconfig-style directories hold instead of deleting caches.
    for path in font_manager.findSystemFonts():
        low = Path(path).name.lower()
        if any(k in low for k in ("noto", "cjk", "wqy", "msyh", "pingfang", "sourcehan", "simhei")):
            try:
                font_manager.fontManager.addfont(path)
            except Exception:  # broken font file: skip it
                continue
    return _from_system()


def _from_mplfonts() -> CJKFont | None:
    try:
        import mplfonts  # noqa: F401  (optional dependency: ships Noto Sans CJK SC)
    except ImportError:
        return None
    root = Path(mplfonts.__file__).parent / "fonts"
    for path in sorted(root.glob("*")):
        if path.suffix.lower() in (".otf", ".ttf", ".ttc") and _covers(str(path)):
            font_manager.fontManager.addfont(str(path))
            name = font_manager.FontProperties(fname=str(path)).get_name()
            return CJKFont(name, str(path))
    return None


@lru_cache(maxsize=1)
def find_cjk_font() -> CJKFont | None:
    """The first CJK font available, registered with matplotlib; None when there is none."""
    return _from_system() or _rescan_system() or _from_mplfonts()


def cjk_font_or_raise() -> CJKFont:
    font = find_cjk_font()
    if font is None:
        raise SchoolPlanError(
            "找不到中文字体,地图上的中文会显示为方框 / no Chinese font found",
            fix=(
                "安装中文字体:Debian/Ubuntu `apt-get install fonts-noto-cjk` 或 "
                "`fonts-wqy-microhei`,或 `pip install mplfonts` / install a CJK font"
            ),
        )
    return font


def font_families(lang: str = "zh") -> list[str]:
    """matplotlib font.family list: the CJK font first so Chinese and Latin share one face."""
    font = find_cjk_font()
    fams = [font.family] if font else []
    return fams + ["DejaVu Sans"]
