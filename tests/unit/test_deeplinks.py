"""/start payloads: what each one points at, and which SKUs can be carried in one."""

from __future__ import annotations

import pytest

from souk.services.deeplinks import DeepLink, DeepLinkKind, parse_start_payload, product_payload


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (None, DeepLink(DeepLinkKind.NONE)),
        ("", DeepLink(DeepLinkKind.NONE)),
        ("p_SKU-1", DeepLink(DeepLinkKind.PRODUCT, "SKU-1")),
        ("c_phones", DeepLink(DeepLinkKind.CATEGORY, "phones")),
        ("i_tok", DeepLink(DeepLinkKind.INVITE, "tok")),
        ("p_a_b", DeepLink(DeepLinkKind.PRODUCT, "a_b")),
        ("x_1", DeepLink(DeepLinkKind.INVALID)),
        ("p_", DeepLink(DeepLinkKind.INVALID)),
        ("p", DeepLink(DeepLinkKind.INVALID)),
        ("P_SKU-1", DeepLink(DeepLinkKind.INVALID)),
        ("has space", DeepLink(DeepLinkKind.INVALID)),
        ("p_sku/1", DeepLink(DeepLinkKind.INVALID)),
        # Regression: `$` matched before a final newline.
        ("p_sku\n", DeepLink(DeepLinkKind.INVALID)),
        ("p_" + "a" * 62, DeepLink(DeepLinkKind.PRODUCT, "a" * 62)),  # 64 characters
        ("p_" + "a" * 63, DeepLink(DeepLinkKind.INVALID)),  # 65 characters
    ],
    ids=repr,
)
def test_parse_start_payload(payload: str | None, expected: DeepLink) -> None:
    assert parse_start_payload(payload) == expected


@pytest.mark.parametrize(
    ("sku", "expected"),
    [
        ("SKU-1", "p_SKU-1"),
        ("a_b", "p_a_b"),
        ("x" * 62, "p_" + "x" * 62),
        ("x" * 63, None),
        ("x" * 70, None),
        ("A/B", None),
        ("with space", None),
        ("", None),  # regression: "p_" does not parse back
        ("sku\n", None),  # regression: `$` matched before a final newline
    ],
    ids=repr,
)
def test_product_payload(sku: str, expected: str | None) -> None:
    assert product_payload(sku) == expected


@pytest.mark.parametrize("sku", ["SKU-1", "a_b", "Z9", "x" * 62])
def test_product_payload_round_trips(sku: str) -> None:
    payload = product_payload(sku)
    assert payload is not None
    assert parse_start_payload(payload) == DeepLink(DeepLinkKind.PRODUCT, sku)
