"""Reading a merchant's JSON body without trusting it: type, size, depth, then text.

Each refusal names what was wrong (and the field, where there is one) and is
answered with a 4xx by the API; nothing here can raise anything else. The depth
is measured by a flat scan before ``json.loads`` runs, so a body nested 100,000
levels deep is refused without recursing into it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest

# Far more than any checkout session needs; the server reads no more than this.
MAX_BODY_BYTES = 64 * 1024
# {"line_items": [{"name": ...}]} is 3 deep; metadata is a flat object (2).
MAX_DEPTH = 4


class BodyRefused(Exception):
    """The request body cannot be used; ``status`` is the 4xx to answer with."""

    def __init__(self, status: int, type_: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.param = param


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    """The body as a dict, or BodyRefused (415, 413 or 400)."""
    _check_content_type(request)
    raw = _read_limited(request)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyRefused(400, "invalid_json", "The body is not UTF-8.") from None
    check_depth(text)
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise BodyRefused(400, "invalid_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BodyRefused(400, "invalid_request", "The body must be a JSON object.")
    check_text(data)
    return data


def _check_content_type(request: HttpRequest) -> None:
    charset = (request.content_params or {}).get("charset", "utf-8").lower()
    if request.content_type != "application/json" or charset not in ("utf-8", "utf8"):
        raise BodyRefused(
            415, "unsupported_media_type", "Send the body as 'Content-Type: application/json'."
        )


def _read_limited(request: HttpRequest) -> bytes:
    too_large = BodyRefused(
        413, "request_too_large", f"The body is larger than {MAX_BODY_BYTES} bytes."
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BodyRefused(400, "invalid_request", "The Content-Length is not a number.") from None
    if declared > MAX_BODY_BYTES:
        raise too_large
    # read() stops at the declared length; the extra byte catches a body longer than that.
    raw = request.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise too_large
    return raw


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def check_depth(text: str, limit: int = MAX_DEPTH) -> None:
    """Refuse nesting deeper than ``limit``, naming the top-level field it is under.

    One pass over the characters (the body is at most MAX_BODY_BYTES), keeping
    track of strings so brackets inside them do not count.
    """
    depth = 0
    field: str | None = None
    in_string = escaped = False
    string_start = 0
    last_string = ""
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                last_string = text[string_start : index + 1]
        elif char == '"':
            in_string, string_start = True, index
        elif char in "[{":
            depth += 1
            if depth > limit:
                raise BodyRefused(
                    400,
                    "invalid_request",
                    f"The body is nested more than {limit} levels deep.",
                    param=field,
                )
        elif char in "]}":
            depth -= 1
        elif char == ":" and depth == 1:
            field = _decode_key(last_string)


def _decode_key(token: str) -> str | None:
    try:
        key = json.loads(token)
    except ValueError:
        return None
    return shown(key) if isinstance(key, str) else None


def shown(text: str) -> str:
    """A field name fit for an error message: control characters and surrogates escaped."""
    return json.dumps(text)[1:-1]


def check_text(data: Any) -> None:
    """Refuse NUL characters and unpaired surrogates in any key or string value.

    Neither can be stored (PostgreSQL refuses NUL; UTF-8 has no surrogates), so
    each is a 400 naming where it was, never a 500 from the database.
    """
    for raw_path, text in _strings(data, ""):
        path = shown(raw_path)
        if "\x00" in text:
            raise BodyRefused(
                400, "invalid_request", f"'{path}' contains a NUL character.", param=path
            )
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise BodyRefused(
                400, "invalid_request", f"'{path}' is not valid Unicode text.", param=path
            ) from None


def _strings(data: Any, path: str) -> Iterator[tuple[str, str]]:
    # The depth is already bounded by check_depth, so recursion here is shallow.
    if isinstance(data, str):
        yield path or "(body)", data
    elif isinstance(data, dict):
        for key, value in data.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, key
            yield from _strings(value, child)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _strings(value, f"{path}[{index}]")
