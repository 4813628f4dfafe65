"""Offers read from competitors' product pages: realistic fixtures for each source, and small
pages for each rule of reconciling them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from souk.connectors.candidates import Availability, OfferSource, read_availability
from souk.connectors.css import SelectorError
from souk.connectors.pages import (
    PageOffer,
    PageProblem,
    SelectorSet,
    UnparseablePage,
    extract_offer,
)
from souk.connectors.prices import ParsedPrice, PriceProblem

PAGES = Path(__file__).parent / "pages"
IN, OUT, UNKNOWN = Availability.IN_STOCK, Availability.OUT_OF_STOCK, Availability.UNKNOWN
X20 = SelectorSet(
    price="#product .price--current .value",
    currency=".price--current .sym",
    availability=".product-card .availability",
)


def fixture(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def offer_of(html: str, **kwargs: object) -> PageOffer:
    result = extract_offer(html, **kwargs)  # type: ignore[arg-type]
    assert isinstance(result, PageOffer), result
    return result


def refusal_of(html: str, **kwargs: object) -> UnparseablePage:
    result = extract_offer(html, **kwargs)  # type: ignore[arg-type]
    assert isinstance(result, UnparseablePage), result
    return result


@pytest.mark.parametrize(
    ("name", "selectors", "price", "availability", "title", "seller", "source"),
    [
        (
            "jsonld_product.html",
            None,
            ParsedPrice(Decimal("189990"), "KZT"),
            IN,
            "Смартфон Samsung Galaxy A55 8/256 ГБ, синий",
            "TechnoDom",
            OfferSource.JSON_LD,
        ),
        (
            "jsonld_graph.html",  # offer by @id, seller by @id, strike-through price left out
            None,
            ParsedPrice(Decimal("34.50"), "GBP"),
            IN,
            "Ceramic Pour-Over Coffee Dripper",
            "Brew Corner Ltd",
            OfferSource.JSON_LD,
        ),
        (
            "jsonld_aggregate.html",
            None,
            ParsedPrice(Decimal("38990"), "RUB"),
            UNKNOWN,
            "Кофемашина DeLonghi Magnifica S ECAM 22.110.B",
            None,
            OfferSource.JSON_LD,
        ),
        (
            "microdata.html",  # content="1299.00" over the Arabic-Indic text, seller item
            None,
            ParsedPrice(Decimal("1299"), "AED"),
            IN,
            "سماعات لاسلكية بخاصية إلغاء الضوضاء",
            "متجر النور",
            OfferSource.MICRODATA,
        ),
        (
            "opengraph.html",
            None,
            ParsedPrice(Decimal("89.95"), "EUR"),
            IN,
            "Wanderrucksack Alpin 30 L",
            None,
            OfferSource.OPENGRAPH,
        ),
        (
            "broken_jsonld.html",  # falls back to microdata
            None,
            ParsedPrice(Decimal("349990"), "KZT"),
            OUT,
            "Пылесос Dyson V12 Detect Slim",
            None,
            OfferSource.MICRODATA,
        ),
        (
            "odd_markup.html",  # unclosed tags, entities, the price split across spans
            None,
            ParsedPrice(Decimal("12490"), "RUB"),
            IN,
            "Чайник электрический Vitek VT-7048",
            None,
            OfferSource.MICRODATA,
        ),
        (
            "selectors.html",
            X20,
            ParsedPrice(Decimal("249990"), "KZT"),
            IN,
            "Шаңсорғыш Xiaomi Robot Vacuum X20",
            None,
            OfferSource.SELECTORS,
        ),
    ],
)
def test_fixture_pages(
    name: str,
    selectors: SelectorSet | None,
    price: ParsedPrice,
    availability: Availability,
    title: str,
    seller: str | None,
    source: OfferSource,
) -> None:
    offer = offer_of(fixture(name), selectors=selectors)
    assert (offer.price, offer.availability, offer.title, offer.seller, offer.source) == (
        price,
        availability,
        title,
        seller,
        source,
    )
    assert offer.lowest_of_several is (name == "jsonld_aggregate.html")


def test_broken_json_ld_is_noted() -> None:
    offer = offer_of(fixture("broken_jsonld.html"))
    assert len(offer.notes) == 1
    assert offer.notes[0].startswith("JSON-LD block 1 is not JSON")


def test_a_page_without_a_price() -> None:
    refusal = refusal_of(fixture("no_price.html"))
    assert refusal.problem is PageProblem.NO_PRICE
    assert refusal.found == ()
    assert refusal.title == "Станок фрезерный ФС-400"


def test_sources_that_disagree_are_a_conflict() -> None:
    refusal = refusal_of(fixture("conflicting.html"))
    assert refusal.problem is PageProblem.CONFLICTING_PRICES
    assert [(c.source, c.price) for c in refusal.found] == [
        (OfferSource.JSON_LD, ParsedPrice(Decimal("29.99"), "USD")),
        (OfferSource.OPENGRAPH, ParsedPrice(Decimal("24.99"), "USD")),
    ]


def test_a_price_in_another_currency_is_returned_as_it_is() -> None:
    offer = offer_of(fixture("jsonld_graph.html"), default_currency="KZT")
    assert offer.price.currency == "GBP"


def test_a_selector_matching_several_prices_is_a_conflict() -> None:
    refusal = refusal_of(fixture("selectors.html"), selectors=SelectorSet(price=".price"))
    assert refusal.problem is PageProblem.CONFLICTING_PRICES
    assert sorted(c.price.amount for c in refusal.found if c.price) == [19990, 249990, 289990]


def test_a_selector_matching_nothing_is_noted() -> None:
    refusal = refusal_of(fixture("selectors.html"), selectors=SelectorSet(price=".cost"))
    assert refusal.problem is PageProblem.NO_PRICE
    assert refusal.notes == ("selectors: price selector '.cost' matched nothing",)


def test_selector_sets_are_checked_when_made() -> None:
    with pytest.raises(SelectorError):
        SelectorSet(price=".price:last-child")
    with pytest.raises(SelectorError):
        SelectorSet(price=".price", availability="div + span")


def jsonld(*nodes: object) -> str:
    blocks = "".join(
        f'<script type="application/ld+json">{json.dumps(node, ensure_ascii=False)}</script>'
        for node in nodes
    )
    return f"<html><head>{blocks}</head><body><h1>Page</h1></body></html>"


def product(offers: object, name: str = "Kettle") -> dict[str, object]:
    return {"@context": "https://schema.org", "@type": "Product", "name": name, "offers": offers}


def offer(
    price: object, currency: str | None = "KZT", stock: str | None = None
) -> dict[str, object]:
    node: dict[str, object] = {"@type": "Offer", "price": price}
    if currency:
        node["priceCurrency"] = currency
    if stock:
        node["availability"] = f"https://schema.org/{stock}"
    return node


def test_in_stock_offers_count_before_sold_out_ones() -> None:
    html = jsonld(product([offer("14990", stock="OutOfStock"), offer("12990", stock="InStock")]))
    found = offer_of(html)
    assert (found.price.amount, found.availability) == (Decimal("12990"), IN)


def test_two_offers_in_stock_at_different_prices_are_a_conflict() -> None:
    html = jsonld(product([offer("14990", stock="InStock"), offer("12990", stock="InStock")]))
    assert refusal_of(html).problem is PageProblem.CONFLICTING_PRICES


def test_all_sold_out_gives_the_price_and_out_of_stock() -> None:
    html = jsonld(product([offer(12990, stock="SoldOut"), offer(12990, stock="OutOfStock")]))
    found = offer_of(html)
    assert (found.price.amount, found.availability) == (Decimal("12990"), OUT)


def test_a_price_without_a_currency_needs_a_default() -> None:
    html = jsonld(product(offer("12990", currency=None)))
    refusal = refusal_of(html)
    assert refusal.problem is PageProblem.UNPARSEABLE_PRICE
    assert refusal.found[0].problem is PriceProblem.NO_CURRENCY
    assert refusal.notes == ("json-ld: price '12990' not read (no_currency)",)
    assert offer_of(html, default_currency="KZT").price == ParsedPrice(Decimal("12990"), "KZT")


def test_agreeing_sources_complete_each_other() -> None:
    html = jsonld(product(offer("12990"))).replace(
        "<h1>Page</h1>",
        '<div itemscope itemtype="https://schema.org/Offer"><span itemprop="price">12 990 ₸'
        '</span><link itemprop="availability" href="https://schema.org/InStock">'
        '<span itemprop="seller">Kettle World</span></div>',
    )
    found = offer_of(html)
    assert (found.source, found.availability, found.seller) == (
        OfferSource.JSON_LD,
        IN,
        "Kettle World",
    )


def test_sources_in_different_currencies_are_a_conflict() -> None:
    html = jsonld(product(offer("12990"))).replace(
        "</head>",
        '<meta property="product:price:amount" content="12990">'
        '<meta property="product:price:currency" content="RUB"></head>',
    )
    assert refusal_of(html).problem is PageProblem.CONFLICTING_PRICES


@pytest.mark.parametrize(
    ("nodes", "price", "title"),
    [
        (  # a standalone Offer naming its item
            [
                {
                    "@context": "https://schema.org",
                    "@type": "Offer",
                    "price": "5490",
                    "priceCurrency": "KZT",
                    "itemOffered": {"@type": "Product", "name": "Mug"},
                }
            ],
            "5490",
            "Mug",
        ),
        (  # only a priceSpecification: the list price is not what the buyer pays
            [
                product(
                    {
                        "@type": "Offer",
                        "priceSpecification": [
                            {
                                "@type": "UnitPriceSpecification",
                                "price": 9990,
                                "priceCurrency": "KZT",
                                "priceType": "https://schema.org/ListPrice",
                            },
                            {
                                "@type": "UnitPriceSpecification",
                                "price": 7990,
                                "priceCurrency": "KZT",
                            },
                        ],
                    }
                )
            ],
            "7990",
            "Kettle",
        ),
        (  # an AggregateOffer without lowPrice: its offers are read one by one
            [product({"@type": "AggregateOffer", "offers": [offer(4990), offer("4990.00")]})],
            "4990",
            "Kettle",
        ),
        (  # @type as a list, prefixed names, a WebPage's mainEntity, nested arrays
            [
                [
                    {
                        "@type": "WebPage",
                        "mainEntity": {
                            "@type": ["schema:Product"],
                            "name": "Pot",
                            "offers": [
                                [{"@type": "schema:Offer", "price": 3990, "priceCurrency": "kzt"}]
                            ],
                        },
                    }
                ]
            ],
            "3990",
            "Pot",
        ),
        (  # a price written for people inside JSON-LD
            [product(offer("1 299,00 ₸", currency=None))],
            "1299",
            "Kettle",
        ),
    ],
)
def test_json_ld_shapes(nodes: list[object], price: str, title: str) -> None:
    found = offer_of(jsonld(*nodes))
    assert (found.price, found.title) == (ParsedPrice(Decimal(price), "KZT"), title)


def test_json_ld_wrapped_in_an_html_comment_is_read() -> None:
    html = (
        '<script type="application/ld+json"><!--\n'
        '{"@type": "Product", "name": "Cup", "offers": {"price": 990, "priceCurrency": "KZT"}}'
        "\n--></script>"
    )
    assert offer_of(html).price == ParsedPrice(Decimal("990"), "KZT")


def test_opengraph_sale_price_is_the_price() -> None:
    html = (
        '<meta property="product:price:amount" content="12990">'
        '<meta property="product:price:currency" content="KZT">'
        '<meta property="product:sale_price:amount" content="9990">'
        '<meta property="product:sale_price:currency" content="KZT">'
    )
    assert offer_of(html).price == ParsedPrice(Decimal("9990"), "KZT")


def test_loose_microdata_without_items() -> None:
    html = (
        '<p>Цена: <span itemprop="price">4 490</span> <span itemprop="priceCurrency">₸</span></p>'
    )
    found = offer_of(html)
    assert (found.price, found.source) == (
        ParsedPrice(Decimal("4490"), "KZT"),
        OfferSource.MICRODATA,
    )


def test_an_aggregate_microdata_offer_sums_up_its_offers() -> None:
    html = (
        '<div itemscope itemtype="https://schema.org/AggregateOffer">'
        '<meta itemprop="lowPrice" content="100"><meta itemprop="highPrice" content="150">'
        '<meta itemprop="priceCurrency" content="AED">'
        '<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
        '<meta itemprop="price" content="150"><meta itemprop="priceCurrency" content="AED">'
        "</div></div>"
    )
    found = offer_of(html)
    assert (found.price, found.lowest_of_several) == (ParsedPrice(Decimal("100"), "AED"), True)


@pytest.mark.parametrize(
    ("value", "availability"),
    [
        ("https://schema.org/InStock", IN),
        ("http://schema.org/LimitedAvailability", IN),
        ("schema:OnlineOnly", IN),
        ("instock", IN),
        ("in stock", IN),
        ("В наличии", IN),
        ("Қоймада бар", IN),
        ("متوفر", IN),
        ("https://schema.org/OutOfStock", OUT),
        ("SoldOut", OUT),
        ("out of stock", OUT),
        ("oos", OUT),
        ("Нет в наличии", OUT),
        ("غير متوفر", OUT),
        ("Currently unavailable", OUT),
        ("https://schema.org/PreOrder", UNKNOWN),
        ("https://schema.org/BackOrder", UNKNOWN),
        ("Available for pre-order", UNKNOWN),
        ("Под заказ", UNKNOWN),
        ("", UNKNOWN),
        (None, UNKNOWN),
    ],
)
def test_availability_values(value: str | None, availability: Availability) -> None:
    assert read_availability(value) is availability
