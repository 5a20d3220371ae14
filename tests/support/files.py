"""Test files, made at run time: harmless ones, and the ClamAV test signatures in disguise.

The EICAR string is kept hex-encoded so no scanner flags this source file itself.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

EICAR = bytes.fromhex(
    "58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152"
    "442d414e544956495255532d544553542d46494c452124482b482a"
)
CLAMAV_TESTFILES = Path("/usr/share/clamav-testfiles")


def pdf(body: bytes = b"Kluis test document") -> bytes:
    head = b"%PDF-1.4\n1 0 obj << /Length " + str(len(body)).encode() + b" >> stream\n"
    return head + body + b"\nendstream\n%%EOF\n"


def png() -> bytes:
    return bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def padded_zip(padding: int) -> bytes:
    """A small zip whose one member holds the EICAR string after `padding` zero bytes."""
    return zipped({"notes.txt": bytes(padding) + EICAR})


def docx() -> bytes:
    return zipped(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
            "word/document.xml": b"<w:document/>",
        }
    )


def tar_gz(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def nested_zip(depth: int) -> bytes:
    """A zip in a zip in a zip…, deeper than clamd will follow."""
    data = b"deep"
    for level in range(depth):
        data = zipped({f"level{level}.zip" if level else "inner.txt": data})
    return data


def crowded_zip(entries: int) -> bytes:
    return zipped({f"f{i}.txt": b"" for i in range(entries)})


def encrypted_zip() -> bytes:
    """A zip whose entries are flagged encrypted (general purpose bit 0), as a
    password-protected archive is: clamd cannot look inside."""
    data = bytearray(zipped({"secret.txt": b"x" * 100}))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at != -1:
            data[at + flag_offset] |= 0x01
            at = data.find(signature, at + 4)
    return bytes(data)


def password_protected_xlsx() -> bytes:
    """An Office file saved with a password is an OLE2 container, not a zip."""
    return bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504 + b"EncryptedPackage"


def testfile(name: str) -> bytes:
    return (CLAMAV_TESTFILES / name).read_bytes()
