"""Uploaded files: checked by content, stored by content hash, served only through views.

A file's own name never takes part in where it is written or read: the storage path is the
SHA-256 of its bytes, in a folder outside every static folder.
"""
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass

from flask import current_app

from models.base import N_, Refusal

# What the section accepts, recognised from the bytes themselves.
PDF, DOCX, XLSX, ODT, JPEG, PNG = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "image/jpeg",
    "image/png",
)


class UploadRefused(Refusal):
    """Why a file was not accepted."""


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int
    type: str
    sha256: str


def sniff(data: bytes) -> str | None:
    """The accepted type these bytes really are, or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                if "mimetype" in names and archive.read("mimetype").strip() == ODT.encode():
                    return ODT
                if "[Content_Types].xml" in names:
                    if any(name.startswith("word/") for name in names):
                        return DOCX
                    if any(name.startswith("xl/") for name in names):
                        return XLSX
        except zipfile.BadZipFile:
            return None
    return None


def _safe_display_name(name: str | None) -> str:
    """The name shown and offered on download; a name that tries to be a path is refused."""
    name = (name or "").strip()
    if not name or "/" in name or "\\" in name or ".." in name or any(ord(c) < 32 for c in name) or len(name) > 255:
        raise UploadRefused(N_("The file name %(name)s is not allowed; rename the file and upload it again."),
                            name=repr(name))
    return name


def storage_root() -> str:
    return current_app.config["UPLOAD_FOLDER"]


def path_for(sha256: str) -> str:
    """Where the file with this hash lives; the hash is checked to be 64 hex digits."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256")
    return os.path.join(storage_root(), sha256[:2], sha256)


def accept(name: str | None, data: bytes, max_bytes: int) -> StoredFile:
    """Check an upload and store it; raises UploadRefused and writes nothing when it is refused."""
    display_name = _safe_display_name(name)
    if not data:
        raise UploadRefused(N_("The file is empty."))
    if len(data) > max_bytes:
        raise UploadRefused(N_("The file is %(size)s MB; the limit is %(limit)s MB."),
                            size=f"{len(data) / 1048576:.1f}", limit=max_bytes // 1048576)
    kind = sniff(data)
    if kind is None:
        raise UploadRefused(N_("This file is not a PDF, DOCX, XLSX, ODT, JPEG or PNG document "
                               "(checked by its content, not its name)."))
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(digest)
    if not os.path.exists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        partial = f"{target}.{os.getpid()}.part"
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)  # never a half-written file under the final name
    return StoredFile(name=display_name, size=len(data), type=kind, sha256=digest)
