"""Texts shown to customers: money, stock, product lines and cards (HTML, translated)."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from aiogram.utils.i18n import gettext as _
from babel.numbers import format_currency, format_decimal

from souk.db.models import Order, OrderItem, OrderStatus, PaymentMethod, Product, ShippingOption
from souk.services.cart import CartView
from souk.services.catalog import localized
from souk.services.orders import Quote
from souk.services.reports import SalesReport

_DESCRIPTION_LIMIT = 700  # a card stays well under the 4096 of a message
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024


def short_title(text: str, limit: int = 40) -> str:
    """A title that fits a button or a callback answer (200 characters at most)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def money(amount: Decimal, currency: str, language: str) -> str:
    """12990.5 USD -> '$12,990.50' (en) / '12 990,50 $' (ru)."""
    return str(format_currency(amount, currency, locale=language))


def amount(value: Decimal | int, language: str) -> str:
    """19990.5 -> '19,990.5' (en) / '19 990,5' (ru): a number as the customer reads it."""
    return str(format_decimal(value, locale=language))


def stock_state(stock: int) -> str:
    if stock <= 0:
        return _("out of stock")
    if stock <= 3:
        return _("only {count} left").format(count=stock)
    return _("in stock")


def product_summary(product: Product, language: str) -> str:
    """Title, price and stock on three short lines."""
    return (
        f"<b>{escape(localized(product, 'title', language))}</b>\n"
        f"{money(product.price, product.currency, language)} · {stock_state(product.stock)}\n"
        f"<code>{escape(product.sku)}</code>"
    )


def product_card(product: Product, language: str, *, limit: int = MESSAGE_LIMIT) -> str:
    """The product's own page: summary, description and its attributes, within `limit`
    characters (a photo's caption holds 1024): the description gives way first, then
    the attributes."""
    head = [product_summary(product, language)]
    if product.brand:
        head.append(_("Brand: {brand}").format(brand=escape(product.brand)))
    details = [
        f"• {escape(str(key)).replace('_', ' ')}: {escape(str(value))}"
        for key, value in product.attributes.items()
    ]
    while details and len("\n".join([*head, "", *details])) > limit:
        details.pop()
    fixed = len("\n".join([*head, "", "", *details])) if details else len("\n".join(head))
    room = min(_DESCRIPTION_LIMIT, limit - fixed - 2)
    description = escape(shorten(localized(product, "description", language).strip(), room))
    lines = head
    if description:
        lines += ["", description]
    if details:
        lines += ["", *details]
    return "\n".join(lines)


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word to `limit` characters with an ellipsis ('' if no room)."""
    if len(text) <= limit:
        return text
    if limit < 20:
        return ""
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + "…"


def cart_text(cart: CartView, language: str) -> str:
    """Each line with its total, then the total; or how to fill an empty cart."""
    notes = []
    if cart.dropped:
        notes.append(_("Some products in your cart are no longer sold and were removed."))
    if not cart.lines:
        return "\n".join([*notes, _("Your cart is empty. Browse the products with /catalog.")])
    return "\n".join([*notes, _("Your cart:"), cart_lines(cart, language)])


def cart_lines(cart: CartView, language: str) -> str:
    """Each line with its total, then the total."""
    lines = []
    for line in cart.lines:
        product = line.product
        lines.append(
            f"• {escape(localized(product, 'title', language))} × {line.quantity} = "
            f"{money(line.total, product.currency, language)}"
        )
    assert cart.currency is not None
    lines += ["", _("Total: {total}").format(total=money(cart.total, cart.currency, language))]
    return "\n".join(lines)


def status_name(status: OrderStatus) -> str:
    names = {
        OrderStatus.NEW: _("new"),
        OrderStatus.CONFIRMED: _("confirmed"),
        OrderStatus.PAID: _("paid"),
        OrderStatus.SHIPPED: _("shipped"),
        OrderStatus.DELIVERED: _("delivered"),
        OrderStatus.CANCELLED: _("cancelled"),
        OrderStatus.REJECTED: _("rejected by the shop"),
        OrderStatus.RETURN_REQUESTED: _("return requested"),
        OrderStatus.RETURNED: _("returned"),
    }
    return names[status]


def shipping_name(option: ShippingOption, language: str) -> str:
    return option.names.get(language) or option.names.get("en") or option.code


def shipping_label(option: ShippingOption, currency: str, language: str) -> str:
    """'Courier delivery · $5.00 · 1–2 d' for a button."""
    price = money(option.price, currency, language) if option.price else _("free")
    if option.eta_days_max == 0:
        eta = _("today")
    elif option.eta_days_min == option.eta_days_max:
        eta = _("{days} d").format(days=option.eta_days_max)
    else:
        eta = _("{low}–{high} d").format(low=option.eta_days_min, high=option.eta_days_max)
    return f"{shipping_name(option, language)} · {price} · {eta}"


def checkout_summary(quote: Quote, phone: str, address: str | None, language: str) -> str:
    """Everything the customer confirms: lines, delivery, contact, total."""
    currency = quote.currency
    lines = [_("Please check your order:"), ""]
    for line in quote.lines:
        product = line.product
        lines.append(
            f"• {escape(localized(product, 'title', language))} × {line.quantity} = "
            f"{money(line.total, currency, language)}"
        )
    lines += [
        "",
        _("Delivery: {option} — {price}").format(
            option=escape(shipping_name(quote.shipping, language)),
            price=money(quote.shipping.price, currency, language),
        ),
        _("Phone: {phone}").format(phone=escape(phone)),
    ]
    if address:
        lines.append(_("Address: {address}").format(address=escape(address)))
    lines += ["", _("Total: {total}").format(total=money(quote.total, currency, language))]
    return "\n".join(lines)


def order_line(order: Order, language: str) -> str:
    """'#1001 · $354.00 · shipped' in a list of orders."""
    return (
        f"#{order.number} · {money(order.total, order.currency, language)} · "
        f"{status_name(order.status)}"
    )


def order_text(order: Order, items: list[OrderItem], language: str) -> str:
    lines = [
        _("Order #{number}").format(number=order.number),
        _("Status: {status}").format(status=status_name(order.status)),
        "",
    ]
    for item in items:
        lines.append(
            f"• {escape(item.title)} × {item.quantity} = "
            f"{money(item.unit_price * item.quantity, order.currency, language)}"
        )
    lines += [
        "",
        _("Delivery: {price}").format(price=money(order.shipping_price, order.currency, language)),
        _("Total: {total}").format(total=money(order.total, order.currency, language)),
    ]
    if order.address:
        lines.append(_("Address: {address}").format(address=escape(order.address)))
    if order.refund_due:
        lines += ["", _("Your payment will be refunded.")]
    if order.return_reason:
        lines.append(_("Return reason: {reason}").format(reason=escape(order.return_reason)))
    return "\n".join(lines)


def status_push(order: Order) -> str:
    return _("Your order #{number} is now: {status}.").format(
        number=order.number, status=status_name(order.status)
    )


def comparison(products: list[Product], language: str) -> str:
    """2-3 products side by side: numbered titles, then each property with every
    product's value on one line (a phone screen has no room for table columns)."""
    lines = [_("Comparison:")]
    lines += [
        f"{number}. <b>{escape(localized(product, 'title', language))}</b>"
        for number, product in enumerate(products, start=1)
    ]

    def row(name: str, values: list[str]) -> None:
        cells = "  ".join(f"{n}) {value}" for n, value in enumerate(values, start=1))
        lines.extend(["", f"<i>{escape(name)}</i>", cells])

    row(_("Price"), [money(p.price, p.currency, language) for p in products])
    row(_("Availability"), [stock_state(p.stock) for p in products])
    if any(p.brand for p in products):
        row(_("Brand"), [escape(p.brand or "—") for p in products])
    keys = list(dict.fromkeys(key for p in products for key in p.attributes))
    for key in keys:
        values = [escape(str(p.attributes.get(key, "—"))) for p in products]
        row(str(key).replace("_", " "), values)
    return "\n".join(lines)


def payment_name(order: Order) -> str:
    if order.payment_method is PaymentMethod.CASH_ON_DELIVERY:
        return _("cash on delivery")
    return _("paid online") if order.paid_at is not None else _("online, not paid yet")


def staff_order_text(order: Order, items: list[OrderItem], customer: str, language: str) -> str:
    """An order as staff act on it: what, to whom, where, how it is paid, its status."""
    lines = [
        _("Order #{number} — {status}").format(
            number=order.number, status=status_name(order.status)
        ),
        "",
    ]
    for item in items:
        lines.append(
            f"• {escape(item.title)} ({escape(item.sku)}) × {item.quantity} = "
            f"{money(item.unit_price * item.quantity, order.currency, language)}"
        )
    lines += [
        "",
        _("Delivery: {price}").format(price=money(order.shipping_price, order.currency, language)),
        _("Total: {total}").format(total=money(order.total, order.currency, language))
        + f" · {payment_name(order)}",
        _("Customer: {name}").format(name=escape(customer)),
    ]
    if order.contact_phone:
        lines.append(_("Phone: {phone}").format(phone=escape(order.contact_phone)))
    if order.address:
        lines.append(_("Address: {address}").format(address=escape(order.address)))
    if order.refund_due:
        lines.append(_("⚠️ The payment must be refunded."))
    if order.return_reason:
        lines.append(_("Return reason: {reason}").format(reason=escape(order.return_reason)))
    return "\n".join(lines)


def staff_product_text(product: Product, language: str) -> str:
    """A product as staff check it: identifiers, money, stock, whether it is on sale."""
    lines = [
        f"<b>{escape(product.title)}</b>",
        f"<code>{escape(product.sku)}</code>",
        _("Price: {price}").format(price=money(product.price, product.currency, language)),
        _("Cost: {cost}").format(
            cost=money(product.cost, product.currency, language) if product.cost else "—"
        ),
        _("Stock: {count}").format(count=product.stock),
    ]
    if not product.is_active:
        lines.append(_("Not on sale (hidden from customers)."))
    return "\n".join(lines)


def report_text(report: SalesReport, shop_name: str, language: str) -> str:
    """The sales report as staff read it: totals, margin, top products, stock aging."""
    currency = report.currency
    period = report.period
    span = (
        period.first.isoformat()
        if period.first == period.last
        else f"{period.first.isoformat()} – {period.last.isoformat()}"
    )
    margin = f"{report.margin}%" if report.margin is not None else "—"
    lines = [
        _("<b>{shop}</b>: sales {span}").format(shop=escape(shop_name), span=span),
        _("Orders: {count}").format(count=report.orders),
        _("Revenue: {amount}").format(amount=money(report.revenue, currency, language)),
        _("Cost of goods: {amount}").format(amount=money(report.cost, currency, language)),
        _("Gross profit: {amount} (margin {margin})").format(
            amount=money(report.profit, currency, language), margin=margin
        ),
    ]
    if report.lines_without_cost:
        lines.append(
            _("⚠️ {count} sold line(s) have no cost yet: the profit is overstated.").format(
                count=report.lines_without_cost
            )
        )
    if report.top:
        lines += ["", _("Top products:")]
        lines += [
            f"{n}. {escape(p.title)} × {p.quantity} = {money(p.revenue, currency, language)}"
            for n, p in enumerate(report.top, start=1)
        ]
    lines += ["", _("Stock by age (days since last received):")]
    for bucket in report.aging:
        span_days = f"{bucket.low}–{bucket.high}" if bucket.high else f"{bucket.low}+"
        lines.append(
            _("{days} d: {units} units, {value}").format(
                days=span_days, units=bucket.units, value=money(bucket.value, currency, language)
            )
        )
    return "\n".join(lines)
