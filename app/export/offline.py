"""Turn a folium page into one self-contained HTML file that fetches nothing when opened.

Leaflet (JS, CSS, marker images as data URIs) comes from the ``xstatic-leaflet`` package and
jQuery (folium's popups use it) from ``xstatic-jquery``: exactly the versions folium 0.20 links.
Other CDN assets folium adds by default (Bootstrap, Font Awesome, awesome-markers) are dropped:
the plan map does not use them. Any other external reference left in the page is an error, so a
new folium version or plugin cannot silently make a "offline" map that needs the internet.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

import xstatic.pkg.jquery as xstatic_jquery
import xstatic.pkg.leaflet as xstatic_leaflet

from core.errors import SchoolPlanError

# The asset folium 0.20 links, by the file name at the end of its URL.
_INLINE_JS = {
    "leaflet.js": ("leaflet", "leaflet.js"),
    "jquery-3.7.1.min.js": ("jquery", "jquery.min.js"),
}
_INLINE_CSS = {"leaflet.css": ("leaflet", "leaflet.css")}
_DROP = (
    "bootstrap.bundle.min.js",
    "leaflet.awesome-markers.js",
    "bootstrap.min.css",
    "bootstrap-glyphicons.css",
    "all.min.css",
    "leaflet.awesome-markers.css",
    "leaflet.awesome.rotate.min.css",
)

_SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"'][^>]*>\s*</script>", re.I)
_LINK_HREF = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']([^\"']+)[\"'][^>]*/?>", re.I)
_CSS_URL = re.compile(r"url\(\s*[\"']?([^\"')]+)[\"']?\s*\)", re.I)
# References a browser would fetch: src/href/srcset/poster/data attributes, CSS url(), @import.
_FETCHING = re.compile(
    r"(?:<(?:script|img|iframe|link|source|video|audio|embed|object)\b[^>]*\b(?:src|href|srcset|poster|data)\s*=\s*[\"']?\s*"
    r"(?P<a>(?:https?:)?//[^\"'\s>]+))"
    r"|(?:url\(\s*[\"']?(?P<b>(?:https?:)?//[^\"')]+))"
    r"|(?:@import\s+[\"']?(?P<c>(?:https?:)?//[^\"';]+))"
    r"|(?:L\.tileLayer\(\s*[\"'](?P<d>[^\"']+))",
    re.I,
)


class OfflineError(SchoolPlanError):
    """The page still references something outside the file."""


def _pkg_dir(name: str) -> Path:
    return Path((xstatic_leaflet if name == "leaflet" else xstatic_jquery).BASE_DIR)


@cache
def _asset(pkg: str, fname: str) -> str:
    path = _pkg_dir(pkg) / fname
    if not path.exists():
        raise OfflineError(
            f"缺少离线地图资源 {fname} / offline asset missing: {path}",
            fix="pip install xstatic-leaflet==1.9.3.0 xstatic-jquery==3.7.1.1",
        )
    return path.read_text(encoding="utf-8")


def _data_uri(path: Path) -> str:
    mime = "image/png" if path.suffix == ".png" else "image/svg+xml"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@cache
def leaflet_css_inline() -> str:
    """leaflet.css with its images as data URIs."""
    base = _pkg_dir("leaflet")

    def repl(m: re.Match) -> str:
        ref = m.group(1)
        if ref.startswith(("data:", "#")):
            return m.group(0)
        return f'url("{_data_uri(base / ref)}")'

    return _CSS_URL.sub(repl, _asset("leaflet", "leaflet.css"))


@cache
def _default_icon_script() -> str:
    # Leaflet guesses the marker image folder from the CSS; with data URIs there is no folder,
    # so hand it the images directly (only used if someone adds a default L.marker).
    img = _pkg_dir("leaflet") / "images"
    return (
        "L.Icon.Default.imagePath='';L.Icon.Default.mergeOptions({"
        f"iconUrl:'{_data_uri(img / 'marker-icon.png')}',"
        f"iconRetinaUrl:'{_data_uri(img / 'marker-icon-2x.png')}',"
        f"shadowUrl:'{_data_uri(img / 'marker-shadow.png')}'}});"
    )


def _script(code: str) -> str:
    return "<script>" + code.replace("</script", "<\\/script") + "</script>"


def external_refs(html: str) -> list[str]:
    """Every reference in ``html`` that a browser would fetch from outside the file."""
    out = []
    for m in _FETCHING.finditer(html):
        ref = next(g for g in m.groups() if g)
        if not ref.startswith("data:"):
            out.append(ref)
    return out


def make_offline(html: str, *, allow: tuple[str, ...] = ()) -> str:
    """Inline Leaflet and jQuery, drop unused CDN assets, and check nothing external is left.

    ``allow`` lists references that may stay (the optional online tile layer's URL template):
    the map works without them.
    """

    def js(m: re.Match) -> str:
        name = m.group(1).rsplit("/", 1)[-1]
        if name in _INLINE_JS:
            code = _asset(*_INLINE_JS[name])
            extra = _default_icon_script() if name == "leaflet.js" else ""
            return _script(code + "\n" + extra)
        if name in _DROP:
            return ""
        return m.group(0)  # unknown: left for the check below to report

    def css(m: re.Match) -> str:
        tag = m.group(0)
        if "stylesheet" not in tag.lower():
            return tag
        name = m.group(1).rsplit("/", 1)[-1]
        if name in _INLINE_CSS:
            return "<style>" + leaflet_css_inline() + "</style>"
        if name in _DROP:
            return ""
        return tag

    out = _SCRIPT_SRC.sub(js, html)
    out = _LINK_HREF.sub(css, out)
    left = [r for r in external_refs(out) if r not in allow]
    if left:
        raise OfflineError(
            "离线地图仍引用外部资源 / the offline map still references external files",
            fix="去掉这些资源或在 app/export/offline.py 中内嵌 / inline or drop: "
            + ", ".join(sorted(set(left))),
        )
    return out


def save_offline(fmap, path: str | Path, *, allow: tuple[str, ...] = ()) -> Path:
    """Render a folium map and write it as one self-contained UTF-8 HTML file."""
    html = fmap.get_root().render()
    path = Path(path)
    path.write_text(make_offline(html, allow=allow), encoding="utf-8")
    return path
