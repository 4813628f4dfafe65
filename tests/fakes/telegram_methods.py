"""Bot API method implementations of the fake Telegram server (see telegram_api.py).

Each handler takes ``(bot_id, params)`` and returns the ``result`` object, or raises
``ApiError``. Order inside a sending handler mirrors what matters to clients:
validation (400) first, then blocked chat (403), then flood control (429), so a
refused request never consumes a rate-limit token.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from tests.fakes import telegram_limits as lim
from tests.fakes.http_fake import FakeHTTPServer
from tests.fakes.telegram_limits import ApiError, bad_request
from tests.fakes.telegram_protocol import WebhookConfig, chat_object

Params = dict[str, Any]
Handler = Callable[[int, Params], object]

METHODS = (
    "getMe",
    "sendMessage",
    "copyMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "sendPhoto",
    "sendDocument",
    "sendVoice",
    "sendAudio",
    "sendVideo",
    "sendSticker",
    "sendLocation",
    "sendChatAction",
    "sendInvoice",
    "answerPreCheckoutQuery",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "setMyCommands",
    "deleteMyCommands",
    "getMyCommands",
    "getUpdates",
    "getFile",
    "close",
    "logOut",
)
_CANONICAL = {name.lower(): name for name in METHODS}
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # what getFile lets a bot download
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


# What Telegram keeps of an uploaded file's name and type, where not both.
_UPLOAD_FIELDS = {"voice": ("mime_type",), "sticker": ()}
_STICKER_SHAPE: Params = {
    "type": "regular",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
}


def _is_sticker(data: bytes) -> bool:
    """A file Telegram takes as a sticker: WEBP, TGS (gzipped Lottie) or WEBM."""
    webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return webp or data[:2] == b"\x1f\x8b" or data[:4] == b"\x1a\x45\xdf\xa3"


def _chat_id(params: Params) -> int:
    chat_id = params.get("chat_id")
    if chat_id is None or chat_id == "":
        raise bad_request("chat_id is empty")
    # Usernames ("@shop") and other shapes are not resolvable in the fake.
    if isinstance(chat_id, bool) or not isinstance(chat_id, int) or chat_id == 0:
        raise bad_request("chat not found")
    return chat_id


def _int_param(params: Params, key: str, default: int) -> int:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"wrong parameter {key} in request")
    return value


def _coordinate(params: Params, key: str, bound: float) -> float:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > bound:
        raise bad_request(f"wrong parameter {key} in request")
    return float(value)


class MethodsMixin(FakeHTTPServer):
    """Handlers of the supported Bot API methods; mixed into FakeBotAPI."""

    _webhooks: dict[int, WebhookConfig]

    # Provided by FakeBotAPI (declared here so this module type-checks on its own).
    def _admit(self, bot_id: int, chat_id: int | None, counted: bool = True) -> None:
        raise NotImplementedError

    @staticmethod
    def canonical(method: str) -> str:
        """Telegram method names are case-insensitive; map to the documented spelling."""
        return _CANONICAL.get(method.lower(), method)

    @staticmethod
    def is_sending(method: str) -> bool:
        """Methods that produce or change a message: the ones flood control counts."""
        if method.startswith("send"):
            return method != "sendChatAction"
        return method.startswith("editMessage") or method in ("copyMessage", "forwardMessage")

    def _init_state(self) -> None:
        self._message_ids: dict[tuple[int, int], int] = {}
        self._deleted: set[tuple[int, int, int]] = set()
        self._updates: dict[int, list[Params]] = {}
        self._update_seq: dict[int, int] = {}
        self._polling: dict[int, int] = {}
        self._poll_gen: dict[int, int] = {}
        self._webhooks = {}
        self._commands: dict[tuple[int, str, str], list[Params]] = {}
        self._file_seq = itertools.count(1)
        self._files: dict[str, bytes] = {}
        self._file_paths: dict[str, str] = {}
        self._upload_names: dict[str, str] = {}  # file name -> file_id of its last upload
        self._uploads: dict[str, bytes] = {}  # the file parts of the request being handled
        self._bot_users: dict[int, Params] = {}
        self._handlers: dict[str, Handler] = {name: getattr(self, "_m_" + name) for name in METHODS}

    # -- helpers ---------------------------------------------------------------------

    def _bot_user(self, bot_id: int) -> Params:
        user = self._bot_users.get(bot_id)
        if user is None:
            user = self._bot_users[bot_id] = {
                "id": bot_id,
                "is_bot": True,
                "first_name": f"Bot {bot_id}",
                "username": f"bot{bot_id}_bot",
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        return user

    def _message(self, bot_id: int, chat_id: int, markup: Params | None, content: Params) -> Params:
        key = (bot_id, chat_id)
        message_id = self._message_ids.get(key, 0) + 1
        self._message_ids[key] = message_id
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat_object(chat_id),
            "from": self._bot_user(bot_id),
            **content,
        }
        if markup is not None:
            message["reply_markup"] = markup
        return message

    def _existing(self, bot_id: int, params: Params, verb: str) -> tuple[int, int]:
        chat_id = _chat_id(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise bad_request("message identifier is not specified")
        last = self._message_ids.get((bot_id, chat_id), 0)
        if not 1 <= message_id <= last or (bot_id, chat_id, message_id) in self._deleted:
            raise bad_request(f"message to {verb} not found")
        return chat_id, message_id

    def _edited(
        self, bot_id: int, params: Params, markup: Params | None, content: Params
    ) -> Params | bool:
        if params.get("inline_message_id"):
            self._admit(bot_id, None)
            return True
        chat_id, message_id = self._existing(bot_id, params, "edit")
        self._admit(bot_id, chat_id)
        now = int(time.time())
        message = {
            "message_id": message_id,
            "date": now,
            "edit_date": now,
            "chat": chat_object(chat_id),
            "from": self._bot_user(bot_id),
            **content,
        }
        if markup is not None:
            message["reply_markup"] = markup
        return message

    def _file(self, params: Params, field: str) -> tuple[str, Params | None]:
        """Resolve a URL, file_id or uploaded part (direct or ``attach://``)."""
        value, part = params.get(field), field
        if isinstance(value, str) and value.startswith("attach://"):
            part = value[len("attach://") :]
            value = params.get(part)
            if value is None:
                raise bad_request(f"wrong file identifier/HTTP URL specified for {field}")
        if isinstance(value, dict):
            # Like Telegram, an uploaded file can be fetched again by its new file_id.
            file_id = f"F{field[:3]}{next(self._file_seq):09d}"
            self._files[file_id] = self._uploads.get(part, b"")
            self._upload_names[str(value.get("filename"))] = file_id
            return file_id, value
        if not isinstance(value, str) or not value:
            raise bad_request(f"there is no {field} in the request")
        if value.startswith(("http://", "https://")):
            # Telegram fetches the URL itself; a host that cannot resolve (the reserved
            # .invalid domain) fails the way an unreachable one does.
            host = urlsplit(value).hostname or ""
            if not host or host.endswith(".invalid"):
                raise bad_request("failed to get HTTP URL content")
            return f"F{field[:3]}{next(self._file_seq):09d}", None
        return value, None  # already a file_id: Telegram answers with the same id

    # -- methods ---------------------------------------------------------------------

    def _m_getMe(self, bot_id: int, params: Params) -> Params:
        return self._bot_user(bot_id)

    def _m_sendMessage(self, bot_id: int, params: Params) -> Params:
        chat_id = _chat_id(params)
        text = lim.check_text(params.get("text"))
        markup = lim.check_reply_markup(params.get("reply_markup"))
        self._admit(bot_id, chat_id)
        return self._message(bot_id, chat_id, markup, {"text": text})

    def _m_copyMessage(self, bot_id: int, params: Params) -> Params:
        """A copy of a message in another chat; the result is only its id (MessageId).
        The source must be named (the fake does not know customers' messages, so any
        positive id of a private chat counts as one the bot can see)."""
        chat_id = _chat_id(params)
        source, message_id = params.get("from_chat_id"), params.get("message_id")
        if not isinstance(source, int) or source == 0:
            raise bad_request("chat not found")
        if not isinstance(message_id, int) or message_id < 1:
            raise bad_request("message to copy not found")
        caption = lim.check_caption(params.get("caption"))
        markup = lim.check_reply_markup(params.get("reply_markup"))
        self._admit(bot_id, chat_id)
        content: Params = {"caption": caption} if caption is not None else {}
        return {"message_id": self._message(bot_id, chat_id, markup, content)["message_id"]}

    def _m_sendPhoto(self, bot_id: int, params: Params) -> Params:
        chat_id = _chat_id(params)
        caption = lim.check_caption(params.get("caption"))
        markup = lim.check_reply_markup(params.get("reply_markup"))
        file_id, upload = self._file(params, "photo")
        self._admit(bot_id, chat_id)
        size = upload["size"] if upload else 65536
        photo = [
            {
                "file_id": f"{file_id}_s",
                "file_unique_id": f"u{file_id}_s",
                "width": 90,
                "height": 90,
                "file_size": max(1, size // 50),
            },
            {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "width": 800,
                "height": 800,
                "file_size": size,
            },
        ]
        content: Params = {"photo": photo}
        if caption is not None:
            content["caption"] = caption
        return self._message(bot_id, chat_id, markup, content)

    def _m_sendLocation(self, bot_id: int, params: Params) -> Params:
        chat_id = _chat_id(params)
        location = {
            "latitude": _coordinate(params, "latitude", 90.0),
            "longitude": _coordinate(params, "longitude", 180.0),
        }
        markup = lim.check_reply_markup(params.get("reply_markup"))
        self._admit(bot_id, chat_id)
        return self._message(bot_id, chat_id, markup, {"location": location})

    def _m_sendDocument(self, bot_id: int, params: Params) -> Params:
        return self._send_file(bot_id, params, "document", {})

    def _m_sendVoice(self, bot_id: int, params: Params) -> Params:
        return self._send_file(bot_id, params, "voice", {"duration": 0})

    def _m_sendAudio(self, bot_id: int, params: Params) -> Params:
        return self._send_file(bot_id, params, "audio", {"duration": 0})

    def _m_sendVideo(self, bot_id: int, params: Params) -> Params:
        return self._send_file(bot_id, params, "video", {"width": 0, "height": 0, "duration": 0})

    def _m_sendSticker(self, bot_id: int, params: Params) -> Params:
        """A sticker: an uploaded one must be a WEBP, TGS or WEBM file."""
        return self._send_file(bot_id, params, "sticker", _STICKER_SHAPE, accept=_is_sticker)

    def _send_file(
        self,
        bot_id: int,
        params: Params,
        field: str,
        shape: Params,
        accept: Callable[[bytes], bool] | None = None,
    ) -> Params:
        """A document, voice note, audio, video or sticker message: the file as `field`
        (an uploaded one refused unless `accept` takes its bytes)."""
        chat_id = _chat_id(params)
        caption = lim.check_caption(params.get("caption"))
        markup = lim.check_reply_markup(params.get("reply_markup"))
        file_id, upload = self._file(params, field)
        if upload and accept is not None and not accept(self._files[file_id]):
            raise bad_request(f"wrong file type of the {field}")
        self._admit(bot_id, chat_id)
        sent: Params = {"file_id": file_id, "file_unique_id": f"u{file_id}", **shape}
        if upload:
            told = {"file_name": upload["filename"], "mime_type": upload["content_type"]}
            sent |= {key: told[key] for key in _UPLOAD_FIELDS.get(field, tuple(told))}
            sent["file_size"] = upload["size"]
        content: Params = {field: sent}
        if caption is not None:
            content["caption"] = caption
        return self._message(bot_id, chat_id, markup, content)

    def _m_sendInvoice(self, bot_id: int, params: Params) -> Params:
        chat_id = _chat_id(params)
        total = lim.check_invoice(params)
        markup = lim.check_reply_markup(params.get("reply_markup"))
        self._admit(bot_id, chat_id)
        invoice = {
            "title": params["title"],
            "description": params["description"],
            "start_parameter": params.get("start_parameter", ""),
            "currency": params["currency"],
            "total_amount": total,
        }
        return self._message(bot_id, chat_id, markup, {"invoice": invoice})

    def _m_editMessageText(self, bot_id: int, params: Params) -> Params | bool:
        text = lim.check_text(params.get("text"))
        markup = lim.check_reply_markup(params.get("reply_markup"))
        return self._edited(bot_id, params, markup, {"text": text})

    def _m_editMessageReplyMarkup(self, bot_id: int, params: Params) -> Params | bool:
        markup = lim.check_reply_markup(params.get("reply_markup"))
        return self._edited(bot_id, params, markup, {})

    def _m_deleteMessage(self, bot_id: int, params: Params) -> bool:
        chat_id, message_id = self._existing(bot_id, params, "delete")
        self._deleted.add((bot_id, chat_id, message_id))
        return True

    def _m_sendChatAction(self, bot_id: int, params: Params) -> bool:
        chat_id = _chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._admit(bot_id, chat_id, counted=False)
        return True

    def _m_answerCallbackQuery(self, bot_id: int, params: Params) -> bool:
        if not params.get("callback_query_id"):
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        lim.check_callback_answer(params.get("text"))
        return True

    def _m_answerPreCheckoutQuery(self, bot_id: int, params: Params) -> bool:
        if not params.get("pre_checkout_query_id"):
            raise bad_request("QUERY_ID_INVALID")
        ok = params.get("ok")
        if not isinstance(ok, bool):
            raise bad_request('parameter "ok" is required')
        if not ok and not params.get("error_message"):
            raise bad_request("ERROR_MESSAGE_EMPTY")
        return True

    def _m_setWebhook(self, bot_id: int, params: Params) -> bool:
        url = params.get("url") or ""
        secret = lim.check_secret_token(params.get("secret_token"))
        allowed = params.get("allowed_updates")
        if allowed is not None and not isinstance(allowed, list):
            raise bad_request("can't parse allowed_updates JSON object")
        max_connections = _int_param(params, "max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if params.get("drop_pending_updates"):
            self._updates.pop(bot_id, None)
        if not url:  # Telegram treats an empty url as "remove the webhook"
            self._webhooks.pop(bot_id, None)
        else:
            self._webhooks[bot_id] = WebhookConfig(str(url), secret, allowed, max_connections)
        return True

    def _m_deleteWebhook(self, bot_id: int, params: Params) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.pop(bot_id, None)
        self._webhooks.pop(bot_id, None)
        return True

    def _m_getWebhookInfo(self, bot_id: int, params: Params) -> Params:
        config = self._webhooks.get(bot_id)
        info: Params = {
            "url": config.url if config else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates.get(bot_id, ())),
        }
        if config is not None:
            info["max_connections"] = config.max_connections
            if config.allowed_updates is not None:
                info["allowed_updates"] = config.allowed_updates
        return info

    def _commands_key(self, bot_id: int, params: Params) -> tuple[int, str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad_request("can't parse scope JSON object")
        return bot_id, json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _m_setMyCommands(self, bot_id: int, params: Params) -> bool:
        commands = lim.check_commands(params.get("commands"))
        self._commands[self._commands_key(bot_id, params)] = commands
        return True

    def _m_getMyCommands(self, bot_id: int, params: Params) -> list[Params]:
        return self._commands.get(self._commands_key(bot_id, params), [])

    def _m_deleteMyCommands(self, bot_id: int, params: Params) -> bool:
        self._commands.pop(self._commands_key(bot_id, params), None)
        return True

    def _m_getFile(self, bot_id: int, params: Params) -> Params:
        file_id = params.get("file_id")
        if not isinstance(file_id, str) or not file_id:
            raise bad_request("file_id is empty")
        data = self._files.get(file_id)
        if data is None:
            raise bad_request("invalid file_id")
        if len(data) > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        path = self._file_paths.setdefault(
            file_id, f"documents/file_{len(self._file_paths) + 1}.bin"
        )
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(data),
            "file_path": path,
        }

    def _m_close(self, bot_id: int, params: Params) -> bool:
        return True

    def _m_logOut(self, bot_id: int, params: Params) -> bool:
        return True

    # -- updates ---------------------------------------------------------------------

    def push_update(self, bot_id: int, update: Params) -> int:
        """Queue ``update`` for getUpdates of ``bot_id``; returns its update_id."""
        seq = self._update_seq.get(bot_id, 0)
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            update_id = seq + 1
            update = {"update_id": update_id, **update}
        self._update_seq[bot_id] = max(seq, update_id)
        self._updates.setdefault(bot_id, []).append(update)
        self._wake()
        return update_id

    def _pending(self, bot_id: int, offset: int) -> bool:
        queue = self._updates.get(bot_id)
        if not queue:
            return False
        return offset <= 0 or bool(queue[-1]["update_id"] >= offset)

    async def _m_getUpdates(self, bot_id: int, params: Params) -> list[Params]:
        if bot_id in self._webhooks:
            raise ApiError(409, _CONFLICT_WEBHOOK)
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        timeout = max(_int_param(params, "timeout", 0), 0)
        queue = self._updates.get(bot_id)
        if queue and offset > 0 and queue[0]["update_id"] < offset:
            # A positive offset confirms (and forgets) every earlier update, as in Telegram.
            queue[:] = [update for update in queue if update["update_id"] >= offset]
        gen = self._poll_gen[bot_id] = self._poll_gen.get(bot_id, 0) + 1
        if timeout and not self._closing and not self._pending(bot_id, offset):
            self._polling[bot_id] = self._polling.get(bot_id, 0) + 1
            try:
                await self._notify()  # lets an older poll of this bot see it was superseded
                await self._wait(
                    lambda: (
                        self._closing
                        or self._poll_gen.get(bot_id, gen) != gen
                        or self._pending(bot_id, offset)
                    ),
                    timeout,
                )
            except TimeoutError:
                pass
            finally:
                self._polling[bot_id] = self._polling.get(bot_id, 1) - 1
            if self._poll_gen.get(bot_id, gen) != gen:
                raise ApiError(409, _CONFLICT_POLL)
        queue = self._updates.get(bot_id, [])
        if offset < 0:
            return queue[offset:][:limit]
        return [update for update in queue if update["update_id"] >= offset][:limit]
