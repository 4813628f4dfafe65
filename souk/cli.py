"""The `souk` command line (also `python bot.py ...` and `python -m souk ...`)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvloop
from rich.console import Console

from souk.config import Settings
from souk.db.models import StaffRole
from souk.db.session import create_engine, create_session_factory
from souk.embedded import EmbeddedServices, ServiceURLs
from souk.errors import SoukError
from souk.logs import get_logger, redact, register_secret, setup_logging

T = TypeVar("T")
app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="souk: conversational commerce on Telegram and WhatsApp.",
)
shop_app = typer.Typer(no_args_is_help=True, help="Shops.")
webhook_app = typer.Typer(no_args_is_help=True, help="Telegram webhooks.")
embeddings_app = typer.Typer(no_args_is_help=True, help="Product embeddings for search.")
staff_app = typer.Typer(no_args_is_help=True, help="Shop staff.")
feed_app = typer.Typer(no_args_is_help=True, help="Marketplace price feeds (Kaspi.kz XML).")
sync_app = typer.Typer(invoke_without_command=True)
app.add_typer(shop_app, name="shop")
app.add_typer(webhook_app, name="webhook")
app.add_typer(embeddings_app, name="embeddings")
app.add_typer(staff_app, name="staff")
app.add_typer(feed_app, name="feed")
app.add_typer(sync_app, name="sync")
console = Console(stderr=True)


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


@contextmanager
def services(settings: Settings) -> Iterator[ServiceURLs]:
    """The configured servers, or the embedded ones of DATA_DIR (started if needed, and
    stopped again afterwards unless `souk up` is running and owns them)."""
    from souk.supervisor import supervisor_running

    embedded = EmbeddedServices.from_settings(settings)
    urls = embedded.start()
    register_secret(urls.database_url, urls.redis_url)
    try:
        yield urls
    finally:
        if not supervisor_running(settings):
            embedded.stop()


def run_async(work: Callable[[], Awaitable[T]]) -> T:
    """Run on uvloop: the web process spends much of its time in the event loop itself."""

    async def main() -> T:
        return await work()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main())


def migrate_database(database_url: str) -> None:
    from alembic import command

    from souk.db.migrations import alembic_config

    command.upgrade(alembic_config(database_url), "head")


def seed_demo_shop(settings: Settings, urls: ServiceURLs) -> None:
    from souk.services.demo import connect_demo_bot, connect_demo_number, seed_demo

    async def work() -> None:
        engine = create_engine(urls.database_url, pool_size=1)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                report = await seed_demo(session)
                bot_id = await connect_demo_bot(session, settings.telegram)
                number = await connect_demo_number(session, settings.whatsapp)
        finally:
            await engine.dispose()
        console.print(
            f"demo shop: {report.products} products in {report.categories} categories, "
            f"{report.faq} FAQ entries, {report.shipping} shipping options"
            + (f"; bot {bot_id} connected" if bot_id else "")
            + (f"; WhatsApp number {number} connected" if number else "")
        )

    run_async(work)


@app.command()
def up(ctx: typer.Context) -> None:
    """Start everything on this machine: Postgres, Redis, web, worker and beat."""
    from souk.supervisor import Supervisor

    settings = _settings(ctx)

    def prepare(urls: ServiceURLs) -> None:
        register_secret(urls.database_url, urls.redis_url)
        migrate_database(urls.database_url)
        seed_demo_shop(settings, urls)

    raise typer.Exit(Supervisor(settings, prepare).run())


@app.command()
def serve(ctx: typer.Context) -> None:
    """Serve webhooks, health and metrics over HTTP (HTTP_HOST:HTTP_PORT)."""
    from souk.server import serve_http

    settings = _settings(ctx)
    with services(settings) as urls:
        run_async(lambda: serve_http(settings, urls))


@app.command()
def polling(ctx: typer.Context) -> None:
    """Receive Telegram updates by long polling instead of a webhook."""
    from souk.server import serve_polling

    settings = _settings(ctx)
    with services(settings) as urls:
        run_async(lambda: serve_polling(settings, urls))


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: Annotated[int | None, typer.Option(help="Worker processes")] = None,
) -> None:
    """Run a Celery worker (notifications, sync, monitoring)."""
    from souk.workers.app import create_celery

    settings = _settings(ctx)
    with services(settings) as urls:
        celery = create_celery(settings, urls)
        celery.worker_main(
            [
                "worker",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                f"--concurrency={concurrency or settings.worker.concurrency}",
            ]
        )


@app.command()
def beat(ctx: typer.Context) -> None:
    """Run Celery beat (the periodic schedule); run exactly one."""
    from souk.workers.app import create_celery

    settings = _settings(ctx)
    with services(settings) as urls:
        create_celery(settings, urls).start(["beat", "--loglevel=INFO"])


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Upgrade the database to the latest schema."""
    with services(_settings(ctx)) as urls:
        migrate_database(urls.database_url)
    console.print("database is up to date")


@app.command("seed-demo")
def seed_demo_command(ctx: typer.Context) -> None:
    """Create the demo shop (slug `demo`) with its catalog, FAQ and shipping options."""
    settings = _settings(ctx)
    with services(settings) as urls:
        migrate_database(urls.database_url)
        seed_demo_shop(settings, urls)


@shop_app.command("create")
def shop_create(
    ctx: typer.Context,
    slug: Annotated[str, typer.Option(help="Short name used in URLs and commands")],
    name: Annotated[str, typer.Option(help="The shop's name as customers see it")],
    telegram_token: Annotated[str | None, typer.Option(help="Bot token from @BotFather")] = None,
    currency: Annotated[str, typer.Option(help="ISO currency code")] = "USD",
    payment_token: Annotated[
        str | None,
        typer.Option(help="Payment provider token of the bot (@BotFather → Payments)"),
    ] = None,
    whatsapp_number_id: Annotated[
        str | None, typer.Option(help="WhatsApp Cloud API phone_number_id of the shop")
    ] = None,
    whatsapp_token: Annotated[
        str | None, typer.Option(help="Cloud API access token of that number")
    ] = None,
) -> None:
    """Add a shop, optionally with its Telegram bot (and Telegram Payments) and its
    WhatsApp number."""
    from souk.services.shops import ShopService

    if payment_token and not telegram_token:
        raise typer.BadParameter(
            "--payment-token needs --telegram-token", param_hint="--payment-token"
        )
    if bool(whatsapp_number_id) != bool(whatsapp_token):
        raise typer.BadParameter(
            "--whatsapp-number-id and --whatsapp-token go together",
            param_hint="--whatsapp-token",
        )
    register_secret(telegram_token, payment_token, whatsapp_token)
    settings = _settings(ctx)

    async def work(urls: ServiceURLs) -> str:
        engine = create_engine(urls.database_url, pool_size=1)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                shops = ShopService(session)
                shop = await shops.create(slug=slug, name=name, currency=currency)
                line = f"shop {shop.slug} created (id {shop.id})"
                if telegram_token:
                    channel = await shops.connect_telegram(
                        shop, telegram_token, payment_token=payment_token
                    )
                    line += f"; bot {channel.external_id} connected"
                if whatsapp_number_id and whatsapp_token:
                    number = await shops.connect_whatsapp(shop, whatsapp_number_id, whatsapp_token)
                    line += f"; WhatsApp number {number.external_id} connected"
                return line
        finally:
            await engine.dispose()

    with services(settings) as urls:
        console.print(run_async(lambda: work(urls)))


@app.command("export")
def export(
    ctx: typer.Context,
    shop: Annotated[str, typer.Option(help="The shop's slug")],
    output: Annotated[
        Path | None, typer.Option(help="Write to this file (default: standard output)")
    ] = None,
) -> None:
    """The shop's catalog as CSV (the columns `souk import` reads)."""
    from souk.services.catalog_files import CatalogFile, export_csv
    from souk.services.shops import ShopService

    settings = _settings(ctx)

    async def work(urls: ServiceURLs) -> CatalogFile:
        engine = create_engine(urls.database_url, pool_size=1)
        try:
            async with create_session_factory(engine)() as session:
                found = await ShopService(session).get_by_slug(shop)
                return await export_csv(session, found.id)
        finally:
            await engine.dispose()

    with services(settings) as urls:
        catalog = run_async(lambda: work(urls))
    if output is None:
        sys.stdout.buffer.write(catalog.data)
    else:
        output.write_bytes(catalog.data)
        console.print(f"{catalog.products} products written to {output}")


@app.command("import")
def import_catalog(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .csv or .xlsx file, first row the columns")],
    shop: Annotated[str, typer.Option(help="The shop's slug")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report only; change nothing")
    ] = False,
) -> None:
    """Import a catalog file: check every row, apply the valid ones in one transaction
    (with --dry-run: none) and print the report; rejected rows by row, column, reason."""
    from rich.progress import Progress

    from souk.services.import_messages import reason_text, refusal_text
    from souk.services.import_reader import ImportLimits, check_size
    from souk.services.import_rows import Columns
    from souk.services.imports import CatalogImport, ImportPlan, ImportRefused, read_table
    from souk.services.shops import ShopService

    settings = _settings(ctx)
    limits = ImportLimits(settings.imports.max_bytes, settings.imports.max_rows)
    try:
        check_size(file.stat().st_size, limits)  # before reading a byte of it
        table = read_table(file.read_bytes(), file.name, limits)
        Columns.of(table.header)
    except OSError as unreadable:
        console.print(f"[red]error:[/red] cannot read {file}: {unreadable.strerror}")
        raise typer.Exit(1) from None
    except ImportRefused as refused:
        console.print(f"[red]error:[/red] {refusal_text(refused)}")
        raise typer.Exit(1) from None

    async def work(urls: ServiceURLs) -> ImportPlan:
        engine = create_engine(urls.database_url, pool_size=1)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                found = await ShopService(session).get_by_slug(shop)
                importer = CatalogImport(session, found.id)
                with Progress(console=console) as progress:
                    checking = progress.add_task("checking", total=len(table.rows))
                    plan = await importer.plan(
                        table,
                        lock=not dry_run,
                        progress=lambda done: progress.advance(checking, done),
                    )
                    if not dry_run:
                        total = len(plan.inserts) + len(plan.updates)
                        applying = progress.add_task("applying", total=total)
                        await importer.apply(
                            plan, progress=lambda done: progress.advance(applying, done)
                        )
                return plan
        finally:
            await engine.dispose()

    with services(settings) as urls:
        plan = run_async(lambda: work(urls))
    summary = plan.summary
    console.print(
        f"{summary.rows} rows: {summary.new} new, {summary.changed} changed, "
        f"{summary.unchanged} unchanged, {summary.rejected} rejected"
    )
    if summary.new_categories:
        console.print(f"new categories: {', '.join(summary.new_categories)}")
    for row_error in plan.errors[:20]:
        column = f", {row_error.column}" if row_error.column else ""
        console.print(f"row {row_error.row}{column}: {reason_text(row_error)}", markup=False)
    if len(plan.errors) > 20:
        console.print(f"... and {len(plan.errors) - 20} more errors")
    console.print("dry run: nothing changed" if dry_run else "applied")


@staff_app.command("invite")
def staff_invite(
    ctx: typer.Context,
    shop: Annotated[str, typer.Option(help="The shop's slug")],
    role: Annotated[StaffRole, typer.Option(help="What the new staff member may do")],
) -> None:
    """Print a one-time link that makes whoever opens it staff of the shop."""
    from souk.server import create_staff_invite

    settings = _settings(ctx)
    with services(settings) as urls:
        link, expires_at = run_async(lambda: create_staff_invite(settings, urls, shop, role))
    console.print(link)
    console.print(
        f"One use, valid until {expires_at:%Y-%m-%d %H:%M} UTC. Send it to the new "
        f"{role.value} only: whoever opens it first joins the shop."
    )


@webhook_app.command("set")
def webhook_set(ctx: typer.Context) -> None:
    """Register every bot's webhook (PUBLIC_URL) with its secret and allowed updates."""
    from souk.server import set_all_webhooks

    settings = _settings(ctx)
    with services(settings) as urls:
        for bot_id, url in run_async(lambda: set_all_webhooks(settings, urls)):
            console.print(f"bot {bot_id}: {url}")


@embeddings_app.command("backfill")
def embeddings_backfill(
    ctx: typer.Context,
    shop: Annotated[str | None, typer.Option(help="Only this shop's products (slug)")] = None,
) -> None:
    """Compute the embeddings that are missing or out of date, now, with a progress bar:
    FAQ entries saved without one (a seed's, a file's), then products."""
    from rich.progress import Progress

    from souk.ai.embedder import build_embedder
    from souk.services.embeddings import EmbeddingService
    from souk.services.faq import FaqService
    from souk.services.shops import ShopService

    settings = _settings(ctx)

    async def work(urls: ServiceURLs) -> tuple[int, int]:
        engine = create_engine(urls.database_url, pool_size=1)
        embedder = build_embedder(settings.ai)
        try:
            async with create_session_factory(engine)() as session:
                shop_id = (await ShopService(session).get_by_slug(shop)).id if shop else None
                faq, entries = FaqService(session, settings.faq, embedder), 0
                while done := await faq.embed_missing(shop_id):
                    await session.commit()
                    entries += done
                service = EmbeddingService(session, embedder)
                with Progress(console=console) as progress:
                    task = progress.add_task("embedding", total=await service.count_stale(shop_id))
                    products = await service.backfill(
                        shop_id, progress=lambda done: progress.advance(task, done)
                    )
                return entries, products
        finally:
            await embedder.close()
            await engine.dispose()

    with services(settings) as urls:
        entries, products = run_async(lambda: work(urls))
        console.print(f"{products} products embedded")
        console.print(f"FAQ entries embedded: {entries}")


@feed_app.command("enable")
def feed_enable(
    ctx: typer.Context,
    shop: Annotated[str, typer.Option(help="The shop's slug")],
    merchant_id: Annotated[str, typer.Option(help="The shop's merchant id at Kaspi")],
    store: Annotated[
        list[str], typer.Option(help="A store (point of sale) id from the Kaspi cabinet: PP1")
    ],
    company: Annotated[
        str | None, typer.Option(help="The company name in the feed (default: the shop's)")
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option(help="Offer only this category's products (slug; repeat for more)"),
    ] = None,
    currency: Annotated[
        str, typer.Option(help="Products priced in another currency are left out")
    ] = "KZT",
    new_secret: Annotated[
        bool, typer.Option("--new-secret", help="Replace the password (the old one stops working)")
    ] = False,
) -> None:
    """Turn the shop's Kaspi price feed on (or change it) and print its URL and login."""
    from souk.services.feed_setup import FEED_USER, FeedOptions, FeedSetup
    from souk.services.shops import ShopService

    settings = _settings(ctx)
    options = FeedOptions(merchant_id, store, company, category, currency.upper())

    async def work(urls: ServiceURLs) -> str | None:
        engine = create_engine(urls.database_url, pool_size=1)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                found = await ShopService(session).get_by_slug(shop)
                return await FeedSetup(session, found).enable(options, new_secret=new_secret)
        finally:
            await engine.dispose()

    with services(settings) as urls:
        secret = run_async(lambda: work(urls))
    base = settings.core.public_url or f"http://{settings.http.host}:{settings.http.port}"
    console.print(f"feed URL: {base.rstrip('/')}/feeds/kaspi/{shop}.xml")
    if secret is None:
        console.print("login and password unchanged (--new-secret makes a new password)")
        return
    console.print(f"login: {FEED_USER}\npassword: {secret}", markup=False)
    console.print(
        "Give these to Kaspi (automatic price list upload, basic auth). The password is "
        "shown only now. The feed is published within FEED_CHECK_SECONDS, or now with "
        f"`souk feed publish --shop {shop}`."
    )


@feed_app.command("disable")
def feed_disable(
    ctx: typer.Context, shop: Annotated[str, typer.Option(help="The shop's slug")]
) -> None:
    """Stop serving the shop's feed (fetches get 401; settings and password are kept)."""
    from souk.services.feed_setup import FeedSetup
    from souk.services.shops import ShopService

    settings = _settings(ctx)

    async def work(urls: ServiceURLs) -> bool:
        engine = create_engine(urls.database_url, pool_size=1)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                found = await ShopService(session).get_by_slug(shop)
                return await FeedSetup(session, found).disable()
        finally:
            await engine.dispose()

    with services(settings) as urls:
        changed = run_async(lambda: work(urls))
    console.print("feed disabled" if changed else "the feed was not on")


@feed_app.command("publish")
def feed_publish(
    ctx: typer.Context,
    shop: Annotated[str, typer.Option(help="The shop's slug")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Publish even if it shrank sharply (never an empty one)"),
    ] = False,
) -> None:
    """Regenerate the shop's feed now (whether or not its offers changed) and publish it
    if it passes the checks."""
    from datetime import UTC, datetime

    from souk.runtime import Runtime
    from souk.services.feeds import FeedOutcome, FeedStatus
    from souk.services.shops import ShopService
    from souk.workers.feeds import publish_feed

    settings = _settings(ctx)

    async def work(urls: ServiceURLs) -> FeedOutcome:
        # A runtime, for the staff's translated push when the feed is refused.
        runtime = Runtime.create(settings, urls, handle_updates=False, pool_size=1)
        try:
            async with runtime.session_factory() as session:
                shop_id = (await ShopService(session).get_by_slug(shop)).id
            return await publish_feed(runtime, shop_id, datetime.now(UTC), allow_shrink=force)
        finally:
            await runtime.close()

    with services(settings) as urls:
        outcome = run_async(lambda: work(urls))
    if outcome.status is FeedStatus.PUBLISHED:
        console.print(f"published: {outcome.offers} offers")
    elif outcome.status is FeedStatus.BUSY:
        console.print("another publication of this feed is running; try again shortly")
    else:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        console.print(
            f"[red]refused:[/red] {outcome.refusal}{detail}; still served: {outcome.served} offers",
            highlight=False,
        )
        raise typer.Exit(1)


@sync_app.callback()
def sync(
    ctx: typer.Context,
    shop: Annotated[str | None, typer.Option(help="The shop's slug")] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Read every item, not only those updated since")
    ] = False,
) -> None:
    """Sync the shop's catalog with its stores now, both ways, with a progress bar
    (`souk sync --shop SLUG`); `souk sync add` connects a store."""
    if ctx.invoked_subcommand is not None:
        return
    if shop is None:
        raise typer.BadParameter("which shop? --shop SLUG", param_hint="--shop")
    from souk.cli_sync import run_shop_syncs

    settings = _settings(ctx)
    with services(settings) as urls:
        failed = run_async(lambda: run_shop_syncs(settings, urls, shop, full=full, console=console))
    if failed:
        raise typer.Exit(1)


@sync_app.command("add")
def sync_add(
    ctx: typer.Context,
    shop: Annotated[str, typer.Option(help="The shop's slug")],
    shopify: Annotated[
        str | None, typer.Option(help="Shopify store URL (https://NAME.myshopify.com)")
    ] = None,
    token: Annotated[str | None, typer.Option(help="Shopify Admin API access token")] = None,
    woocommerce: Annotated[str | None, typer.Option(help="WooCommerce site URL")] = None,
    key: Annotated[str | None, typer.Option(help="WooCommerce consumer key")] = None,
    secret: Annotated[str | None, typer.Option(help="WooCommerce consumer secret")] = None,
) -> None:
    """Connect a Shopify store (--shopify URL --token T) or a WooCommerce one
    (--woocommerce URL --key K --secret S) to the shop."""
    from souk.db.models import SyncKind
    from souk.services.shops import ShopService
    from souk.services.sync_sources import SyncSources

    register_secret(token, key, secret)
    if bool(shopify) == bool(woocommerce):
        raise typer.BadParameter("give --shopify URL or --woocommerce URL", param_hint="--shopify")
    if shopify and not token:
        raise typer.BadParameter("--shopify needs --token", param_hint="--token")
    if woocommerce and not (key and secret):
        raise typer.BadParameter("--woocommerce needs --key and --secret", param_hint="--key")
    kind = SyncKind.SHOPIFY if shopify else SyncKind.WOOCOMMERCE
    settings = _settings(ctx)

    async def work(urls: ServiceURLs) -> str:
        engine = create_engine(urls.database_url, pool_size=1)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                found = await ShopService(session).get_by_slug(shop)
                source = await SyncSources(session).add(
                    found.id,
                    kind,
                    shopify or woocommerce or "",
                    api_key=key,
                    api_secret=token or secret or "",
                )
                return (
                    f"{kind.value} store {source.base_url} connected to {shop} (source "
                    f"{source.id}); `souk sync --shop {shop}` syncs it now"
                )
        finally:
            await engine.dispose()

    with services(settings) as urls:
        console.print(run_async(lambda: work(urls)), markup=False)


def main() -> None:
    """Entry point: settings -> logging -> command."""
    settings = Settings()
    setup_logging(level=settings.core.log_level, json=settings.core.log_json)
    for secret in (
        settings.telegram.bot_token,
        settings.telegram.webhook_secret,
        settings.core.database_url,
        settings.core.redis_url,
        settings.whatsapp.access_token,
        settings.whatsapp.app_secret,
        settings.ai.openai_api_key,
    ):
        if secret is not None:
            register_secret(secret.get_secret_value())
    try:
        app(obj=settings)
    except SoukError as error:
        console.print(f"[red]error:[/red] {redact(str(error))}")
        raise SystemExit(1) from None
    except Exception:
        # Through the log, so the traceback is redacted like every other line.
        get_logger("souk.cli").exception("command failed")
        raise SystemExit(1) from None
