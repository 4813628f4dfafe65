"""Free text no other handler took: the assistant answers it (with OPENAI_API_KEY set);
without a key, or when the provider fails, the fallback does: a request for the orders
or the cart gets that screen, anything else is searched for. Never a dead end.

While the model thinks the customer sees "typing…" (sendChatAction; on WhatsApp and the
web chat that call renders to nothing). The answer goes out as text, then the products
it names as the catalog's cards (or, if it changed the cart, the cart). An answer that
is not grounded in this turn's tools is replaced by the cards of what they found.
"""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.chat_action import ChatActionSender
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.ai.assistant import Assistant, AssistantKit, AssistantReply
from souk.ai.embedder import Embedder
from souk.ai.llm import LLMUnavailable
from souk.ai.tools import Asker
from souk.handlers.customer.cart import send_cart
from souk.handlers.customer.orders import orders_screen
from souk.handlers.customer.search import answer_search
from souk.handlers.filters import PLAIN_TEXT
from souk.handlers.screens import show_product
from souk.keyboards.catalog import product_keyboard
from souk.logs import get_logger
from souk.services.customers import Person
from souk.services.intents import Intent, intent_of
from souk.services.shops import ChannelInfo

router = Router(name=__name__)
log = get_logger("souk.handlers.assistant")

# Telegram shows "typing…" for 5 seconds after each chat action.
_TYPING_INTERVAL = 4.5


@router.message(PLAIN_TEXT)
async def free_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    embedder: Embedder,
    shop: ChannelInfo,
    person: Person,
    i18n: I18n,
    assistant: AssistantKit,
) -> None:
    assert message.text is not None
    said, language = message.text.strip(), i18n.current_locale
    if assistant.llm is not None:
        helper = Assistant(
            kit=assistant,
            llm=assistant.llm,
            session=session,
            embedder=embedder,
            asker=Asker(shop.shop_id, person.customer_id, language),
        )
        try:
            reply = await _thinking(message, helper, said)
        except LLMUnavailable:
            log.info("assistant unavailable: fallback", shop=shop.shop_slug)
        else:
            if await _send_reply(message, reply, session, shop, person, language):
                return
    await fallback(
        message,
        said,
        state=state,
        session=session,
        embedder=embedder,
        shop=shop,
        person=person,
        language=language,
    )


async def _thinking(message: Message, helper: Assistant, said: str) -> AssistantReply:
    """The assistant's reply, with "typing…" shown meanwhile."""
    assert message.bot is not None
    async with ChatActionSender.typing(
        bot=message.bot, chat_id=message.chat.id, interval=_TYPING_INTERVAL
    ):
        return await helper.answer(said)


async def _send_reply(
    message: Message,
    reply: AssistantReply,
    session: AsyncSession,
    shop: ChannelInfo,
    person: Person,
    language: str,
) -> bool:
    """Send the reply; False if there is nothing grounded to send (the fallback answers)."""
    if reply.grounded:
        await message.answer(escape(reply.text))
    elif reply.products:
        await message.answer(
            _("Here is what I found. The prices and stock on the cards are current.")
        )
    else:
        return False
    if reply.cart_changed:
        await send_cart(message, session, shop, person, language)
        return True
    for product in reply.products:
        await show_product(message, product, product_keyboard(product.id, None), language)
    return True


async def fallback(
    message: Message,
    said: str,
    *,
    state: FSMContext,
    session: AsyncSession,
    embedder: Embedder,
    shop: ChannelInfo,
    person: Person,
    language: str,
) -> None:
    """The answer without a model: the screen the words ask for, else a search."""
    intent = intent_of(said)
    if intent is Intent.ORDERS:
        text, keyboard = await orders_screen(session, shop, person, language)
        await message.answer(text, reply_markup=keyboard)
    elif intent is Intent.CART:
        await send_cart(message, session, shop, person, language)
    else:
        await answer_search(
            message,
            said,
            state=state,
            session=session,
            embedder=embedder,
            shop=shop,
            language=language,
        )
