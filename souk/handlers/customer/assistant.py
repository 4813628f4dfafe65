"""Free text no other handler took: the assistant answers it (with OPENAI_API_KEY set);
without a key, when the provider fails, or once the shop's assistant has used its tokens
of the day (ASSISTANT_DAILY_TOKENS; its staff are told once that day), the fallback
does: the shop's FAQ answer if one matches, the orders or the cart if the words ask for
those, and a search for anything else. Never a dead end. (Words asking for a person
never get here: the human router before this one takes them.)

While the model thinks (longer than ASSISTANT_TYPING_DELAY_SECONDS) the customer sees
"typing…" (sendChatAction; on WhatsApp, its typing indicator on their message, which
it marks read; on the web chat, a line under the chat).
The answer goes out as text, then the products it names as the catalog's cards (or, if
it changed the cart, the cart). An answer that is not grounded in this turn's tools is
replaced by the cards of what they found.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from html import escape

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.chat_action import ChatActionSender
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.ai.assistant import Assistant, AssistantKit, AssistantReply, together
from souk.ai.embedder import Embedder
from souk.ai.llm import BudgetSpent, LLMUnavailable
from souk.ai.tools import Asker, Toolbox
from souk.config import Settings
from souk.formatting import amount
from souk.handlers.customer.cart import send_cart
from souk.handlers.customer.human import handed_over_text
from souk.handlers.customer.orders import orders_screen
from souk.handlers.customer.search import answer_search
from souk.handlers.filters import PLAIN_TEXT
from souk.handlers.screens import show_product
from souk.handoff import takeover_service
from souk.keyboards.catalog import product_keyboard
from souk.logs import get_logger
from souk.metrics import ASSISTANT_SECONDS
from souk.notify import StaffNotifier
from souk.services.customers import Person
from souk.services.faq import FaqService
from souk.services.intents import Intent, intent_of
from souk.services.outbox import OutboxFactory
from souk.services.shops import ChannelInfo

router = Router(name=__name__)
log = get_logger("souk.handlers.assistant")

# Telegram shows "typing…" for 5 seconds after each chat action.
_TYPING_INTERVAL = 4.5


@dataclass(frozen=True)
class Turn:
    """What answering one message needs, from the update and the process."""

    message: Message
    said: str
    language: str
    session: AsyncSession
    embedder: Embedder
    shop: ChannelInfo
    person: Person
    state: FSMContext
    settings: Settings
    outbox: OutboxFactory
    i18n: I18n

    def toolbox(self) -> Toolbox:
        return Toolbox(
            self.session,
            self.embedder,
            Asker(self.shop.shop_id, self.person.customer_id, self.language),
            faq=FaqService(self.session, self.settings.faq, self.embedder),
            takeover=takeover_service(self.session, self.settings, self.outbox, self.i18n),
            search_results=self.settings.assistant.search_results,
        )


@router.message(PLAIN_TEXT)
async def free_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    embedder: Embedder,
    shop: ChannelInfo,
    person: Person,
    i18n: I18n,
    settings: Settings,
    outbox: OutboxFactory,
    assistant: AssistantKit,
) -> None:
    assert message.text is not None
    turn = Turn(
        message,
        message.text.strip(),
        i18n.current_locale,
        session,
        embedder,
        shop,
        person,
        state,
        settings,
        outbox,
        i18n,
    )
    if assistant.llm is not None:
        helper = Assistant(
            kit=assistant, llm=assistant.llm, session=session, toolbox=turn.toolbox()
        )
        started = time.perf_counter()
        try:
            reply = await _thinking(
                message, helper, turn.said, delay=settings.assistant.typing_delay_seconds
            )
        except BudgetSpent as spent:
            log.info("assistant budget spent: fallback", shop=shop.shop_slug, used=spent.used)
            await _tell_staff_budget_spent(turn, spent)
        except LLMUnavailable:
            log.info("assistant unavailable: fallback", shop=shop.shop_slug)
        else:
            if await _sent_and_recorded(turn, reply, helper):
                ours = time.perf_counter() - started - helper.model_seconds
                ASSISTANT_SECONDS.labels("model").observe(helper.model_seconds)
                ASSISTANT_SECONDS.labels("ours").observe(ours)
                return
    await fallback(turn)


async def _tell_staff_budget_spent(turn: Turn, spent: BudgetSpent) -> None:
    """One push per shop and UTC day (the outbox keeps the first of a key) to its staff:
    the assistant is off until midnight UTC, and why."""

    def render(language: str) -> tuple[str, None]:
        text = _(
            "The assistant has used today's {budget} tokens (ASSISTANT_DAILY_TOKENS). Until "
            "midnight UTC customers get the answers without a model: the FAQ, search and "
            "the shop's screens. /usage shows what it used."
        ).format(budget=amount(spent.budget, language))
        return text, None

    shop_id = turn.shop.shop_id
    await StaffNotifier(turn.session, turn.outbox(turn.session), turn.i18n).send(
        shop_id, render, kind="assistant_budget", key=f"assistant-budget:{shop_id}:{spent.day}"
    )


async def _thinking(
    message: Message, helper: Assistant, said: str, *, delay: float
) -> AssistantReply:
    """The assistant's reply, with "typing…" shown meanwhile if it takes over `delay`
    seconds (the Bot API recommends the indicator only for a reply that takes a while)."""
    assert message.bot is not None
    async with ChatActionSender.typing(
        bot=message.bot, chat_id=message.chat.id, interval=_TYPING_INTERVAL, initial_sleep=delay
    ):
        return await helper.answer(said)


async def _sent_and_recorded(turn: Turn, reply: AssistantReply, helper: Assistant) -> bool:
    """Send the reply while the turn's tokens and memory are written (Bot API, Postgres
    and Redis at once); one after the other when the reply shows the cart, which reads
    the update's session too. False if there was nothing grounded to send."""
    if reply.cart_changed:
        await helper.record()
        return await _send_reply(turn, reply)
    sent, _ = await together(_send_reply(turn, reply), helper.record())
    return sent


async def _send_reply(turn: Turn, reply: AssistantReply) -> bool:
    """Send the reply; False if there is nothing grounded to send (the fallback answers)."""
    message = turn.message
    if reply.grounded:
        await message.answer(escape(reply.text))
    elif reply.handed_off:
        await message.answer(handed_over_text())
    elif reply.products:
        await message.answer(
            _("Here is what I found. The prices and stock on the cards are current.")
        )
    else:
        return False
    if reply.cart_changed:
        await send_cart(message, turn.session, turn.shop, turn.person, turn.language)
    elif not reply.handed_off:
        for product in reply.products:
            keyboard = product_keyboard(product.id, None)
            await show_product(message, product, keyboard, turn.language)
    return True


async def fallback(turn: Turn) -> None:
    """The answer without a model: the FAQ's, the screen the words ask for, else a search."""
    message, said, language = turn.message, turn.said, turn.language
    shop, person, session = turn.shop, turn.person, turn.session
    found = await FaqService(session, turn.settings.faq, turn.embedder).answer(
        shop.shop_id, said, language
    )
    if found is not None:
        await message.answer(escape(found.answer))
        return
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
            state=turn.state,
            session=session,
            embedder=turn.embedder,
            shop=shop,
            language=language,
        )
