"""Deep-link payloads of /start (t.me/bot?start=PAYLOAD): what they point at."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

# Telegram allows up to 64 characters of A-Z a-z 0-9 _ - in a start payload.
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class DeepLinkKind(enum.StrEnum):
    NONE = "none"
    PRODUCT = "product"
    CATEGORY = "category"
    INVITE = "invite"
    INVALID = "invalid"


_PREFIXES = {"p": DeepLinkKind.PRODUCT, "c": DeepLinkKind.CATEGORY, "i": DeepLinkKind.INVITE}


@dataclass(frozen=True)
class DeepLink:
    kind: DeepLinkKind
    value: str = ""


def parse_start_payload(payload: str | None) -> DeepLink:
    """`p_<sku>` a product, `c_<slug>` a category, `i_<token>` a staff invite."""
    if not payload:
        return DeepLink(DeepLinkKind.NONE)
    if not _PAYLOAD.fullmatch(payload):
        return DeepLink(DeepLinkKind.INVALID)
    prefix, _, value = payload.partition("_")
    kind = _PREFIXES.get(prefix)
    if kind is None or not value:
        return DeepLink(DeepLinkKind.INVALID)
    return DeepLink(kind, value)


def product_payload(sku: str) -> str | None:
    """The payload that opens a product, or None when the SKU cannot be carried in one."""
    if not sku:
        return None
    payload = f"p_{sku}"
    return payload if _PAYLOAD.fullmatch(payload) else None
