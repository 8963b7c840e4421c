"""FormData (XHR) and its body: HTML's multipart/form-data encoding algorithm.

A request body made from a FormData is its entries encoded as multipart/form-data
(RFC 7578) with a fresh boundary, which the Content-Type names (Fetch, "extract a
body").  Entries are strings, or files: bytes with a filename and a type.
"""

from __future__ import annotations

import secrets

import attrs


@attrs.frozen
class File:
    """A File entry's value: its bytes, name and type (a File of the File API)."""

    data: bytes = attrs.field(converter=bytes)
    name: str = "blob"
    type: str = ""


class FormData:
    """XHR's FormData: an entry list of (name, string or File) pairs, in order."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str | File]] = []

    def append(self, name: str, value: str | bytes | File, filename: str | None = None) -> None:
        """Append an entry: a string, or a file (bytes are a Blob, named *filename* or
        "blob", as XHR's "create an entry" names them)."""
        if not isinstance(name, str):
            raise TypeError(f"FormData.append(): the name must be a string, not {name!r}")
        if isinstance(value, str):
            if filename is not None:
                raise TypeError("FormData.append(): a filename needs a Blob or File value")
            self.entries.append((name, value))
            return
        if isinstance(value, bytes | bytearray | memoryview):
            value = File(bytes(value), filename if filename is not None else "blob")
        elif not isinstance(value, File):
            raise TypeError(f"FormData.append(): {type(value).__name__} is not a string or file")
        elif filename is not None:
            value = attrs.evolve(value, name=filename)
        self.entries.append((name, value))

    def __repr__(self) -> str:
        return f"<FormData {[name for name, _ in self.entries]}>"


def _escape(name: str) -> str:
    """HTML's escaping of a field name or filename in a Content-Disposition header."""
    return name.replace("\n", "%0A").replace("\r", "%0D").replace('"', "%22")


def _normalize_newlines(value: str) -> str:
    """CR, LF and CRLF become CRLF (HTML's "convert to a list of name-value pairs")."""
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def multipart_form_data(form: FormData, boundary: str | None = None) -> tuple[bytes, str]:
    """HTML's multipart/form-data encoding algorithm (UTF-8): the bytes and the boundary."""
    boundary = boundary or f"----bgfetchFormBoundary{secrets.token_hex(12)}"
    out = bytearray()
    for name, value in form.entries:
        out += f"--{boundary}\r\n".encode()
        disposition = f'Content-Disposition: form-data; name="{_escape(_normalize_newlines(name))}"'
        if isinstance(value, File):
            out += f'{disposition}; filename="{_escape(value.name)}"\r\n'.encode()
            out += f"Content-Type: {value.type or 'application/octet-stream'}\r\n\r\n".encode()
            out += value.data
        else:
            out += f"{disposition}\r\n\r\n".encode() + _normalize_newlines(value).encode()
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), boundary
