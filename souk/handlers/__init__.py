"""Routers in the order they are tried: errors, admin, seller, customer (fallback last)."""

from __future__ import annotations

from aiogram import Router

from souk.handlers import admin, admin_announcements, errors
from souk.handlers.customer import (
    assistant,
    campaigns,
    cart,
    catalog,
    checkout,
    compare,
    fallback,
    human,
    membership,
    orders,
    payments,
    search,
    start,
)
from souk.handlers.seller import (
    campaign_sending,
    competitors,
    faq,
    imports,
    menu,
    ping,
    products,
    reports,
    repricing,
    schedule_flow,
    schedules,
    takeover,
    usage,
)
from souk.handlers.seller import campaigns as staff_campaigns
from souk.handlers.seller import orders as staff_orders
from souk.middlewares.roles import IsAdmin, IsStaff


def seller_router() -> Router:
    router = Router(name="seller")
    router.message.filter(IsStaff())
    router.callback_query.filter(IsStaff())
    router.include_routers(
        menu.router,
        takeover.router,  # its reply step takes the next text of staff who pressed Reply
        staff_orders.router,
        schedule_flow.router,  # its file step takes documents before an import does
        schedules.router,
        faq.router,  # a file captioned /faq is not a catalog
        competitors.router,  # a file captioned /watch is not a catalog import
        imports.router,
        products.router,
        repricing.router,
        reports.router,
        usage.router,
        ping.router,
        campaign_sending.router,
        # Last: its steps take the messages of staff who are setting a campaign up.
        staff_campaigns.router,
    )
    return router


def admin_router() -> Router:
    router = Router(name="admin")
    router.message.filter(IsAdmin())
    router.callback_query.filter(IsAdmin())
    router.include_routers(admin.router, admin_announcements.router)
    return router


def build_routers() -> list[Router]:
    """The feature routers are module-level and can join one dispatcher per process."""
    customer = Router(name="customer")
    customer.include_routers(
        # The commands and buttons most updates are for come first: each router tried
        # costs every update that passes it.
        start.router,
        catalog.router,
        cart.router,
        checkout.router,  # its states take text before search does
        orders.router,
        payments.router,
        compare.router,
        campaigns.router,
        membership.router,
        human.router,  # words asking for a person are not a search
        search.router,
        assistant.router,  # free text: the assistant, or search and the other fallbacks
        fallback.router,
    )
    return [errors.router, admin_router(), seller_router(), customer]
