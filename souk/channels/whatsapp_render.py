"""Telegram methods as WhatsApp Cloud API messages: the one place the rendering rules live.

Handlers speak aiogram; on WhatsApp their calls become Cloud API messages:
- text: HTML formatting becomes WhatsApp's (*bold*, _italic_, ```mono```); longer
  than 4096 characters is split at line breaks;
- an inline keyboard of at most 3 buttons whose titles fit in 20 characters (after a
  sensible shortening) becomes reply buttons; at most 10 become a list (row titles
  24, the rest of a long label in the 72-character description); more become a
  numbered text menu whose numbers the customer types back (`Rendered.menu`);
- URL buttons become links in the text; a keyboard asking for the contact or the
  location becomes a hint (the customer shares a contact card or a location);
- a photo with a caption becomes an image (a button header when the buttons fit);
- an edit becomes a new message; a callback answer with text becomes a short text;
  an invoice becomes its text with the payment link if there is one.
Calls with no WhatsApp meaning (chat actions, commands menus, deletions) render to
nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageCaption,
    EditMessageText,
    SendInvoice,
    SendLocation,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
)

TEXT_LIMIT = 4096
INTERACTIVE_BODY_LIMIT = 1024
LIST_BODY_LIMIT = 4096
CAPTION_LIMIT = 1024
BUTTON_TITLE_LIMIT = 20
MAX_BUTTONS = 3
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
MAX_ROWS = 10
LIST_BUTTON_LABEL = "☰"  # language-neutral: the list's own label
KEYBOARD_BODY = "👇"  # the body of buttons sent apart from a long text
# Reply-keyboard buttons travel back as text; their ids carry it with this prefix.
TEXT_BUTTON_PREFIX = "text:"


@dataclass
class Rendered:
    """The Cloud API message bodies of one call (without `messaging_product` and `to`),
    and the numbered menu they offer (number typed -> callback data), if any."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    menu: dict[str, str] = field(default_factory=dict)


_TAGS = [
    (re.compile(r"</?(b|strong)>"), "*"),
    (re.compile(r"</?(i|em)>"), "_"),
    (re.compile(r"</?(s|strike|del)>"), "~"),
    (re.compile(r"</?pre>"), "```"),
    (re.compile(r"</?code>"), "`"),
    (re.compile(r"</?(u|ins|tg-spoiler|span|blockquote)[^>]*>"), ""),
]
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)


def html_to_whatsapp(text: str) -> str:
    """Telegram's HTML subset as WhatsApp formatting, entities unescaped."""
    text = _LINK.sub(
        lambda m: m.group(2) if m.group(1) in m.group(2) else f"{m.group(2)} {m.group(1)}", text
    )
    for pattern, mark in _TAGS:
        text = pattern.sub(mark, text)
    return unescape(text)


def shorten(label: str, limit: int) -> str:
    """A label cut to `limit` characters at a word if it can be, with an ellipsis."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    cut = label[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:-—") + "…"


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at paragraphs, lines, then
    words where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def _text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body, "preview_url": "http" in body}}


def _texts(text: str) -> list[dict[str, Any]]:
    return [_text(piece) for piece in split_text(text)]


@dataclass(frozen=True)
class _Choice:
    data: str
    label: str


def _keyboard(markup: object) -> tuple[list[_Choice], list[str], list[str]]:
    """Choices (callback buttons and reply-keyboard texts), link lines, and hints."""
    choices: list[_Choice] = []
    links: list[str] = []
    hints: list[str] = []
    if isinstance(markup, InlineKeyboardMarkup):
        for row in markup.inline_keyboard:
            for button in row:
                _inline_button(button, choices, links)
    elif isinstance(markup, ReplyKeyboardMarkup):
        for keys in markup.keyboard:
            for key in keys:
                if key.request_contact:
                    hints.append("📇")
                elif key.request_location:
                    hints.append("📍")
                else:
                    choices.append(_Choice(TEXT_BUTTON_PREFIX + key.text, key.text))
    return choices, links, hints


def _inline_button(button: InlineKeyboardButton, choices: list[_Choice], links: list[str]) -> None:
    label = html_to_whatsapp(button.text)
    if button.callback_data is not None:
        choices.append(_Choice(button.callback_data, label))
    elif button.url:
        links.append(f"{label}: {button.url}")


def _with_links(text: str, links: list[str], hints: list[str]) -> str:
    extra = "\n".join(links)
    if hints:
        extra = (extra + "\n" if extra else "") + " ".join(hints)
    return f"{text}\n\n{extra}" if extra and text else (text or extra)


def _buttons(body: str, choices: list[_Choice], header: dict[str, Any] | None) -> dict[str, Any]:
    interactive: dict[str, Any] = {
        "type": "button",
        "body": {"text": body},
        "action": {
            "buttons": [
                {
                    "type": "reply",
                    "reply": {"id": c.data, "title": shorten(c.label, BUTTON_TITLE_LIMIT)},
                }
                for c in choices
            ]
        },
    }
    if header is not None:
        interactive["header"] = header
    return {"type": "interactive", "interactive": interactive}


def _row(choice: _Choice) -> dict[str, Any]:
    row: dict[str, Any] = {"id": choice.data, "title": shorten(choice.label, ROW_TITLE_LIMIT)}
    if len(" ".join(choice.label.split())) > ROW_TITLE_LIMIT:
        row["description"] = shorten(choice.label, ROW_DESCRIPTION_LIMIT)
    return row


def _list(body: str, choices: list[_Choice]) -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {
                "button": LIST_BUTTON_LABEL,
                "sections": [{"rows": [_row(c) for c in choices]}],
            },
        },
    }


def _fits_buttons(choices: list[_Choice]) -> bool:
    return len(choices) <= MAX_BUTTONS and len(
        {shorten(c.label, BUTTON_TITLE_LIMIT) for c in choices}
    ) == len(choices)


def _fits_list(choices: list[_Choice]) -> bool:
    return len(choices) <= MAX_ROWS and len({c.data for c in choices}) == len(choices)


def _menu(text: str, choices: list[_Choice]) -> tuple[str, dict[str, str]]:
    lines = [f"{number}. {c.label}" for number, c in enumerate(choices, start=1)]
    menu = {str(number): c.data for number, c in enumerate(choices, start=1)}
    return f"{text}\n\n" + "\n".join(lines), menu


def render_message(text: str, markup: object, *, image: str | None = None) -> Rendered:
    """A message (text or an image with `text` as its caption) and its keyboard."""
    text = html_to_whatsapp(text)
    choices, links, hints = _keyboard(markup)
    text = _with_links(text, links, hints)
    rendered = Rendered()
    header = None
    if image is not None:
        if choices and _fits_buttons(choices) and len(text) <= INTERACTIVE_BODY_LIMIT:
            header = {"type": "image", "image": {"link": image}}
        else:
            caption, text = (text, "") if len(text) <= CAPTION_LIMIT else ("", text)
            image_body: dict[str, Any] = {"link": image}
            if caption:
                image_body["caption"] = caption
            rendered.messages.append({"type": "image", "image": image_body})
    if not choices:
        rendered.messages += _texts(text) if text else []
        return rendered
    if _fits_buttons(choices):
        body, limit = text, INTERACTIVE_BODY_LIMIT
    elif _fits_list(choices):
        body, limit = text, LIST_BODY_LIMIT
    else:
        menu_text, rendered.menu = _menu(text, choices)
        rendered.messages += _texts(menu_text)
        return rendered
    if len(body) > limit or not body:
        rendered.messages += _texts(body) if body else []
        body = KEYBOARD_BODY
    rendered.messages.append(
        _buttons(body, choices, header) if _fits_buttons(choices) else _list(body, choices)
    )
    return rendered


def render_call(method: TelegramMethod[Any]) -> Rendered | None:
    """The messages a Telegram method becomes on WhatsApp; None when it has no meaning
    there (answered as a success without sending anything)."""
    if isinstance(method, SendMessage | EditMessageText):
        return render_message(method.text or "", method.reply_markup)
    if isinstance(method, SendPhoto):
        photo = method.photo if isinstance(method.photo, str) else None
        if photo is None or not photo.startswith(("http://", "https://")):
            return render_message(method.caption or "", method.reply_markup)
        return render_message(method.caption or "", method.reply_markup, image=photo)
    if isinstance(method, EditMessageCaption):
        return render_message(method.caption or "", method.reply_markup)
    if isinstance(method, AnswerCallbackQuery):
        return Rendered(_texts(html_to_whatsapp(method.text))) if method.text else None
    if isinstance(method, SendLocation):
        location = {"latitude": method.latitude, "longitude": method.longitude}
        return Rendered([{"type": "location", "location": location}])
    if isinstance(method, SendInvoice):
        text = f"*{method.title}*\n{method.description}"
        return render_message(text, method.reply_markup)
    return None
