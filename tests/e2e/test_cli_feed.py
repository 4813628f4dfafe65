"""`souk feed enable`, `publish` and `disable` as separate processes: the URL and the
one-time password printed, the feed published now, then turned off."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import Category, Product
from souk.services.feed_setup import FEED_USER, feed_for_fetch
from tests.conftest import MakeShop
from tests.e2e.test_cli import env, run

__all__ = ["env"]  # the fixture, shared with the other CLI tests


async def test_feed_enable_prints_the_url_and_password_and_publish_publishes(
    env: dict[str, str], make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop = await make_shop()
    async with session_factory() as session, session.begin():
        category = Category(shop_id=shop.shop_id, slug="tea", name="Tea")
        session.add(category)
        await session.flush()
        session.add_all(
            Product(
                shop_id=shop.shop_id,
                category_id=category.id,
                sku=f"T-{n}",
                title="Tea",
                price=990,
                currency="KZT",
                stock=n,
            )
            for n in range(3)
        )
    code, output = await run(
        env,
        "feed",
        "enable",
        "--shop",
        shop.slug,
        "--merchant-id",
        "M-9",
        "--store",
        "PP1",
        "--category",
        "tea",
    )
    assert code == 0, output
    lines = dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)
    assert lines["feed URL"] == f"http://127.0.0.1:8080/feeds/kaspi/{shop.slug}.xml"
    assert lines["login"] == FEED_USER
    password = lines["password"]
    code, output = await run(env, "feed", "publish", "--shop", shop.slug)
    assert (code, output.splitlines()[-1]) == (0, "published: 3 offers")  # after the log
    async with session_factory() as session:
        found = await feed_for_fetch(session, shop.slug, password)
    assert found is not None and found.etag is not None
    # Again: the password is not shown twice.
    code, output = await run(
        env, "feed", "enable", "--shop", shop.slug, "--merchant-id", "M-9", "--store", "PP2"
    )
    assert code == 0 and password not in output and "password unchanged" in output
    code, output = await run(
        env, "feed", "enable", "--shop", shop.slug, "--merchant-id", "M-9", "--store", "P P"
    )
    assert code == 1 and "'P P' is not a store id" in output
    code, output = await run(env, "feed", "disable", "--shop", shop.slug)
    assert (code, output.splitlines()[-1]) == (0, "feed disabled")
    async with session_factory() as session:
        assert await feed_for_fetch(session, shop.slug, password) is None
