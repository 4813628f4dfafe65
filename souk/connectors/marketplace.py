"""A marketplace's list of every seller of one product, read from its offers API.

The API answers JSON, one page at a time:

    {"product": {"id": "108382478", "name": "Phone X"},
     "offers": [{"seller_id": "m-17", "seller_name": "Gadget House", "price": "1299.00",
                 "currency": "KZT", "rating": 4.8, "delivery": "tomorrow",
                 "in_stock": true}, ...],
     "next": "https://.../offers?page=2" | null}

Pages are fetched through the polite `PageFetcher` (the marketplace is one host like any
other: its slots, spacing, retries and breaker apply) and followed up to `MAX_PAGES`.
A seller's price is read with its currency by `parse_structured_price`; a seller whose
price cannot be read keeps its row with the problem, so one odd row never hides the others.
A body that is not such a list is `UnreadableList`, never guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from yarl import URL

from souk.connectors.fetch import FetchError, FetchProblem, PageFetcher
from souk.connectors.prices import (
    ParsedPrice,
    PriceProblem,
    UnparseablePrice,
    parse_structured_price,
)

MAX_PAGES = 20
_RATING_MAX = Decimal("9.99")  # numeric(3,2)


@dataclass(frozen=True)
class SellerOffer:
    """One seller's row: `price` is None when it could not be read (`problem` says why)."""

    seller_id: str
    seller_name: str
    price: ParsedPrice | None
    in_stock: bool
    rating: Decimal | None = None
    delivery: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class OfferList:
    product_name: str | None
    offers: tuple[SellerOffer, ...]


class UnreadableList(ValueError):
    """The answer is not a marketplace offer list."""


def _rating(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        rating = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    return rating if 0 <= rating <= _RATING_MAX else None


def _seller(row: object, default_currency: str | None) -> SellerOffer:
    if not isinstance(row, dict) or not str(row.get("seller_id") or "").strip():
        raise UnreadableList("an offer without a seller_id")
    seller_id = str(row["seller_id"]).strip()[:128]
    name = str(row.get("seller_name") or seller_id).strip()[:200]
    price: ParsedPrice | None = None
    problem: str | None = None
    raw = row.get("price")
    currency = row.get("currency")
    if raw is None or not isinstance(raw, str | int | float):
        problem = PriceProblem.EMPTY.value
    else:
        try:
            price = parse_structured_price(
                raw,
                currency=str(currency) if currency else None,
                default_currency=default_currency,
            )
        except UnparseablePrice as error:
            problem = error.problem.value
        except ValueError:  # a currency field that is no ISO code
            problem = PriceProblem.NO_CURRENCY.value
    delivery = row.get("delivery")
    return SellerOffer(
        seller_id=seller_id,
        seller_name=name,
        price=price,
        in_stock=row.get("in_stock") is not False,
        rating=_rating(row.get("rating")),
        delivery=str(delivery)[:200] if delivery else None,
        problem=problem,
    )


def read_offer_list(
    body: str, *, default_currency: str | None = None
) -> tuple[OfferList, str | None]:
    """One page of an offer list and the address of the next page (None at the end)."""
    try:
        data = json.loads(body)
    except ValueError:
        raise UnreadableList("not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("offers"), list):
        raise UnreadableList("no offers list")
    product = data.get("product")
    name = product.get("name") if isinstance(product, dict) else None
    offers = tuple(_seller(row, default_currency) for row in data["offers"])
    following = data.get("next")
    return OfferList(str(name) if name else None, offers), (str(following) if following else None)


async def fetch_offer_list(
    fetcher: PageFetcher, url: str, *, default_currency: str | None = None
) -> OfferList:
    """Every seller of the product at `url`, page after page; `FetchError` when a page
    cannot be fetched, `UnreadableList` when one is not a list."""
    sellers: dict[str, SellerOffer] = {}
    name: str | None = None
    address: str | None = url
    for _ in range(MAX_PAGES):
        if address is None:
            break
        page = await fetcher.fetch(address)
        found, following = read_offer_list(page.text(), default_currency=default_currency)
        name = name or found.product_name
        for offer in found.offers:
            sellers.setdefault(offer.seller_id, offer)  # a seller repeated on a later page
        address = str(URL(page.final_url).join(URL(following))) if following else None
    else:
        if address is not None:
            raise FetchError(FetchProblem.HTTP_ERROR, url, detail=f"over {MAX_PAGES} pages")
    return OfferList(name, tuple(sellers.values()))
