"""Texts about competitors shown to staff (HTML, translated): what a check saw or why it
saw nothing, the events of a check run, and the /competitors table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape

from aiogram.utils.i18n import gettext as _

from souk.connectors.fetch import FetchProblem
from souk.connectors.pages import PageProblem
from souk.connectors.prices import PriceProblem
from souk.formatting import MESSAGE_LIMIT, money, short_title
from souk.services.competition_changes import CompetitionEvent, EventKind
from souk.services.competition_table import OfferRow
from souk.services.offer_checks import CheckProblem, Seen


def problem_text(problem: str) -> str:
    """A check's problem as staff read it (an unknown code as it is)."""
    texts = {
        FetchProblem.BAD_URL.value: _("the address is not a public web page"),
        FetchProblem.BREAKER_OPEN.value: _("the site refused us recently; waiting"),
        FetchProblem.BLOCKED.value: _("the site refused us (403/429); waiting"),
        FetchProblem.HTTP_ERROR.value: _("the page is not there (4xx)"),
        FetchProblem.SERVER_ERROR.value: _("the site fails (5xx)"),
        FetchProblem.TIMEOUT.value: _("the site answers too slowly"),
        FetchProblem.NETWORK.value: _("the site cannot be reached"),
        FetchProblem.TOO_LARGE.value: _("the page is too large"),
        FetchProblem.TOO_MANY_REDIRECTS.value: _("the page redirects too often"),
        PageProblem.NO_PRICE.value: _("no price on the page"),
        PageProblem.UNPARSEABLE_PRICE.value: _("the page's price cannot be read"),
        PageProblem.CONFLICTING_PRICES.value: _("the page states several prices"),
        CheckProblem.OTHER_CURRENCY.value: _("the price is in another currency"),
        CheckProblem.OUT_OF_BAND.value: _("the price is implausibly far from ours; ignored"),
        CheckProblem.UNREADABLE_LIST.value: _("the marketplace's answer is not an offer list"),
        CheckProblem.NOT_LISTED.value: _("the seller is no longer listed"),
        CheckProblem.BAD_SELECTORS.value: _("the competitor's CSS selectors are invalid"),
    }
    if problem in texts:
        return texts[problem]
    if problem in {price_problem.value for price_problem in PriceProblem}:
        return _("the seller's price cannot be read")
    return problem


def stock_text(in_stock: bool | None) -> str:
    if in_stock is None:
        return "?"
    return _("in stock") if in_stock else _("out of stock")


def seen_text(seen: Seen, language: str) -> str:
    """One check's outcome in a line: the price and stock, or the problem."""
    if seen.price is not None and seen.currency is not None:
        line = f"{money(seen.price, seen.currency, language)} · {stock_text(seen.in_stock)}"
        return line + (f" · {problem_text(seen.problem)}" if seen.problem else "")
    return problem_text(seen.problem or "")


def event_text(event: CompetitionEvent, language: str) -> str:
    change, offer = event.change, event.offer
    product = f"<code>{escape(change.sku)}</code> «{escape(short_title(change.title))}»"
    ours = money(change.ours, change.currency, language)
    who = escape(offer.competitor)
    price = money(offer.price, change.currency, language) if offer.price is not None else "?"
    if event.kind is EventKind.UNDERCUT:
        return _("{competitor} undercuts {product}: {price} against our {ours}.").format(
            competitor=who, product=product, price=price, ours=ours
        )
    if event.kind is EventKind.NEW_LOWEST:
        was = change.before.lowest()
        return _(
            "New lowest competitor price of {product}: {price} at {competitor} "
            "(was {was}; ours {ours})."
        ).format(
            product=product,
            price=price,
            competitor=who,
            was=money(was.price, change.currency, language) if was and was.price else "?",
            ours=ours,
        )
    if event.kind is EventKind.OUT_OF_STOCK:
        return _("{competitor} is out of stock of {product}.").format(
            competitor=who, product=product
        )
    seen = change.seen.get(offer.offer_id)
    observed = seen_text(seen[1], language) if seen else problem_text(offer.problem or "")
    return _("A price of {competitor} for {product} was ignored: {seen} (ours {ours}).").format(
        competitor=who, product=product, seen=observed, ours=ours
    )


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return _("never")
    minutes = max(0, int((now - moment).total_seconds() // 60))
    if minutes < 60:
        return _("{minutes} min ago").format(minutes=minutes)
    if minutes < 48 * 60:
        return _("{hours} h ago").format(hours=minutes // 60)
    return _("{days} d ago").format(days=minutes // (24 * 60))


def table_text(
    sku: str, ours: Decimal, currency: str, rows: list[OfferRow], language: str, now: datetime
) -> str:
    """The /competitors table: one line per offer, cheapest first."""
    head = _("Competitors of <code>{sku}</code> (ours {price}):").format(
        sku=escape(sku), price=money(ours, currency, language)
    )
    if not rows:
        return head + "\n" + _("None watched. Link one: /watch {sku} URL").format(sku=escape(sku))
    lines = [head]
    for row in rows:
        flags = []
        if row.is_ours:
            flags.append(_("ours"))
        if row.is_excluded:
            flags.append(_("excluded"))
        name = escape(row.competitor) + (f" ({', '.join(flags)})" if flags else "")
        price = money(row.price, row.currency or currency, language) if row.price else "—"
        cells = [f"<b>{name}</b>", price, stock_text(row.in_stock)]
        if row.rating is not None:
            cells.append(f"★{row.rating}")
        cells.append(_("checked {when}").format(when=_when(row.checked_at, now)))
        if row.problem:
            cells.append("⚠️ " + problem_text(row.problem))
        line = " · ".join(cells)
        if sum(len(x) + 1 for x in lines) + len(line) > MESSAGE_LIMIT - 40:
            lines.append(_("…and {count} more.").format(count=len(rows) - len(lines) + 1))
            break
        lines.append(line)
    return "\n".join(lines)
