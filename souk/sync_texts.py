"""What staff are told about a catalog sync (HTML, translated), and its push through the
outbox: conflicts left alone, items taken differently from how the store gave them, and
a run that stopped."""

from __future__ import annotations

from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from souk.formatting import MESSAGE_LIMIT
from souk.notify import StaffNotifier
from souk.services.sync_report import Conflict, ItemProblem, SyncProblem, SyncReport

_ROOM = 80  # kept free for the "…and N more." line


def conflict_line(conflict: Conflict) -> str:
    if conflict.field == "price":
        text = _("{sku}: price {local} here, {remote} in the store (was {synced})")
    else:
        text = _("{sku}: stock {local} here, {remote} in the store (was {synced})")
    return text.format(
        sku=escape(conflict.sku),
        local=conflict.local,
        remote=conflict.remote,
        synced=conflict.synced,
    )


def problem_line(item: ItemProblem) -> str:
    texts = {
        SyncProblem.NO_PRICE: _("{sku}: no price in the store, not added"),
        SyncProblem.BAD_PRICE: _("{sku}: the store's price “{detail}” cannot be used"),
        SyncProblem.NEGATIVE_STOCK: _("{sku}: the store's stock is {detail}; here it is 0"),
        SyncProblem.NO_SKU: _("{sku}: no SKU in the store, added under this one"),
        SyncProblem.DUPLICATE_SKU: _("{sku}: another item of the store has this SKU"),
        SyncProblem.PUSH_REFUSED: _("{sku}: the store refused the change: {detail}"),
    }
    return texts[item.problem].format(sku=escape(item.sku), detail=escape(item.detail))


def sync_report_text(report: SyncReport) -> str:
    """The staff's summary of a run, cut to one message."""
    lines = [_("Catalog sync with {store}:").format(store=escape(report.store))]
    if report.error:
        lines.append(
            _("The sync stopped: {error}. The next run continues where it stopped.").format(
                error=escape(report.error)
            )
        )
    if report.conflicts:
        lines += [
            "",
            _(
                "Changed here and in the store since the last sync, to different values. "
                "Nothing was overwritten; set the same value on one side to settle it:"
            ),
        ]
        lines += [conflict_line(conflict) for conflict in report.conflicts]
    if report.problems:
        lines += ["", _("Taken differently from the store:")]
        lines += [problem_line(problem) for problem in report.problems]
    return _fit(lines)


def _fit(lines: list[str]) -> str:
    kept: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        if size + len(line) + 1 > MESSAGE_LIMIT - _ROOM:
            kept.append(_("…and {count} more.").format(count=len(lines) - index))
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


async def push_sync_report(notifier: StaffNotifier, report: SyncReport) -> int:
    """Tell the shop's staff what a run left for them (once per distinct news)."""

    def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
        return sync_report_text(report), None

    return await notifier.send(
        report.shop_id, render, kind="sync", key=f"sync:{report.source_id}:{report.digest()}"
    )
