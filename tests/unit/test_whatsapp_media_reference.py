"""The reference a staff push carries to a WhatsApp customer's file: it comes back as it
went, and the customer's file name is only ever a plain name."""

from __future__ import annotations

import pytest

from souk.notify import FILE_NAME_LIMIT, parse_whatsapp_media, whatsapp_media


def test_a_reference_comes_back_as_it_went() -> None:
    named = whatsapp_media("106540352242922", "1000000000000007", "invoice 7 (copy).pdf")
    assert parse_whatsapp_media(named) == (
        "106540352242922",
        "1000000000000007",
        "invoice 7 (copy).pdf",
    )
    plain = whatsapp_media("106540352242922", "1000000000000007")
    assert parse_whatsapp_media(plain) == ("106540352242922", "1000000000000007", None)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("invoice 7/8.pdf", "8.pdf"),  # a slash makes the name before it a folder
        ("C:\\Users\\aigul\\счёт.pdf", "счёт.pdf"),
        ("bad\r\nname\x00.pdf", "badname.pdf"),
        ("..", None),
        ("   ", None),
        ("x" * 500 + ".pdf", "x" * (FILE_NAME_LIMIT - 4) + ".pdf"),
    ],
)
def test_a_customers_file_name_is_a_plain_name(given: str, kept: str | None) -> None:
    reference = whatsapp_media("106540352242922", "1000000000000007", given)
    assert parse_whatsapp_media(reference) == ("106540352242922", "1000000000000007", kept)


@pytest.mark.parametrize(
    "value", ["1000000000000007", "https://example.com/a.jpg", "whatsapp-media:106/", None, 7]
)
def test_anything_else_is_no_reference(value: object) -> None:
    assert parse_whatsapp_media(value) is None
