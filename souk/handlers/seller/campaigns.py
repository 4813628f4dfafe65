"""/broadcast for staff, up to the preview: who gets it (all subscribed customers, buyers
in a category, or customers inactive for N days), the text, an optional photo and an
optional button. The preview (the message exactly as customers get it, with the count of
recipients), Send and Cancel are in `campaign_sending`.

The steps live in the FSM state; at the preview the campaign becomes a draft row, and
its buttons name that row."""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.campaign_texts import stats_text
from souk.formatting import CAPTION_LIMIT, MESSAGE_LIMIT
from souk.handlers.filters import PLAIN_TEXT, Matches
from souk.handlers.screens import replace_screen
from souk.handlers.seller.campaign_sending import show_preview
from souk.keyboards.callbacks import CampaignSetupCD, CampaignStep
from souk.keyboards.campaigns import (
    category_keyboard,
    quit_keyboard,
    segment_keyboard,
    stats_keyboard,
    step_keyboard,
)
from souk.keyboards.paging import page_of
from souk.services.campaign_segments import (
    MAX_INACTIVE_DAYS,
    Segment,
    SegmentKind,
    parse_days,
)
from souk.services.campaigns import (
    BUTTON_LABEL_LIMIT,
    BadButton,
    ButtonKind,
    ButtonProblem,
    CampaignButton,
    CampaignContent,
    CampaignService,
    parse_button,
)
from souk.services.catalog import CatalogService
from souk.services.shops import ChannelInfo

router = Router(name=__name__)


class CampaignSetup(StatesGroup):
    segment = State()
    days = State()
    text = State()
    photo = State()
    button = State()


def _step(step: CampaignStep) -> CallbackQueryFilter:
    return CampaignSetupCD.filter(F.step == step)


async def _show(
    target: Message | CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None
) -> None:
    """The next step: in place of the buttons pressed, or as an answer to a message."""
    if isinstance(target, CallbackQuery):
        await target.answer()
        await replace_screen(target, text, keyboard)
    else:
        await target.answer(text, reply_markup=keyboard)


@router.message(Command("broadcast"))
async def broadcast_command(
    message: Message, state: FSMContext, session: AsyncSession, shop: ChannelInfo, i18n: I18n
) -> None:
    await state.clear()
    campaigns = CampaignService(session, shop.shop_id)
    sending = await campaigns.sending()
    if sending is not None:
        stats = await campaigns.stats(sending.id)
        await message.answer(
            _("A campaign is being sent; the next one can start when it is done or stopped.")
            + "\n\n"
            + stats_text(stats, i18n.current_locale),
            reply_markup=stats_keyboard(sending.id, sending=True),
        )
        return
    await state.set_state(CampaignSetup.segment)
    await message.answer(_("Who should get the campaign?"), reply_markup=segment_keyboard())


@router.callback_query(_step(CampaignStep.QUIT))
@router.message(StateFilter(CampaignSetup), Command("cancel"))
async def quit_setup(event: CallbackQuery | Message, state: FSMContext) -> None:
    await state.clear()
    await _show(event, _("The campaign is cancelled; nothing was sent."), None)


@router.callback_query(StateFilter(CampaignSetup.segment), _step(CampaignStep.ALL))
async def segment_all(query: CallbackQuery, state: FSMContext) -> None:
    await _ask_text(query, state, Segment(SegmentKind.ALL))


@router.callback_query(StateFilter(CampaignSetup.segment), _step(CampaignStep.CATEGORIES))
async def segment_categories(
    query: CallbackQuery,
    callback_data: CampaignSetupCD,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
) -> None:
    categories = await CatalogService(session, shop.shop_id).categories()
    if not categories:
        await query.answer(_("The shop has no categories with products yet."), show_alert=True)
        return
    await _show(
        query,
        _("Customers who bought in which category?"),
        category_keyboard(page_of(categories, callback_data.value), i18n.current_locale),
    )


@router.callback_query(StateFilter(CampaignSetup.segment), _step(CampaignStep.CATEGORY))
async def segment_category(
    query: CallbackQuery, callback_data: CampaignSetupCD, state: FSMContext
) -> None:
    await _ask_text(query, state, Segment(SegmentKind.CATEGORY, category_id=callback_data.value))


@router.callback_query(StateFilter(CampaignSetup.segment), _step(CampaignStep.INACTIVE))
async def segment_inactive(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(CampaignSetup.days)
    await _show(
        query,
        _(
            "Inactive for how many days? Send a number from 1 to {most}: customers who have "
            "neither written nor ordered for that long get the campaign."
        ).format(most=MAX_INACTIVE_DAYS),
        quit_keyboard(),
    )


@router.message(StateFilter(CampaignSetup.days), PLAIN_TEXT)
async def days_typed(message: Message, state: FSMContext) -> None:
    days = parse_days(message.text or "")
    if days is None:
        await message.answer(
            _("“{value}” is not a number of days from 1 to {most}.").format(
                value=escape((message.text or "")[:50]), most=MAX_INACTIVE_DAYS
            )
        )
        return
    await _ask_text(message, state, Segment(SegmentKind.INACTIVE, days=days))


async def _ask_text(target: Message | CallbackQuery, state: FSMContext, segment: Segment) -> None:
    await state.set_state(CampaignSetup.text)
    await state.set_data({"segment": segment.as_json()})
    await _show(
        target,
        _(
            "Send the text of the message: up to {most} characters, or {caption} if a photo "
            "goes with it. Bold, italics and links are kept."
        ).format(most=MESSAGE_LIMIT, caption=CAPTION_LIMIT),
        quit_keyboard(),
    )


@router.message(StateFilter(CampaignSetup.text), PLAIN_TEXT)
async def text_typed(message: Message, state: FSMContext) -> None:
    length = len(message.text or "")
    if length > MESSAGE_LIMIT:
        await message.answer(
            _(
                "The text has {count} characters; a message holds {most}. Send a shorter one."
            ).format(count=length, most=MESSAGE_LIMIT)
        )
        return
    await state.update_data(text=message.html_text, length=length)
    await state.set_state(CampaignSetup.photo)
    await message.answer(
        _("Send a photo to go with the text, or press “No photo”."),
        reply_markup=step_keyboard(CampaignStep.NO_PHOTO),
    )


@router.message(StateFilter(CampaignSetup.text), Matches(~F.text))
async def text_expected(message: Message) -> None:
    await message.answer(_("Send the text first; a photo can follow."))


@router.message(StateFilter(CampaignSetup.photo), Matches(F.photo))
async def photo_sent(message: Message, state: FSMContext) -> None:
    assert message.photo is not None
    length = int((await state.get_data())["length"])
    if length > CAPTION_LIMIT:
        # Telegram shows at most 1024 characters under a photo; the text would not fit.
        await message.answer(
            _(
                "A photo's caption holds {most} characters and the text has {count}. Press "
                "“No photo” to send the text alone, or /broadcast to start again with a "
                "shorter text."
            ).format(most=CAPTION_LIMIT, count=length),
            reply_markup=step_keyboard(CampaignStep.NO_PHOTO),
        )
        return
    await state.update_data(photo=message.photo[-1].file_id)
    await _ask_button(message, state)


@router.callback_query(StateFilter(CampaignSetup.photo), _step(CampaignStep.NO_PHOTO))
async def no_photo(query: CallbackQuery, state: FSMContext) -> None:
    await state.update_data(photo=None)
    await _ask_button(query, state)


@router.message(StateFilter(CampaignSetup.photo), Matches(~F.text.startswith("/")))
async def photo_expected(message: Message) -> None:
    await message.answer(
        _("Send a photo, or press “No photo”."), reply_markup=step_keyboard(CampaignStep.NO_PHOTO)
    )


async def _ask_button(target: Message | CallbackQuery, state: FSMContext) -> None:
    await state.set_state(CampaignSetup.button)
    await _show(
        target,
        _(
            "Add a button? Send its label and link like this: Sale | https://example.com/sale "
            "— or choose below."
        ),
        step_keyboard(CampaignStep.CATALOG, CampaignStep.NO_BUTTON),
    )


def _button_problem(bad: BadButton) -> str:
    if bad.problem is ButtonProblem.LABEL:
        return _("A button's label has 1 to {most} characters.").format(most=BUTTON_LABEL_LIMIT)
    if bad.problem is ButtonProblem.URL:
        return _("“{url}” is not a web link; a link starts with https://").format(
            url=escape(bad.value[:200])
        )
    return _("Write the label, a bar and the link: Sale | https://example.com/sale")


@router.message(StateFilter(CampaignSetup.button), PLAIN_TEXT)
async def button_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    bot: Bot,
    i18n: I18n,
) -> None:
    try:
        button = parse_button(message.text or "")
    except BadButton as bad:
        await message.answer(_button_problem(bad))
        return
    assert message.from_user is not None
    await _preview(message.from_user.id, state, session, shop, bot, i18n, button)


@router.callback_query(StateFilter(CampaignSetup.button), _step(CampaignStep.CATALOG))
@router.callback_query(StateFilter(CampaignSetup.button), _step(CampaignStep.NO_BUTTON))
async def button_chosen(
    query: CallbackQuery,
    callback_data: CampaignSetupCD,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    bot: Bot,
    i18n: I18n,
) -> None:
    await query.answer()
    catalog = callback_data.step is CampaignStep.CATALOG
    button = CampaignButton(ButtonKind.CATALOG) if catalog else None
    await _preview(query.from_user.id, state, session, shop, bot, i18n, button)


async def _preview(
    author: int,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    bot: Bot,
    i18n: I18n,
    button: CampaignButton | None,
) -> None:
    data = await state.get_data()
    await state.clear()
    segment = Segment.from_json(data["segment"])
    content = CampaignContent(data["text"], data.get("photo"), button)
    await show_preview(bot, session, shop, author, segment, content, i18n.current_locale)


@router.callback_query(CampaignSetupCD.filter())
async def stale_step(query: CallbackQuery) -> None:
    await query.answer(_("This step is over. /broadcast starts a new campaign."), show_alert=True)
