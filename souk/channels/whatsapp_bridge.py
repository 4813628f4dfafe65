"""Inbound WhatsApp messages as aiogram updates, so the Telegram handlers serve them.

- text -> a message; a number the customer types after a numbered menu -> the
  callback query of that menu entry; a bare command word ("catalog", "STOP"; only the
  English command names) -> the command;
- an interactive button or list reply -> a callback query carrying our callback data
  (a reply-keyboard button comes back as the text it showed);
- location, contacts (the first phone), image, audio (a voice note as `voice`),
  video, document and sticker -> the matching message fields, a file's media id as its
  file id (which only the deliverer resolves, downloading it from the Cloud API);
- a reaction -> a `message_reaction` update: no handler answers it (a 👍 needs no
  reply), the conversation log and the staff in human mode see it;
- anything else (unsupported kinds, ...) -> a message without text, which the fallback
  answers with a hint.
The customer's internal id plays the user id and the chat id on every update.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiogram.types import (
    Audio,
    CallbackQuery,
    Chat,
    Contact,
    Document,
    Location,
    Message,
    MessageReactionUpdated,
    PhotoSize,
    ReactionTypeEmoji,
    Sticker,
    Update,
    User,
    Video,
    Voice,
)

from souk.channels.whatsapp_render import TEXT_BUTTON_PREFIX

# Words a WhatsApp customer may type for a command (WhatsApp has no command menu).
COMMAND_WORDS = frozenset(
    {"start", "menu", "help", "catalog", "cart", "orders", "checkout", "stop"}
)
_ALIASES = {"menu": "start"}

# The callback data of a numbered-menu entry the customer typed, or None.
MenuLookup = Callable[[str], Awaitable[str | None]]


def sender_profile(payload: dict[str, Any]) -> tuple[str, str | None]:
    """The sender's profile name, and the language of the web chat page they write from
    (WhatsApp tells none)."""
    contact = payload.get("contact") if isinstance(payload.get("contact"), dict) else {}
    profile = (contact or {}).get("profile")
    name = str((profile if isinstance(profile, dict) else {}).get("name") or "").strip()
    language = (contact or {}).get("language")
    return name[:64] or "WhatsApp", language if isinstance(language, str) else None


def _user(chat_id: int, payload: dict[str, Any]) -> User:
    name, language = sender_profile(payload)
    return User(id=chat_id, is_bot=False, first_name=name, language_code=language)


def _at(message: dict[str, Any]) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(message.get("timestamp"))), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _command(text: str) -> str:
    word = text.strip().lower()
    if word in COMMAND_WORDS:
        return "/" + _ALIASES.get(word, word)
    return text


_FILES = frozenset({"image", "audio", "video", "document", "sticker"})
# WhatsApp's stickers are WebP images of this size (its sticker rules).
_STICKER_PIXELS = 512


def _file(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The message field of a WhatsApp file (`kind` in _FILES), its media id as file id."""
    media = str(body["id"])
    mime = str(body.get("mime_type") or "") or None
    if kind == "image":
        return {"photo": [PhotoSize(file_id=media, file_unique_id=media, width=0, height=0)]}
    if kind == "audio" and body.get("voice"):
        return {"voice": Voice(file_id=media, file_unique_id=media, duration=0, mime_type=mime)}
    if kind == "audio":
        return {"audio": Audio(file_id=media, file_unique_id=media, duration=0, mime_type=mime)}
    if kind == "video":
        video = Video(
            file_id=media, file_unique_id=media, width=0, height=0, duration=0, mime_type=mime
        )
        return {"video": video}
    if kind == "sticker":
        sticker = Sticker(
            file_id=media,
            file_unique_id=media,
            type="regular",
            width=_STICKER_PIXELS,
            height=_STICKER_PIXELS,
            is_animated=bool(body.get("animated")),
            is_video=False,
        )
        return {"sticker": sticker}
    name = str(body.get("filename") or "") or None
    document = Document(file_id=media, file_unique_id=media, file_name=name, mime_type=mime)
    return {"document": document}


class InboundBridge:
    """Builds the aiogram `Update` of one stored WhatsApp message."""

    def __init__(self, *, update_id: int, chat_id: int, payload: dict[str, Any]) -> None:
        self._update_id = update_id
        self._chat_id = chat_id
        self._message: dict[str, Any] = payload.get("message") or {}
        self._user = _user(chat_id, payload)
        self._date = _at(self._message)

    def _base(self, **fields: Any) -> Message:
        return Message(
            message_id=self._update_id % 2_000_000_000,
            date=self._date,
            chat=Chat(id=self._chat_id, type="private"),
            from_user=self._user,
            **fields,
        )

    def _callback(self, data: str) -> Update:
        query = CallbackQuery(
            id=f"{self._chat_id}:{self._update_id}",
            from_user=self._user,
            chat_instance=f"wa{self._chat_id}",
            data=data,
            message=self._base(text=""),
        )
        return Update(update_id=self._update_id, callback_query=query)

    def _text(self, text: str) -> Update:
        return Update(update_id=self._update_id, message=self._base(text=_command(text)))

    async def update(self, menu: MenuLookup) -> Update:
        kind = self._message.get("type")
        body = self._message.get(kind) if isinstance(kind, str) else None
        body = body if isinstance(body, dict) else {}
        if kind == "text":
            text = str(body.get("body") or "")
            chosen = await menu(text) if text.strip().rstrip(".").isdigit() else None
            return self._callback(chosen) if chosen else self._text(text)
        if kind == "interactive":
            reply = body.get(str(body.get("type")))
            reply_id = str(reply.get("id") or "") if isinstance(reply, dict) else ""
            if reply_id.startswith(TEXT_BUTTON_PREFIX):
                return self._text(reply_id.removeprefix(TEXT_BUTTON_PREFIX))
            return self._callback(reply_id)
        if kind == "button":  # a template's quick reply
            return self._text(str(body.get("text") or body.get("payload") or ""))
        if kind == "location":
            location = Location(
                latitude=float(body.get("latitude") or 0),
                longitude=float(body.get("longitude") or 0),
            )
            return Update(update_id=self._update_id, message=self._base(location=location))
        if kind == "contacts":
            return Update(update_id=self._update_id, message=self._contact(body))
        if kind == "reaction":
            return self._reaction(str(body.get("emoji") or ""))
        if kind in _FILES and body.get("id"):
            caption = body.get("caption")
            fields = {"caption": str(caption) if caption else None, **_file(kind, body)}
            return Update(update_id=self._update_id, message=self._base(**fields))
        return Update(update_id=self._update_id, message=self._base())

    def _reaction(self, emoji: str) -> Update:
        """A reaction to one of our messages (an empty emoji takes it back); which message
        is not kept: WhatsApp names it by its wamid."""
        reaction = MessageReactionUpdated(
            chat=Chat(id=self._chat_id, type="private"),
            message_id=0,
            date=self._date,
            user=self._user,
            old_reaction=[],
            new_reaction=[ReactionTypeEmoji(emoji=emoji)] if emoji else [],
        )
        return Update(update_id=self._update_id, message_reaction=reaction)

    def _contact(self, body: dict[str, Any]) -> Message:
        """The first contact card's first phone; its own (user_id set) when the card
        is the sender's own number."""
        cards = self._message.get("contacts")
        card = (
            cards[0] if isinstance(cards, list) and cards and isinstance(cards[0], dict) else body
        )
        phones = card.get("phones")
        phone: dict[str, Any] = next(
            (
                p
                for p in (phones if isinstance(phones, list) else [])
                if isinstance(p, dict) and (p.get("phone") or p.get("wa_id"))
            ),
            {},
        )
        number = str(phone.get("phone") or phone.get("wa_id") or "")
        name = card.get("name")
        name = name if isinstance(name, dict) else {}
        first = str(name.get("first_name") or name.get("formatted_name") or "").strip()
        if not number:
            return self._base()
        own = phone.get("wa_id") and phone.get("wa_id") == self._message.get("from")
        contact = Contact(
            phone_number=number,
            first_name=first or self._user.first_name,
            user_id=self._chat_id if own else None,
        )
        return self._base(contact=contact)
