"""Sales figures of a period in the shop's time zone, and the age of the stock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import (
    ChannelKind,
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    Product,
    Shop,
    StockMovement,
    StockReason,
)
from souk.services.reports import PeriodKind, ReportService
from tests.conftest import MakeShop

NOW = datetime(2030, 3, 10, 12, 0, tzinfo=UTC)  # 17:00 on the 10th in Asia/Almaty


async def test_a_week_of_sales_with_cost_profit_top_products_and_stock_age(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop = await make_shop()
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Shop).where(Shop.id == shop.shop_id).values(timezone="Asia/Almaty")
        )
        customer = Customer(shop_id=shop.shop_id, channel=ChannelKind.TELEGRAM, external_id="1")
        fresh = Product(
            shop_id=shop.shop_id,
            sku="A",
            title="Kettle",
            price=Decimal("40"),
            currency="USD",
            stock=5,
            cost=Decimal("25"),
            created_at=NOW - timedelta(days=200),
        )
        stale = Product(
            shop_id=shop.shop_id,
            sku="B",
            title="Toaster",
            price=Decimal("30"),
            currency="USD",
            stock=2,
            cost=Decimal("10"),
            created_at=NOW - timedelta(days=100),
        )
        session.add_all([customer, fresh, stale])
        await session.flush()
        # Kettles were received 3 days ago: young stock, although the product is old.
        session.add(
            StockMovement(
                shop_id=shop.shop_id,
                product_id=fresh.id,
                delta=5,
                stock_after=5,
                reason=StockReason.RECEIVE,
                created_at=NOW - timedelta(days=3),
            )
        )

        async def order(
            number: str,
            placed: datetime,
            status: OrderStatus,
            lines: list[tuple[Product, int, str | None]],
        ) -> None:
            placed_order = Order(
                shop_id=shop.shop_id,
                customer_id=customer.id,
                number=number,
                status=status,
                currency="USD",
                subtotal=Decimal("0"),
                shipping_price=Decimal("5"),
                total=Decimal("0"),
                created_at=placed,
            )
            session.add(placed_order)
            await session.flush()
            for product, quantity, cost in lines:
                session.add(
                    OrderItem(
                        order_id=placed_order.id,
                        product_id=product.id,
                        sku=product.sku,
                        title=product.title,
                        quantity=quantity,
                        unit_price=product.price,
                        unit_cost=Decimal(cost) if cost else None,
                    )
                )

        # 9 March 23:30 in Almaty is 18:30 UTC: it counts on the 9th, the shop's day.
        await order(
            "1",
            datetime(2030, 3, 9, 18, 30, tzinfo=UTC),
            OrderStatus.DELIVERED,
            [(fresh, 2, "25"), (stale, 1, "10")],
        )
        await order("2", NOW - timedelta(hours=1), OrderStatus.NEW, [(stale, 3, None)])
        await order("3", NOW - timedelta(days=2), OrderStatus.CANCELLED, [(fresh, 9, "25")])
        await order("4", NOW - timedelta(days=8), OrderStatus.DELIVERED, [(fresh, 1, "25")])

    async with session_factory() as session:
        report = await ReportService(session, shop.shop_id).sales(PeriodKind.WEEK, NOW)
    assert (report.period.first.isoformat(), report.period.last.isoformat()) == (
        "2030-03-04",
        "2030-03-10",
    )
    assert report.orders == 2  # the cancelled one and the one before the week do not count
    assert report.revenue == Decimal("200")  # 2*40 + 30 + 3*30; delivery is not revenue
    assert report.cost == Decimal("60") and report.lines_without_cost == 1
    assert report.profit == Decimal("140") and report.margin == Decimal("70.0")
    by_day = {day.day.isoformat(): (day.revenue, day.profit) for day in report.days}
    assert by_day["2030-03-09"] == (Decimal("110"), Decimal("50"))
    assert by_day["2030-03-10"] == (Decimal("90"), Decimal("90"))
    assert len(report.days) == 7 and by_day["2030-03-04"] == (Decimal("0"), Decimal("0"))
    assert [(p.sku, p.quantity, p.revenue) for p in report.top] == [
        ("B", 4, Decimal("120")),
        ("A", 2, Decimal("80")),
    ]
    assert [(b.low, b.units, b.value) for b in report.aging] == [
        (0, 5, Decimal("125")),
        (31, 0, Decimal("0")),
        (91, 2, Decimal("20")),
        (181, 0, Decimal("0")),
    ]

    async with session_factory() as session:
        today = await ReportService(session, shop.shop_id).sales(PeriodKind.TODAY, NOW)
        yesterday = await ReportService(session, shop.shop_id).sales(PeriodKind.YESTERDAY, NOW)
    assert (today.orders, today.revenue) == (1, Decimal("90"))
    assert (yesterday.orders, yesterday.revenue) == (1, Decimal("110"))
