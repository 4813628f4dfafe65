"""Campaign keyboards: the steps of /broadcast, the preview, the live figures, and the
buttons under a campaign message. No logic."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import (
    AnnouncementAction,
    AnnouncementCD,
    CampaignAction,
    CampaignCD,
    CampaignSetupCD,
    CampaignsOptCD,
    CampaignStep,
    OpenCatalogCD,
)
from souk.keyboards.paging import Page, pairs_with_page_buttons
from souk.services.campaigns import ButtonKind, CampaignButton
from souk.services.catalog import CategoryEntry


def _quit_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("Cancel"), callback_data=CampaignSetupCD(step=CampaignStep.QUIT).pack()
    )


def _quit(builder: InlineKeyboardBuilder) -> None:
    builder.row(_quit_button())


def segment_keyboard() -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    builder.button(
        text=_("All subscribed customers"), callback_data=CampaignSetupCD(step=CampaignStep.ALL)
    )
    builder.button(
        text=_("Bought in a category"), callback_data=CampaignSetupCD(step=CampaignStep.CATEGORIES)
    )
    builder.button(
        text=_("Inactive for some days"), callback_data=CampaignSetupCD(step=CampaignStep.INACTIVE)
    )
    builder.adjust(1)
    _quit(builder)
    return builder.as_markup()


def category_keyboard(categories: Page[CategoryEntry], language: str) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    for category in categories.items:
        builder.button(
            text=category.title(language),
            callback_data=CampaignSetupCD(step=CampaignStep.CATEGORY, value=category.id),
        )
    pairs_with_page_buttons(
        builder,
        categories,
        lambda number: CampaignSetupCD(step=CampaignStep.CATEGORIES, value=number),
    )
    _quit(builder)
    return builder.as_markup()


def step_keyboard(*steps: CampaignStep) -> InlineKeyboardMarkup:
    """The choices of a step that otherwise waits for a message (photo, button), and Cancel."""
    labels = {
        CampaignStep.NO_PHOTO: _("No photo"),
        CampaignStep.CATALOG: _("Button: open the catalog"),
        CampaignStep.NO_BUTTON: _("No button"),
    }
    builder = KeyboardBuilder()
    for step in steps:
        builder.button(text=labels[step], callback_data=CampaignSetupCD(step=step))
    builder.adjust(1)
    _quit(builder)
    return builder.as_markup()


def quit_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_quit_button()]])


def _send_or_cancel(count: int, send: CallbackData, cancel: CallbackData) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    builder.button(text=_("Send to {count}").format(count=count), callback_data=send)
    builder.button(text=_("Cancel"), callback_data=cancel)
    return builder.as_markup()


def preview_keyboard(campaign_id: int, count: int) -> InlineKeyboardMarkup:
    return _send_or_cancel(
        count,
        CampaignCD(action=CampaignAction.SEND, campaign_id=campaign_id),
        CampaignCD(action=CampaignAction.CANCEL, campaign_id=campaign_id),
    )


def stats_keyboard(campaign_id: int, *, sending: bool) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    builder.button(
        text=_("Refresh"),
        callback_data=CampaignCD(action=CampaignAction.REFRESH, campaign_id=campaign_id),
    )
    if sending:
        builder.button(
            text=_("Stop the campaign"),
            callback_data=CampaignCD(action=CampaignAction.STOP, campaign_id=campaign_id),
        )
    return builder.as_markup()


def campaign_keyboard(button: CampaignButton | None) -> InlineKeyboardMarkup:
    """Under a campaign message: the staff's button, if any, and the opt-out."""
    builder = KeyboardBuilder()
    if button is not None and button.kind is ButtonKind.URL:
        builder.button(text=button.label, url=button.url)
    elif button is not None:
        builder.button(text=_("Open the catalog"), callback_data=OpenCatalogCD())
    builder.button(text=_("Unsubscribe"), callback_data=CampaignsOptCD(subscribe=False))
    builder.adjust(1)
    return builder.as_markup()


def resubscribe_keyboard() -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    builder.button(text=_("Subscribe again"), callback_data=CampaignsOptCD(subscribe=True))
    return builder.as_markup()


def announcement_keyboard(ticket: str, staff: int) -> InlineKeyboardMarkup:
    return _send_or_cancel(
        staff,
        AnnouncementCD(action=AnnouncementAction.SEND, ticket=ticket),
        AnnouncementCD(action=AnnouncementAction.CANCEL, ticket=ticket),
    )
