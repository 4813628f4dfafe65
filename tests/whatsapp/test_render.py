"""Telegram calls rendered as Cloud API messages within WhatsApp's limits."""

from __future__ import annotations

from typing import Any

from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, SendPhoto
from aiogram.types import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from souk.channels.whatsapp_render import (
    KEYBOARD_BODY,
    TEXT_BUTTON_PREFIX,
    html_to_whatsapp,
    render_call,
    render_message,
    shorten,
    split_text,
)


def keyboard(*labels: str, url: str | None = None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for number, label in enumerate(labels):
        builder.button(text=label, callback_data=f"cd:{number}")
    if url:
        builder.button(text="Site", url=url)
    return builder.as_markup()


def interactive(message: dict[str, Any]) -> dict[str, Any]:
    assert message["type"] == "interactive"
    body: dict[str, Any] = message["interactive"]
    return body


def test_up_to_three_buttons_become_reply_buttons_with_titles_cut_at_a_word() -> None:
    rendered = render_message(
        "Pick one", keyboard("🛒 Add to cart", "Sony WH-1000XM5 headphones black", "Back")
    )
    (message,) = rendered.messages
    body = interactive(message)
    assert body["type"] == "button" and body["body"] == {"text": "Pick one"}
    buttons = [b["reply"] for b in body["action"]["buttons"]]
    assert [b["id"] for b in buttons] == ["cd:0", "cd:1", "cd:2"]
    assert buttons[1]["title"] == "Sony WH-1000XM5…"
    assert all(len(b["title"]) <= 20 for b in buttons)
    assert rendered.menu == {}


def test_four_to_ten_become_a_list_with_the_long_label_in_the_description() -> None:
    labels = [f"Phone {n}" for n in range(1, 9)] + ["Samsung Galaxy S24 Ultra 512 GB titanium gray"]
    (message,) = render_message("Results", keyboard(*labels)).messages
    body = interactive(message)
    assert body["type"] == "list" and len(body["action"]["button"]) <= 20
    rows = body["action"]["sections"][0]["rows"]
    assert len(rows) == 9 and all(len(r["title"]) <= 24 for r in rows)
    assert rows[-1]["title"] == "Samsung Galaxy S24…"
    assert rows[-1]["description"] == "Samsung Galaxy S24 Ultra 512 GB titanium gray"
    assert "description" not in rows[0]


def test_more_than_ten_become_a_numbered_menu_the_customer_types_back() -> None:
    rendered = render_message("Categories", keyboard(*[f"Category {n}" for n in range(12)]))
    (message,) = rendered.messages
    assert message["type"] == "text"
    lines = message["text"]["body"].splitlines()
    assert (
        lines[0] == "Categories" and lines[2] == "1. Category 0" and lines[-1] == "12. Category 11"
    )
    assert rendered.menu["1"] == "cd:0" and rendered.menu["12"] == "cd:11"


def test_titles_that_collide_once_shortened_go_to_a_list() -> None:
    long = "Apple iPhone 15 Pro Max 256 GB"
    (message,) = render_message("x", keyboard(long + " blue", long + " black")).messages
    assert interactive(message)["type"] == "list"


def test_a_long_text_is_split_and_the_buttons_follow_in_their_own_message() -> None:
    text = "\n".join(f"line {n} " + "x" * 90 for n in range(100))  # ~10,000 characters
    rendered = render_message(text, keyboard("Yes", "No"))
    *texts, buttons = rendered.messages
    assert len(texts) == 3 and all(len(t["text"]["body"]) <= 4096 for t in texts)
    assert "\n".join(t["text"]["body"] for t in texts) == text  # cut at line breaks only
    assert interactive(buttons)["body"] == {"text": KEYBOARD_BODY}


def test_split_cuts_at_words_when_there_are_no_lines() -> None:
    pieces = split_text("word " * 2000, 4096)
    assert all(len(p) <= 4096 and not p.endswith(" wor") for p in pieces)
    assert " ".join(pieces).split() == ["word"] * 2000


def test_html_becomes_whatsapp_formatting() -> None:
    assert (
        html_to_whatsapp("<b>Total</b>: <i>5</i> &lt;3 <code>SKU-1</code>")
        == "*Total*: _5_ <3 `SKU-1`"
    )
    assert (
        html_to_whatsapp('<a href="https://x.test/p">the page</a>') == "the page https://x.test/p"
    )


def test_url_buttons_become_links_and_contact_requests_a_hint() -> None:
    (message,) = render_message("Hi", keyboard("Open", url="https://shop.test")).messages
    assert interactive(message)["body"]["text"] == "Hi\n\nSite: https://shop.test"
    contact = ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text="Share my number", request_contact=True)],
            [KeyboardButton(text="Cancel")],
        ]
    )
    (message,) = render_message("Your phone?", contact).messages
    body = interactive(message)
    assert body["body"]["text"] == "Your phone?\n\n📇"
    assert body["action"]["buttons"][0]["reply"] == {
        "id": TEXT_BUTTON_PREFIX + "Cancel",
        "title": "Cancel",
    }


def test_a_photo_with_few_buttons_is_their_header_else_an_image_then_a_list() -> None:
    photo = SendPhoto(
        chat_id=1,
        photo="https://img.test/1.jpg",
        caption="<b>Phone</b> 199",
        reply_markup=keyboard("Add", "Back"),
    )
    rendered = render_call(photo)
    assert rendered is not None
    (message,) = rendered.messages
    body = interactive(message)
    assert body["header"] == {"type": "image", "image": {"link": "https://img.test/1.jpg"}}
    assert body["body"]["text"] == "*Phone* 199"
    many = photo.model_copy(update={"reply_markup": keyboard(*"abcdef")})
    rendered = render_call(many)
    assert rendered is not None
    image, listing = rendered.messages
    assert image == {
        "type": "image",
        "image": {"link": "https://img.test/1.jpg", "caption": "*Phone* 199"},
    }
    assert (
        interactive(listing)["type"] == "list"
        and interactive(listing)["body"]["text"] == KEYBOARD_BODY
    )


def test_edits_are_new_messages_and_silent_callback_answers_send_nothing() -> None:
    edit = render_call(EditMessageText(chat_id=1, message_id=5, text="Cart is empty"))
    assert edit is not None and edit.messages == [
        {"type": "text", "text": {"body": "Cart is empty", "preview_url": False}}
    ]
    assert render_call(AnswerCallbackQuery(callback_query_id="1:2")) is None
    told = render_call(AnswerCallbackQuery(callback_query_id="1:2", text="Only 3 in stock"))
    assert told is not None and told.messages[0]["text"]["body"] == "Only 3 in stock"
    plain = render_call(SendMessage(chat_id=1, text="a" * 4096))
    assert plain is not None and len(plain.messages) == 1


def test_shorten_keeps_short_labels_and_cuts_hard_without_spaces() -> None:
    assert shorten("  Back  ", 20) == "Back"
    assert shorten("x" * 30, 20) == "x" * 19 + "…"
