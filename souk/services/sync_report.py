"""What a sync run did: counts, the conflicts it left alone, and the items it could not
take as the store gave them."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from souk.db.models import SyncKind


class SyncProblem(enum.StrEnum):
    NO_PRICE = "no_price"  # a new item without a usable price: not created
    BAD_PRICE = "bad_price"  # detail: the price as the store wrote it
    NEGATIVE_STOCK = "negative_stock"  # detail: the store's stock; souk's is 0
    NO_SKU = "no_sku"  # the store gave none: `sku` is the one souk made
    DUPLICATE_SKU = "duplicate_sku"  # detail: the SKU souk gave the item instead
    PUSH_REFUSED = "push_refused"  # detail: the store's reason


@dataclass(frozen=True)
class ItemProblem:
    """An item souk took differently from how the store gave it, or not at all."""

    sku: str  # souk's SKU, or the store's item id when there is none yet
    problem: SyncProblem
    detail: str = ""


@dataclass(frozen=True)
class Conflict:
    """A value both sides changed since the last sync, to different values: neither is
    overwritten until they agree again."""

    sku: str
    field: str  # "price" or "stock"
    synced: Decimal | int
    local: Decimal | int
    remote: Decimal | int


@dataclass
class SyncReport:
    """One run of one source."""

    source_id: int
    shop_id: int
    kind: SyncKind
    store: str  # the store's base URL
    full: bool = False
    resumed: bool = False
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    prices_in: int = 0  # prices taken from the store
    stock_in: int = 0
    prices_out: int = 0  # prices written to the store
    stock_out: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    problems: list[ItemProblem] = field(default_factory=list)
    error: str | None = None

    def absorb(self, page: SyncReport, *, read: int) -> None:
        """Add what one page did to the run's report."""
        self.read += read
        for name in ("created", "updated", "unchanged", "prices_in", "stock_in"):
            setattr(self, name, getattr(self, name) + getattr(page, name))
        self.problems += page.problems

    @property
    def needs_staff(self) -> bool:
        """Worth telling the staff: an error, conflicts, or items not taken as the store
        gave them."""
        return bool(self.error or self.conflicts or self.problems)

    def digest(self) -> str:
        """Names what the staff would be told, so the same news is pushed once."""
        parts = sorted(
            [f"c:{c.sku}:{c.field}:{c.local}:{c.remote}" for c in self.conflicts]
            + [f"p:{p.sku}:{p.problem}:{p.detail}" for p in self.problems]
            + ([f"e:{self.error}"] if self.error else [])
        )
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]
