"""Pure rules of the vault: document names, categories and labels, the allowed file types."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

import puremagic

from kluis.errors import AppError, Invalid

if TYPE_CHECKING:
    from idp_bridge import Person
from kluis.text import N_

CATEGORIES = (
    "personal-info",
    "family",
    "my-home",
    "real-estate",
    "finances",
    "professional-life",
    "possessions",
    "health",
)
MAX_NAME = 255
MAX_LABEL = 50
MAX_LABELS = 20
SNIFF_BYTES = 8192

# PRODUCT.md's allow-list, by extension. Each maps to the extensions content sniffing may
# report for it: both must agree. `None` marks text formats, which have no magic number
# and are sniffed as text instead.
ALLOWED: dict[str, frozenset[str] | None] = {
    "7z": frozenset({"7z"}),
    "ai": frozenset({"ai", "pdf", "eps", "ps"}),
    "bmp": frozenset({"bmp", "dib"}),
    "csv": None,
    "doc": frozenset({"doc", "dot", "xls", "ppt", "msg", "ole"}),
    "docx": frozenset({"docx", "zip"}),
    "gif": frozenset({"gif"}),
    "gz": frozenset({"gz", "tgz", "tar.gz"}),
    "heic": frozenset({"heic", "heif", "avif", "mp4", "mov"}),
    "jpg": frozenset({"jpg", "jpeg", "jfif"}),
    "jpeg": frozenset({"jpg", "jpeg", "jfif"}),
    "md": None,
    "odp": frozenset({"odp", "zip"}),
    "ods": frozenset({"ods", "zip"}),
    "odt": frozenset({"odt", "zip"}),
    "pdf": frozenset({"pdf"}),
    "png": frozenset({"png"}),
    "ppt": frozenset({"ppt", "doc", "xls", "ole"}),
    "pptx": frozenset({"pptx", "zip"}),
    "psd": frozenset({"psd"}),
    "rar": frozenset({"rar"}),
    "raw": frozenset({"raw", "tif", "tiff", "nef", "cr2", "arw", "dng", "orf"}),
    "rtf": frozenset({"rtf"}),
    "tar": frozenset({"tar"}),
    "tif": frozenset({"tif", "tiff"}),
    "tiff": frozenset({"tif", "tiff"}),
    "ttf": frozenset({"ttf"}),
    "txt": None,
    "vsd": frozenset({"vsd", "doc", "xls", "ppt", "ole"}),
    "vsdx": frozenset({"vsdx", "zip"}),
    "xls": frozenset({"xls", "doc", "ppt", "ole"}),
    "xlsx": frozenset({"xlsx", "zip"}),
    "zip": frozenset({"zip"}),
    "avi": frozenset({"avi"}),
    "css": None,
    "dot": frozenset({"dot", "doc", "ole"}),
    "dotx": frozenset({"dotx", "zip"}),
    "dwg": frozenset({"dwg"}),
    "dxf": None,
    "eps": frozenset({"eps", "ps", "ai"}),
    "eml": None,
    "emf": frozenset({"emf"}),
    "html": None,
    "htm": None,
    "json": None,
    "log": None,
    "mov": frozenset({"mov", "mp4", "m4v", "qt"}),
    "mp3": frozenset({"mp3"}),
    "mp4": frozenset({"mp4", "m4v", "m4a", "mov"}),
    "mpeg": frozenset({"mpeg", "mpg", "mp2", "mp3"}),
    "mpg": frozenset({"mpeg", "mpg", "mp2"}),
    "msg": frozenset({"msg", "doc", "ole"}),
    "oft": frozenset({"oft", "msg", "doc", "ole"}),
    "pot": frozenset({"pot", "ppt", "doc", "ole"}),
    "ps": frozenset({"ps", "eps", "ai"}),
    "svg": None,
    "wav": frozenset({"wav"}),
    "wmf": frozenset({"wmf"}),
    "xps": frozenset({"xps", "zip"}),
    "xltx": frozenset({"xltx", "zip"}),
    "xml": None,
}
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "txt": "text/plain",
    "csv": "text/csv",
    "json": "application/json",
    "xml": "application/xml",
    "html": "text/html",
    "htm": "text/html",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "zip": "application/zip",
}
# Office documents saved with a password are OLE2 containers holding an EncryptedPackage,
# whatever their extension says: they cannot be scanned.
OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
OOXML = {"docx", "xlsx", "pptx", "dotx", "xltx", "vsdx"}


class FileTypeNotAllowed(AppError):
    status = 415
    default_type = "file-type-not-allowed"
    default_message = N_("This type of file cannot be stored in the vault.")


class UnscannableContent(AppError):
    status = 422
    default_type = "unscannable-content"
    default_message = N_(
        "This file is encrypted or password-protected, so it cannot be checked for malware."
    )


def clean_name(name: str | None) -> str:
    """A document name a person can read and no file system can misread."""
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not name or name in {".", ".."}:
        raise Invalid("Please give the document a name.", type="document-name-invalid")
    if len(name) > MAX_NAME:
        raise Invalid("A document name has at most 255 characters.", type="document-name-too-long")
    if any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} for c in name) or any(
        c in name for c in "/\\"
    ):
        raise Invalid(
            "A document name cannot contain slashes or control characters.",
            type="document-name-invalid",
        )
    return name


def extension_of(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def check_extension(name: str) -> str:
    ext = extension_of(name)
    if ext not in ALLOWED:
        raise FileTypeNotAllowed(
            N_("Files of this type (%(ext)s) cannot be stored in the vault."),
            params={"ext": f".{ext}" if ext else "?"},
        )
    return ext


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut off at the end of the sniffed bytes is still text.
        if exc.start < len(head) - 3:
            return False
    return True


def check_content(ext: str, head: bytes) -> str:
    """Check the first bytes against the extension; returns the media type to store."""
    expected = ALLOWED[ext]
    if ext in OOXML and head.startswith(OLE2_MAGIC):
        raise UnscannableContent()
    if expected is None:
        if not _looks_like_text(head):
            raise FileTypeNotAllowed(
                N_("The content of this file does not match its extension (%(ext)s)."),
                params={"ext": f".{ext}"},
            )
        return MEDIA_TYPES.get(ext, "text/plain")
    try:
        found = {m.extension.lstrip(".").lower() for m in puremagic.magic_string(head)}
    except (puremagic.PureError, ValueError):
        found = set()
    if head.startswith(OLE2_MAGIC):
        found.add("ole")
    if not found & expected:
        raise FileTypeNotAllowed(
            N_("The content of this file does not match its extension (%(ext)s)."),
            params={"ext": f".{ext}"},
        )
    return MEDIA_TYPES.get(ext, "application/octet-stream")


def check_tags(categories: list[str], labels: list[str]) -> tuple[list[str], list[str]]:
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise Invalid("This category does not exist.", type="category-unknown")
    labels = [unicodedata.normalize("NFC", label.strip()) for label in labels if label.strip()]
    if len(labels) > MAX_LABELS or any(len(label) > MAX_LABEL for label in labels):
        raise Invalid("At most 20 labels of at most 50 characters each.", type="labels-invalid")
    if any(unicodedata.category(c) == "Cc" for label in labels for c in label):
        raise Invalid("Labels cannot contain control characters.", type="labels-invalid")
    return sorted(set(categories)), sorted(set(labels))


class QuotaExceeded(AppError):
    status = 413
    default_type = "quota-exceeded"
    default_message = N_("There is not enough room left in your vault for this file.")


class FileTooLarge(AppError):
    status = 413
    default_type = "file-too-large"
    default_message = N_("This file is larger than the vault accepts.")


class MalwareFound(AppError):
    status = 422
    default_type = "malware-found"
    default_message = N_("This file contains malware (%(signature)s) and was not stored.")


class UploadInterrupted(AppError):
    status = 400
    default_type = "upload-interrupted"
    default_message = N_("The upload was interrupted; nothing was stored.")


class DocumentDestroyed(AppError):
    """A document whose row a restored database backup brought back, though it was
    destroyed after that backup: its destruction marker says so (StorageEngine.destroy)."""

    status = 410
    default_type = "document-destroyed"
    default_message = N_("This document was destroyed and can no longer be opened.")


class VaultFrozen(AppError):
    status = 409
    default_type = "vault-frozen"
    default_message = N_("This vault is frozen: a death was recorded for its holder.")


def check_not_frozen(person: Person | None) -> None:
    """A vault whose holder was recorded as deceased takes nothing new (no upload, copy or
    share) until the notice is withdrawn or voided."""
    if person is not None and person.deceased_on is not None:
        raise VaultFrozen()


# -- contacts and shares ---------------------------------------------------------------

# A share takes effect now, or at the owner's death (the succession rules activate it).
SHARE_WHEN = ("now", "at_death")


def check_share_when(when: str) -> str:
    if when not in SHARE_WHEN:
        raise Invalid("A share takes effect now or at death.", type="share-when-invalid")
    return when
