"""Write Qt ``.qm`` translation files from Python, for machines without ``lrelease``.

The format (Qt's ``translator.cpp``): a 16-byte magic, then blocks ``tag u8, length u32, data``.
We write two blocks: ``Hashes`` (sorted ``elfHash(source + comment)`` → offset pairs) and
``Messages`` (per message: translation as UTF-16BE, source text as UTF-8, end tag). Messages
carry no context tag, so a translation applies in every context: PyQt's ``self.tr`` uses the
run-time class name as context, which would otherwise break translations in subclasses.
"""

from __future__ import annotations

import struct
from pathlib import Path

MAGIC = bytes(
    [0x3C, 0xB8, 0x64, 0x18, 0xCA, 0xEF, 0x9C, 0x95, 0xCD, 0x21, 0x1C, 0xBF, 0x60, 0xA1, 0xBD, 0xDD]
)
TAG_HASHES, TAG_MESSAGES = 0x42, 0x69
TAG_END, TAG_TRANSLATION, TAG_SOURCE = 1, 3, 6


def elf_hash(data: bytes) -> int:
    """Qt's elfHash over the UTF-8 bytes of source text + comment (0 is mapped to 1)."""
    h = 0
    for byte in data:
        h = ((h << 4) + byte) & 0xFFFFFFFF
        g = h & 0xF0000000
        if g:
            h ^= g >> 24
        h &= ~g & 0xFFFFFFFF
    return h or 1


def qm_bytes(messages: dict[str, str]) -> bytes:
    """The .qm file content for {source text: translation} (no context, no comment)."""
    body = bytearray()
    index: list[tuple[int, int]] = []
    for source in sorted(messages):
        translation = messages[source]
        src = source.encode("utf-8")
        index.append((elf_hash(src), len(body)))
        tr = translation.encode("utf-16-be")
        body += struct.pack(">BI", TAG_TRANSLATION, len(tr)) + tr
        body += struct.pack(">BI", TAG_SOURCE, len(src)) + src
        body += struct.pack(">B", TAG_END)
    index.sort()
    hashes = b"".join(struct.pack(">II", h, off) for h, off in index)
    return (
        MAGIC
        + struct.pack(">BI", TAG_HASHES, len(hashes))
        + hashes
        + struct.pack(">BI", TAG_MESSAGES, len(body))
        + bytes(body)
    )


def write_qm(messages: dict[str, str], path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(qm_bytes(messages))
    return path
