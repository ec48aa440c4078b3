"""Uploaded files: checked by content, stored by content hash, served only through views.

A file's own name never takes part in where it is written or read: the storage path is the
SHA-256 of its bytes, in a folder outside every static folder.

A file is checked whole from the upload's stream and nothing of it is extracted to disk: images
are decoded, PDFs parsed, OOXML/ODF zips inspected member by member with every size capped.
An accepted file is staged next to its place and fsynced before the database commits (so a full
disk refuses the upload before anything is saved), and moved into place only when the session's
transaction commits; a rollback deletes it. This is the only way files are stored.
"""
import errno
import hashlib
import io
import logging
import math
import os
import re
import secrets
import shutil
import struct
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

from models.base import N_, Refusal, db

log = logging.getLogger(__name__)

# What the section accepts, recognised from the bytes themselves.
PDF, DOCX, XLSX, ODT, JPEG, PNG = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "image/jpeg",
    "image/png",
)
ACCEPTED = frozenset({PDF, DOCX, XLSX, ODT, JPEG, PNG})
# The types a browser shows inline (the document preview); the rest are only downloaded.
PREVIEWABLE = frozenset({PDF, PNG, JPEG})
KIND_NAMES = {PDF: "PDF", DOCX: "DOCX", XLSX: "XLSX", ODT: "ODT", JPEG: "JPEG", PNG: "PNG"}
# The parts each zip-based kind must have.
REQUIRED_PARTS = {DOCX: ("[Content_Types].xml", "word/document.xml"),
                  XLSX: ("[Content_Types].xml", "xl/workbook.xml"),
                  ODT: ("mimetype", "content.xml")}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMAGE_MAX_PIXELS = 50_000_000  # a 600 dpi A4 scan is 35 million; decoding is ~3 bytes a pixel
ZIP_MAX_MEMBERS = 2000
ZIP_MAX_DIRECTORY_BYTES = 4 * 1024 * 1024
ZIP_MIN_EXPANDED_LIMIT = 100 * 1024 * 1024  # or five times the upload limit, whichever is larger
ZIP_MAX_RATIO = 100
ZIP_RATIO_FROM = 64 * 1024  # below this a member cannot hurt, whatever its ratio
CHUNK = 1024 * 1024
MIB = 1024 * 1024

# Tags a browser would take for a web page; looked for at both ends of images and PDFs.
MARKUP = re.compile(rb"<\s*(?:!doctype|html|head|body|script|iframe|object|embed|svg|style|meta|link|form|"
                    rb"frameset|title)[\s>/]", re.IGNORECASE)

NOT_ACCEPTED = N_("This file is not a PDF, DOCX, XLSX, ODT, JPEG or PNG document "
                  "(checked by its content, not its name).")
DAMAGED_IMAGE = N_("The image is damaged or incomplete; save it again as JPEG or PNG and upload it again.")
DAMAGED_PDF = N_("The PDF is damaged or cannot be read; save or print it again as PDF and upload it again.")
DAMAGED_ZIP = N_("The %(kind)s file is damaged or incomplete; save it again and upload it again.")


class UploadRefused(Refusal):
    """Why a file was not accepted."""


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int
    type: str
    sha256: str


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


def safe_type(stored_type: str | None) -> str:
    """The content type to serve a stored file with: its checked type, never anything a browser renders."""
    return stored_type if stored_type in ACCEPTED else "application/octet-stream"


def _megabytes(size: int) -> str:
    """Rounded up, so a file just over the limit never reads as the limit itself."""
    return f"{math.ceil(size * 10 / MIB) / 10:.1f}"


def accept(name: str | None, content: bytes | BinaryIO, max_bytes: int, *,
           session: Session | scoped_session | None = None) -> StoredFile:
    """Check an upload and stage it to be stored when `session` (default: db.session) commits.

    `content` is the bytes or a seekable binary stream (an upload's FileStorage.stream). Raises
    UploadRefused, with nothing written, when the file is not accepted or cannot be written.
    """
    display_name = _safe_display_name(name)
    stream = io.BytesIO(content) if isinstance(content, (bytes, bytearray)) else content
    stream.seek(0, io.SEEK_END)
    size = stream.tell()  # from the stream's end: never more of it read into memory than the checks need
    stream.seek(0)
    if not size:
        raise UploadRefused(N_("The file is empty."))
    if size > max_bytes:
        raise UploadRefused(N_("The file is %(size)s MB; the limit is %(limit)s MB."),
                            size=_megabytes(size), limit=max_bytes // MIB)
    kind = check_content(stream, size, max_bytes)
    digest = _sha256(stream)
    _stage(db.session if session is None else session, stream, digest)
    return StoredFile(name=display_name, size=size, type=kind, sha256=digest)


def attach_upload(document, upload, max_bytes: int, *,
                  session: Session | scoped_session | None = None) -> StoredFile | None:
    """Check an uploaded file (a Werkzeug FileStorage) and stage it, then fill `document`'s file
    columns (name, size, type, SHA-256) from it: one way for every screen that files a document.

    Returns None, changing nothing, when no file was chosen. Raises UploadRefused, with nothing
    written, when the file is not accepted; the file is stored only when `session` commits.
    """
    if upload is None or not upload.filename:
        return None
    stored = accept(upload.filename, upload.stream, max_bytes, session=session)
    document.file_name, document.file_size = stored.name, stored.size
    document.file_type, document.file_sha256 = stored.type, stored.sha256
    return stored


# -- content ------------------------------------------------------------------------------------------
def check_content(stream: BinaryIO, size: int, max_bytes: int) -> str:
    """The accepted type the whole stream really is; raises UploadRefused otherwise."""
    stream.seek(0)
    head = stream.read(8)
    if head.startswith(b"%PDF-"):
        kind = PDF
        _check_markup(stream, size)
        _check_pdf(stream)
    elif head.startswith(b"\xff\xd8\xff") or head.startswith(PNG_SIGNATURE):
        kind = JPEG if head.startswith(b"\xff\xd8\xff") else PNG
        _check_markup(stream, size)
        _check_image(stream, size, kind)
    elif head.startswith(b"PK\x03\x04"):
        kind = _check_zip(stream, size, max(ZIP_MIN_EXPANDED_LIMIT, 5 * max_bytes))
    else:
        raise UploadRefused(NOT_ACCEPTED)
    stream.seek(0)
    return kind


@contextmanager
def _parsing(refusal: UploadRefused):
    """Parsers of hostile bytes fail in many ways; any failure means the file is refused."""
    try:
        yield
    except UploadRefused:
        raise
    except Exception as error:  # noqa: BLE001 - see the docstring
        log.info("upload refused: %s: %r", refusal.reason, error)
        raise refusal from error


def _check_markup(stream: BinaryIO, size: int) -> None:
    stream.seek(0)
    head = stream.read(1024)
    stream.seek(max(0, size - 1024))
    if MARKUP.search(head) or MARKUP.search(stream.read(1024)):
        raise UploadRefused(N_("The file contains web page markup (HTML) and is not accepted."))


def _check_image(stream: BinaryIO, size: int, kind: str) -> None:
    """Decoded in full by Pillow, within the pixel cap, and nothing after the image's end."""
    formats = ["PNG"] if kind == PNG else ["JPEG"]
    with _parsing(UploadRefused(DAMAGED_IMAGE)):
        try:
            stream.seek(0)
            with Image.open(stream, formats=formats) as image:
                width, height = image.size
                if width * height > IMAGE_MAX_PIXELS:
                    raise Image.DecompressionBombError
                image.verify()  # chunk checksums and structure; the image cannot be used after it
            stream.seek(0)
            with Image.open(stream, formats=formats) as image:
                image.load()  # every pixel decoded: a truncated or corrupt image fails here
        except Image.DecompressionBombError as error:
            raise UploadRefused(N_("The image is too large to check (more than %(limit)s million pixels); "
                                   "save it at a lower resolution and upload it again."),
                                limit=IMAGE_MAX_PIXELS // 1_000_000) from error
        end = _png_end(stream) if kind == PNG else _jpeg_end(stream)
        if end > size:
            raise ValueError("truncated")
    if end < size:
        raise UploadRefused(N_("The file has data after the end of the image; save it again as JPEG or PNG "
                               "and upload it again."))


def _png_end(stream: BinaryIO) -> int:
    """The offset just past the IEND chunk."""
    stream.seek(len(PNG_SIGNATURE))
    while True:
        header = stream.read(8)
        length, chunk_type = struct.unpack(">I4s", header)
        end = stream.seek(length + 4, io.SEEK_CUR)  # data and CRC
        if chunk_type == b"IEND":
            return end


def _jpeg_end(stream: BinaryIO) -> int:
    """The offset just past the first image's EOI marker, walking the segments and the scans."""
    stream.seek(0)
    data = stream.read()
    position = 2  # after SOI
    while True:
        if data[position] != 0xFF:
            raise ValueError("no marker")
        while data[position] == 0xFF:  # fill bytes
            position += 1
        marker = data[position]
        position += 1
        if marker == 0xD9:  # EOI
            return position
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            continue
        length = int.from_bytes(data[position:position + 2], "big")
        if length < 2:
            raise ValueError("bad segment length")
        position += length
        if marker == 0xDA:  # a scan: entropy-coded data runs to the next marker that is not a stuffed byte or RST
            while True:
                position = data.index(b"\xff", position)
                following = data[position + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    position += 2
                elif following == 0xFF:
                    position += 1
                else:
                    break


def _check_pdf(stream: BinaryIO) -> None:
    """Parsed by pypdf, at least one page, and no JavaScript or launch actions."""
    with _parsing(UploadRefused(DAMAGED_PDF)):
        stream.seek(0)
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted:
            try:
                decrypted = reader.decrypt("")
            except Exception:  # noqa: BLE001 - an encryption pypdf cannot open is a password we do not have
                decrypted = 0
            if not decrypted:
                raise UploadRefused(N_("The PDF is protected with a password; upload a copy without a password."))
        if len(reader.pages) < 1:
            raise UploadRefused(N_("The PDF has no pages."))
        if _has_active_content(reader):
            raise UploadRefused(N_("The PDF contains scripts or actions that start programs; print it again as "
                                   "PDF without them and upload it again."))


def _has_active_content(reader: PdfReader, limit: int = 500_000) -> bool:
    """Whether any object reachable from the trailer holds JavaScript or a launch action."""
    seen, pending = set(), [reader.trailer]
    while pending:
        value = pending.pop()
        if isinstance(value, IndirectObject):
            if (value.idnum, value.generation) in seen:
                continue
            seen.add((value.idnum, value.generation))
            if len(seen) > limit:
                raise ValueError("too many objects")
            value = value.get_object()
        if isinstance(value, DictionaryObject):  # streams too: their dictionary, never their data
            for key, item in value.items():
                if key in ("/JS", "/JavaScript") or (key == "/S" and item in ("/JavaScript", "/Launch")):
                    return True
                pending.append(item)
        elif isinstance(value, ArrayObject):
            pending.extend(value)
    return False


def _check_zip(stream: BinaryIO, size: int, expanded_limit: int) -> str:
    """An OOXML or ODF zip: bounded directory, safe member names, capped sizes, the parts its kind
    must have, no macros, and every member inflated (never to disk) to exactly its declared size."""
    _check_zip_directory_size(stream, size)
    with _parsing(UploadRefused(NOT_ACCEPTED)):
        archive = zipfile.ZipFile(stream)
    members = archive.infolist()
    if len(members) > ZIP_MAX_MEMBERS:
        raise _too_many_parts(len(members))
    names = [member.filename for member in members]
    for name in names:
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0] or "\x00" in name:
            raise UploadRefused(N_("The document contains a part with an unsafe name (%(name)s)."), name=repr(name))
    if len(set(names)) != len(names):
        raise UploadRefused(NOT_ACCEPTED)
    expanded = sum(member.file_size for member in members)
    if expanded > expanded_limit:
        raise UploadRefused(N_("The document expands to %(size)s MB when opened; the limit is %(limit)s MB."),
                            size=_megabytes(expanded), limit=expanded_limit // MIB)
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > ZIP_RATIO_FROM and ratio > ZIP_MAX_RATIO:
            raise UploadRefused(N_("A part of the document is compressed %(ratio)s times; the limit is %(limit)s "
                                   "times (a zip bomb)."), ratio=int(ratio), limit=ZIP_MAX_RATIO)
    kind = _zip_kind(archive, members)
    damaged = UploadRefused(DAMAGED_ZIP, kind=KIND_NAMES[kind])
    missing = [part for part in REQUIRED_PARTS[kind] if part not in names]
    if kind == ODT and names[0] != "mimetype":
        missing.insert(0, "mimetype")  # ODF: the first entry, so the type is readable at a fixed offset
    if missing:
        raise UploadRefused(N_("The %(kind)s file is incomplete: it lacks %(parts)s."),
                            kind=KIND_NAMES[kind], parts=", ".join(missing))
    if any(name.rsplit("/", 1)[-1].lower() == "vbaproject.bin" for name in names):
        raise UploadRefused(N_("The document contains macros; save it as a document without macros and "
                               "upload it again."))
    with _parsing(damaged):
        for member in members:
            _inflate(stream, member, damaged)
    return kind


def _too_many_parts(count) -> UploadRefused:
    return UploadRefused(N_("The document has too many parts (%(count)s); the limit is %(limit)s."),
                         count=count, limit=ZIP_MAX_MEMBERS)


def _check_zip_directory_size(stream: BinaryIO, size: int) -> None:
    """The end record's member count and directory size, read before zipfile parses the directory."""
    stream.seek(max(0, size - 65536 - 22))
    tail = stream.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        raise UploadRefused(NOT_ACCEPTED)
    count, directory_bytes = struct.unpack("<HI", tail[at + 10:at + 16])
    if count == 0xFFFF or count > ZIP_MAX_MEMBERS or directory_bytes > ZIP_MAX_DIRECTORY_BYTES:
        raise _too_many_parts(count)


def _zip_kind(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> str:
    names = {member.filename: member for member in members}
    mimetype = names.get("mimetype")
    if mimetype is not None and mimetype.file_size <= 100:
        with _parsing(UploadRefused(NOT_ACCEPTED)):
            if archive.read(mimetype).strip() == ODT.encode():
                return ODT
    if "[Content_Types].xml" in names:
        if any(name.startswith("word/") for name in names):
            return DOCX
        if any(name.startswith("xl/") for name in names):
            return XLSX
    raise UploadRefused(NOT_ACCEPTED)


def _inflate(stream: BinaryIO, member: zipfile.ZipInfo, damaged: UploadRefused) -> None:
    """Read a member's data in capped chunks: it must inflate to exactly its declared size and CRC.

    The member's own bytes are read here rather than through zipfile, which stops at the declared
    size: a member whose directory entry understates what its data inflates to is refused.
    """
    if member.flag_bits & 0x1 or member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise damaged  # encrypted, or a method no OOXML/ODF writer uses
    stream.seek(member.header_offset)
    header = stream.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise damaged
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    stream.seek(member.header_offset + 30 + name_length + extra_length)
    inflater = zlib.decompressobj(-15) if member.compress_type == zipfile.ZIP_DEFLATED else None
    left, produced, crc = member.compress_size, 0, 0
    while left > 0:
        raw = stream.read(min(CHUNK, left))
        if not raw:
            raise damaged
        left -= len(raw)
        while raw:
            if inflater is None:
                data, raw = raw, b""
            else:
                data = inflater.decompress(raw, CHUNK)
                raw = inflater.unconsumed_tail
            produced += len(data)
            if produced > member.file_size:
                raise damaged
            crc = zlib.crc32(data, crc)
    if (inflater is not None and not inflater.eof) or produced != member.file_size or crc != member.CRC:
        raise damaged


def _sha256(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


# -- storage: staged before the commit, in place after it -------------------------------------------
STAGED = "admin_app.files.staged"  # session.info key: [(staged path, final path)]


def _stage(session: Session | scoped_session, stream: BinaryIO, digest: str) -> None:
    """Write the bytes next to their place and fsync them; they move into place when `session` commits."""
    if isinstance(session, scoped_session):
        session = session()  # the real session: listeners on a scoped_session would apply to every session
    target = path_for(digest)
    if os.path.exists(target):
        return  # the same content is already stored
    staged = f"{target}.{secrets.token_hex(8)}.part"
    try:
        # Only the file's own subfolder is made: a missing storage folder (the shared one, not
        # mounted) refuses the upload rather than keeping it on this server alone.
        try:
            os.mkdir(os.path.dirname(target))
        except FileExistsError:
            pass
        with open(staged, "xb") as handle:
            stream.seek(0)
            shutil.copyfileobj(stream, handle, CHUNK)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        _remove(staged)
        log.error("upload not stored: %s", error)
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise UploadRefused(N_("There is not enough space to store the file; nothing was saved. "
                                   "Tell the administrator.")) from error
        raise UploadRefused(N_("The file could not be stored; nothing was saved. Try again, and tell the "
                               "administrator if it happens again.")) from error
    if not session.in_transaction():
        session.begin()  # so that its end, commit or not, always settles the staged file
    _staged_files(session).append((staged, target))


def _staged_files(session: Session) -> list[tuple[str, str]]:
    staged = session.info.get(STAGED)
    if staged is None:
        staged = session.info[STAGED] = []
        event.listen(session, "after_commit", _store_staged)
        event.listen(session, "after_transaction_end", _discard_staged)
    return staged


def _store_staged(session: Session) -> None:
    """After the commit: every staged file to its place (a rename in one folder; it needs no space)."""
    if session.in_nested_transaction():
        return  # a savepoint was released; the outer transaction still decides
    staged = session.info.get(STAGED, [])
    while staged:
        path, target = staged.pop()
        try:
            os.replace(path, target)
            _fsync_folder(os.path.dirname(target))
        except OSError:
            # The record is committed; failing the request now would report a saved record as lost.
            log.exception("committed file %s could not be moved into place from %s", target, path)


def _discard_staged(session: Session, transaction) -> None:
    """When the outermost transaction ends without a commit (rollback, close, failed commit)."""
    if transaction.parent is not None:
        return
    staged = session.info.get(STAGED, [])
    while staged:
        _remove(staged.pop()[0])


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError:
        log.exception("staged file %s could not be removed", path)


def _fsync_folder(folder: str) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
