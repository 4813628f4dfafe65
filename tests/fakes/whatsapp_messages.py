"""Validation of a send (``POST /{phone_number_id}/messages``) the way the Cloud API does it.

Which code answers what: a parameter that is missing, of the wrong type or not one the API
takes answers code 100 (``(#100) The parameter text['body'] is required.``), and so does a
text body outside 1..4096 characters; a value that breaks an interactive, caption or
location limit answers code 131009 (``(#131009) Parameter value is not valid``) with
``error_data.details`` naming the field. Lengths count characters (code points).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests.fakes.whatsapp_limits import (
    INVALID_PARAMETER,
    PARAMETER_NOT_VALID,
    GraphError,
    Params,
    invalid_parameter,
    not_valid,
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_HEADER = 60
MAX_FOOTER = 60
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_BUTTON_BODY = 1024
MAX_LIST_BUTTON = 20
MAX_LIST_BODY = 4096
MAX_SECTIONS = 10
MAX_ROWS = 10
MAX_SECTION_TITLE = 24
MAX_ROW_TITLE = 24
MAX_ROW_ID = 200
MAX_ROW_DESCRIPTION = 72
MAX_TEMPLATE_NAME = 512

MESSAGE_TYPES = ("text", "interactive", "image", "template", "location")
_MEDIA_HEADERS = ("image", "video", "document")
_PHONE = re.compile(r"\+?[0-9 ()-]+")
# Business-scoped user id: country code, optional ".ENT" (parent BSUID), up to 128 characters.
BSUID = re.compile(r"[A-Z]{2}(\.ENT)?\.[A-Za-z0-9]{1,128}")


@dataclass(frozen=True, slots=True)
class Outbound:
    """What the server needs of a valid send beyond the body it records."""

    recipient: str  # the phone number as digits, or the BSUID the client addressed
    by_user_id: bool  # addressed by ``recipient`` (a BSUID) rather than ``to``
    type: str
    template: tuple[str, str] | None = None  # (name, language code)
    template_body_params: int = 0
    media: tuple[str, str] | None = None  # (id, field) of an uploaded media it refers to


def phone_digits(value: str) -> str:
    """``+1 (555) 123-4567`` -> ``15551234567``: how WhatsApp reads a ``to`` number."""
    return "".join(ch for ch in value if ch.isdigit())


def check_message(body: Params) -> Outbound:
    """Validate a send request body; raise GraphError as the Cloud API would."""
    product = body.get("messaging_product")
    if product is None:
        raise invalid_parameter("The parameter messaging_product is required.")
    if product != "whatsapp":
        raise invalid_parameter("Param messaging_product must be 'whatsapp'.")
    if body.get("recipient_type", "individual") != "individual":
        raise invalid_parameter("Param recipient_type must be 'individual'.")
    recipient, by_user_id = _recipient(body)
    if body.get("context") is not None:
        context = _obj(body, "context", "")
        _str(context, "message_id", "context", code=INVALID_PARAMETER, high=256)
    kind = body.get("type", "text")  # the API's default type
    if kind not in MESSAGE_TYPES:
        raise invalid_parameter(
            f"Param type must be one of {', '.join(MESSAGE_TYPES)} "
            f"(the fake implements no other) - got {kind!r}."
        )
    if kind == "text":
        text = _obj(body, "text", "")
        _str(text, "body", "text", code=INVALID_PARAMETER, high=MAX_TEXT)
        if not isinstance(text.get("preview_url", False), bool):
            raise invalid_parameter("Param text['preview_url'] must be a boolean.")
    elif kind == "interactive":
        return Outbound(recipient, by_user_id, kind, media=_interactive(body))
    elif kind == "image":
        image = _obj(body, "image", "")
        _opt_str(image, "caption", "image", high=MAX_CAPTION)
        return Outbound(recipient, by_user_id, kind, media=_media(image, "image"))
    elif kind == "location":
        _location(_obj(body, "location", ""))
    else:
        name, language, params = _template(_obj(body, "template", ""))
        return Outbound(recipient, by_user_id, kind, (name, language), params)
    return Outbound(recipient, by_user_id, kind)


def _recipient(body: Params) -> tuple[str, bool]:
    to = body.get("to")
    if to is not None:  # ``to`` wins when both are given, as in the real API
        if not isinstance(to, str) or not _PHONE.fullmatch(to):
            raise invalid_parameter("Param to must be a phone number in international format.")
        digits = phone_digits(to)
        if not 5 <= len(digits) <= 20:
            raise invalid_parameter("Param to must be a phone number in international format.")
        return digits, False
    user_id = body.get("recipient")
    if user_id is None:
        raise invalid_parameter("The parameter to is required.")
    if not isinstance(user_id, str) or not BSUID.fullmatch(user_id):
        raise invalid_parameter("Param recipient must be a business-scoped user ID.")
    return user_id, True


# -- field helpers -----------------------------------------------------------------------


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}['{key}']" if path else key


def _fail(code: int, text: str) -> GraphError:
    return invalid_parameter(text) if code == INVALID_PARAMETER else not_valid(text)


def _obj(parent: Params, key: str, path: str, *, required: bool = True) -> Params:
    """``parent[key]`` as a JSON object; ``{}`` when absent and not required."""
    value = parent.get(key)
    where = _at(path, key)
    if value is None:
        if required:
            raise invalid_parameter(f"The parameter {where} is required.")
        return {}
    if not isinstance(value, dict):
        raise invalid_parameter(f"Param {where} must be a JSON object.")
    return value


def _opt_str(
    parent: Params,
    key: str,
    path: str,
    *,
    high: int,
    low: int = 1,
    code: int = PARAMETER_NOT_VALID,
    required: bool = False,
) -> str | None:
    """``parent[key]`` as a string of ``low..high`` characters, None when absent."""
    value = parent.get(key)
    where = _at(path, key)
    if value is None:
        if required:
            raise invalid_parameter(f"The parameter {where} is required.")
        return None
    if not isinstance(value, str):
        raise invalid_parameter(f"Param {where} must be a string.")
    if not low <= len(value) <= high:
        raise _fail(code, f"Param {where} must be between {low} and {high} characters long.")
    return value


def _str(parent: Params, key: str, path: str, *, high: int, code: int = PARAMETER_NOT_VALID) -> str:
    """A required ``parent[key]`` string of 1..high characters."""
    value = _opt_str(parent, key, path, high=high, code=code, required=True)
    assert value is not None
    return value


def _items(parent: Params, key: str, path: str, low: int, high: int) -> list[Any]:
    value = parent.get(key)
    where = _at(path, key)
    if value is None:
        raise invalid_parameter(f"The parameter {where} is required.")
    if not isinstance(value, list):
        raise invalid_parameter(f"Param {where} must be an array.")
    if not low <= len(value) <= high:
        raise not_valid(f"Param {where} must have between {low} and {high} items.")
    return value


def _unique(values: list[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise not_valid(f"Param {where} must have unique {what}s; {value!r} repeats.")
        seen.add(value)


def _media(parent: Params, path: str) -> tuple[str, str] | None:
    """An image/video/document object: exactly one of ``link`` and ``id``; (id, field)."""
    link, media_id = parent.get("link"), parent.get("id")
    if (link is None) == (media_id is None):
        raise invalid_parameter(f"Param {path} must have exactly one of 'link' and 'id'.")
    if link is not None:
        if not isinstance(link, str) or not link.startswith(("https://", "http://")):
            raise invalid_parameter(f"Param {_at(path, 'link')} must be a valid URL.")
        return None
    if not isinstance(media_id, str) or not media_id:
        raise invalid_parameter(f"Param {_at(path, 'id')} must be a media ID.")
    return media_id, _at(path, "id")


# -- message types -----------------------------------------------------------------------


def _interactive(body: Params) -> tuple[str, str] | None:
    interactive = _obj(body, "interactive", "")
    kind = _str(interactive, "type", "interactive", code=INVALID_PARAMETER, high=32)
    footer = _obj(interactive, "footer", "interactive", required=False)
    if footer:
        _str(footer, "text", "interactive['footer']", high=MAX_FOOTER)
    if kind == "button":
        return _buttons(interactive)
    if kind == "list":
        _list(interactive)
        return None
    raise invalid_parameter(
        f"Param interactive['type'] must be one of button, list "
        f"(the fake implements no other) - got {kind!r}."
    )


def _header(interactive: Params, kinds: tuple[str, ...]) -> tuple[str, str] | None:
    header = _obj(interactive, "header", "interactive", required=False)
    if not header:
        return None
    path = "interactive['header']"
    kind = _str(header, "type", path, code=INVALID_PARAMETER, high=16)
    if kind == "text":
        _str(header, "text", path, high=MAX_HEADER)
        return None
    if kind not in kinds:
        allowed = ", ".join(("text", *kinds))
        raise invalid_parameter(f"Param {path}['type'] must be one of {allowed} - got {kind!r}.")
    return _media(_obj(header, kind, path), _at(path, kind))


def _buttons(interactive: Params) -> tuple[str, str] | None:
    media = _header(interactive, _MEDIA_HEADERS)
    body = _obj(interactive, "body", "interactive")
    _str(body, "text", "interactive['body']", high=MAX_BUTTON_BODY)
    action = _obj(interactive, "action", "interactive")
    buttons = _items(action, "buttons", "interactive['action']", 1, MAX_BUTTONS)
    path = "interactive['action']['buttons']"
    ids: list[str] = []
    titles: list[str] = []
    for index, button in enumerate(buttons):
        where = _at(path, index)
        if not isinstance(button, dict):
            raise invalid_parameter(f"Param {where} must be a JSON object.")
        if button.get("type") != "reply":
            raise invalid_parameter(f"Param {where}['type'] must be 'reply'.")
        reply = _obj(button, "reply", where)
        ids.append(_str(reply, "id", _at(where, "reply"), high=MAX_BUTTON_ID))
        titles.append(_str(reply, "title", _at(where, "reply"), high=MAX_BUTTON_TITLE))
    _unique(ids, path, "id")
    _unique(titles, path, "title")
    return media


def _list(interactive: Params) -> None:
    _header(interactive, ())
    body = _obj(interactive, "body", "interactive")
    _str(body, "text", "interactive['body']", high=MAX_LIST_BODY)
    action = _obj(interactive, "action", "interactive")
    path = "interactive['action']"
    _str(action, "button", path, high=MAX_LIST_BUTTON)
    sections = _items(action, "sections", path, 1, MAX_SECTIONS)
    row_ids: list[str] = []
    for index, section in enumerate(sections):
        where = _at(_at(path, "sections"), index)
        if not isinstance(section, dict):
            raise invalid_parameter(f"Param {where} must be a JSON object.")
        required = len(sections) > 1
        if required and not section.get("title"):
            raise not_valid(f"Param {where}['title'] is required when there are several sections.")
        _opt_str(section, "title", where, high=MAX_SECTION_TITLE)
        for row_index, row in enumerate(_items(section, "rows", where, 1, MAX_ROWS)):
            row_ids.append(_row(row, _at(_at(where, "rows"), row_index)))
    if len(row_ids) > MAX_ROWS:
        raise not_valid(f"Param {path}['sections'] must have at most {MAX_ROWS} rows in all.")
    _unique(row_ids, f"{path}['sections']", "row id")


def _row(row: Any, where: str) -> str:
    if not isinstance(row, dict):
        raise invalid_parameter(f"Param {where} must be a JSON object.")
    row_id = _str(row, "id", where, high=MAX_ROW_ID)
    _str(row, "title", where, high=MAX_ROW_TITLE)
    _opt_str(row, "description", where, high=MAX_ROW_DESCRIPTION)
    return row_id


def _location(location: Params) -> None:
    for key, bound in (("latitude", 90), ("longitude", 180)):
        value = location.get(key)
        where = _at("location", key)
        if value is None:
            raise invalid_parameter(f"The parameter {where} is required.")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid_parameter(f"Param {where} must be a number.")
        if not -bound <= value <= bound:
            raise not_valid(f"Param {where} must be between {-bound} and {bound}.")
    for key in ("name", "address"):
        _opt_str(location, key, "location", low=0, high=1000)


def _template(template: Params) -> tuple[str, str, int]:
    """Return the template's name, language code and number of body parameters."""
    name = _str(template, "name", "template", code=INVALID_PARAMETER, high=MAX_TEMPLATE_NAME)
    language = _obj(template, "language", "template")
    code = _str(language, "code", "template['language']", code=INVALID_PARAMETER, high=16)
    components = template.get("components", [])
    if not isinstance(components, list):
        raise invalid_parameter("Param template['components'] must be an array.")
    body_params = 0
    for index, component in enumerate(components):
        where = _at("template['components']", index)
        if not isinstance(component, dict) or not isinstance(component.get("type"), str):
            raise invalid_parameter(f"Param {where}['type'] is required.")
        parameters = component.get("parameters", [])
        if not isinstance(parameters, list):
            raise invalid_parameter(f"Param {where}['parameters'] must be an array.")
        if component["type"].lower() == "body":
            body_params += len(parameters)
    return name, code, body_params
