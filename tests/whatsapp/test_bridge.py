"""Inbound WhatsApp messages as the aiogram updates the Telegram handlers take."""

from __future__ import annotations

from typing import Any

from aiogram.types import ReactionTypeEmoji, Update

from souk.channels.whatsapp_bridge import InboundBridge
from souk.channels.whatsapp_render import TEXT_BUTTON_PREFIX

CUSTOMER = 4242


async def bridged(message: dict[str, Any], menu: dict[str, str] | None = None) -> Update:
    async def lookup(typed: str) -> str | None:
        return (menu or {}).get(typed.strip().rstrip("."))

    payload = {
        "sender": "77011234567",
        "message": {"from": "77011234567", "id": "wamid.1", "timestamp": "1795000000", **message},
        "contact": {"profile": {"name": "Aigul"}, "wa_id": "77011234567"},
    }
    return await InboundBridge(update_id=77, chat_id=CUSTOMER, payload=payload).update(lookup)


async def test_text_is_a_message_from_the_customer_id() -> None:
    update = await bridged({"type": "text", "text": {"body": "sony headphones"}})
    assert update.message is not None and update.message.text == "sony headphones"
    assert update.message.chat.id == CUSTOMER and update.message.from_user is not None
    assert (
        update.message.from_user.id == CUSTOMER and update.message.from_user.first_name == "Aigul"
    )


async def test_a_command_word_is_the_command_and_a_menu_number_the_button() -> None:
    update = await bridged({"type": "text", "text": {"body": " Catalog "}})
    assert update.message is not None and update.message.text == "/catalog"
    update = await bridged({"type": "text", "text": {"body": "menu"}})
    assert update.message is not None and update.message.text == "/start"
    update = await bridged({"type": "text", "text": {"body": "2."}}, menu={"2": "cat:5:0"})
    assert update.callback_query is not None and update.callback_query.data == "cat:5:0"
    assert update.callback_query.id == f"{CUSTOMER}:77"
    update = await bridged({"type": "text", "text": {"body": "9"}}, menu={"2": "cat:5:0"})
    assert update.message is not None and update.message.text == "9"  # not in the menu


async def test_button_and_list_replies_carry_our_callback_data() -> None:
    reply = {"type": "button_reply", "button_reply": {"id": "cart:add:7", "title": "Add"}}
    update = await bridged({"type": "interactive", "interactive": reply})
    assert update.callback_query is not None and update.callback_query.data == "cart:add:7"
    row = {"type": "list_reply", "list_reply": {"id": "p:9", "title": "Phone", "description": ""}}
    update = await bridged({"type": "interactive", "interactive": row})
    assert update.callback_query is not None and update.callback_query.data == "p:9"
    typed = {
        "type": "button_reply",
        "button_reply": {"id": TEXT_BUTTON_PREFIX + "Cancel", "title": "Cancel"},
    }
    update = await bridged({"type": "interactive", "interactive": typed})
    assert update.message is not None and update.message.text == "Cancel"


async def test_location_contacts_and_images() -> None:
    update = await bridged({"type": "location", "location": {"latitude": 43.2, "longitude": 76.9}})
    assert update.message is not None and update.message.location is not None
    assert update.message.location.latitude == 43.2
    own = {
        "name": {"first_name": "Aigul", "formatted_name": "Aigul B"},
        "phones": [{"phone": "+7 701 123 45 67", "wa_id": "77011234567", "type": "CELL"}],
    }
    update = await bridged({"type": "contacts", "contacts": [own]})
    assert update.message is not None and update.message.contact is not None
    assert update.message.contact.phone_number == "+7 701 123 45 67"
    assert update.message.contact.user_id == CUSTOMER  # the customer's own number
    other = {"name": {"formatted_name": "Mom"}, "phones": [{"phone": "+7 702 000 00 00"}]}
    update = await bridged({"type": "contacts", "contacts": [other]})
    assert update.message is not None and update.message.contact is not None
    assert update.message.contact.user_id is None and update.message.contact.first_name == "Mom"
    update = await bridged(
        {
            "type": "image",
            "image": {"id": "MEDIA1", "mime_type": "image/jpeg", "caption": "this one"},
        }
    )
    assert update.message is not None and update.message.photo is not None
    assert update.message.photo[0].file_id == "MEDIA1" and update.message.caption == "this one"


async def test_a_voice_note_audio_video_document_and_sticker_are_their_fields() -> None:
    ogg = "audio/ogg; codecs=opus"
    voice = await bridged({"type": "audio", "audio": {"id": "M2", "mime_type": ogg, "voice": True}})
    song = await bridged({"type": "audio", "audio": {"id": "M3", "mime_type": "audio/mpeg"}})
    clip = await bridged({"type": "video", "video": {"id": "M4", "caption": "see"}})
    document = {"id": "M5", "filename": "invoice.pdf", "mime_type": "application/pdf"}
    paper = await bridged({"type": "document", "document": document})
    assert voice.message is not None and voice.message.voice is not None
    assert (voice.message.voice.file_id, voice.message.voice.mime_type) == ("M2", ogg)
    assert song.message is not None and song.message.audio is not None
    assert song.message.voice is None and song.message.audio.file_id == "M3"
    assert clip.message is not None and clip.message.video is not None
    assert clip.message.video.file_id == "M4" and clip.message.caption == "see"
    assert paper.message is not None and paper.message.document is not None
    assert paper.message.document.file_name == "invoice.pdf"
    webp = {"id": "M6", "mime_type": "image/webp", "animated": True}
    for body, animated in (({**webp, "animated": False}, False), (webp, True)):
        thumb = await bridged({"type": "sticker", "sticker": body})
        assert thumb.message is not None and thumb.message.sticker is not None
        assert thumb.message.sticker.file_id == "M6"
        assert thumb.message.sticker.is_animated is animated


async def test_a_reaction_is_a_message_reaction_and_an_empty_one_takes_it_back() -> None:
    thumbs = await bridged({"type": "reaction", "reaction": {"message_id": "w1", "emoji": "👍"}})
    assert thumbs.message is None and thumbs.message_reaction is not None
    assert thumbs.message_reaction.chat.id == CUSTOMER
    (given,) = thumbs.message_reaction.new_reaction
    assert isinstance(given, ReactionTypeEmoji) and given.emoji == "👍"
    taken = await bridged({"type": "reaction", "reaction": {"message_id": "w1", "emoji": ""}})
    assert taken.message_reaction is not None and taken.message_reaction.new_reaction == []


async def test_other_kinds_are_a_message_without_text_for_the_fallback() -> None:
    for kind in ("unsupported", "audio", "sticker"):  # audio, sticker: without their media
        update = await bridged({"type": kind, kind: {"ID": "x"}})
        assert update.message is not None
        assert update.message.text is None and update.message.photo is None
        assert update.message.voice is None and update.message.audio is None
        assert update.message.sticker is None
