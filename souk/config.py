"""Settings, one class per concern, read from the environment and `.env`.

Unset URLs mean "use the embedded server of DATA_DIR" (see `souk.embedded`).
Every platform limit from PLATFORMS.md is a setting with the documented value as
its default, so an operator can follow the platforms when they change.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_FILE = ".env"


def _config(prefix: str = "") -> SettingsConfigDict:
    # An empty value (`TELEGRAM_BOT_TOKEN=` copied from .env.example) means unset.
    return SettingsConfigDict(
        env_prefix=prefix,
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
    )


# Postgres' own default (128MB) holds a fraction of a 100k catalog's search indexes and
# rows (~450 MB): search p95 at 100k products doubled with it.
DEFAULT_SHARED_BUFFERS = "512MB"


class CoreSettings(BaseSettings):
    """Where the data lives and who runs the platform."""

    model_config = _config()

    database_url: SecretStr | None = Field(
        None, description="Postgres URL (postgresql+asyncpg://...); unset: embedded Postgres"
    )
    redis_url: SecretStr | None = Field(None, description="Redis URL; unset: embedded Redis")
    data_dir: Path = Field(Path(".data"), description="Embedded servers' data and sockets")
    postgres_shared_buffers: str = Field(
        DEFAULT_SHARED_BUFFERS,
        pattern=r"^\d+(kB|MB|GB)$",
        description="shared_buffers of the embedded Postgres (and docker-compose's): "
        "the search indexes and rows of 100k products take ~450 MB",
    )
    public_url: str | None = Field(
        None, description="Public https URL of this server, used to register webhooks"
    )
    admin_telegram_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Comma-separated Telegram user ids of platform admins"
    )
    human_takeover_minutes: int = Field(
        30, ge=1, description="Minutes of staff silence before the bot resumes a conversation"
    )
    demo: bool = Field(True, description="Serve the demo landing page and web chat at /")
    log_level: str = Field("INFO", description="Log level")
    log_json: bool = Field(False, description="Log JSON lines instead of console text")

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        return value


class HttpSettings(BaseSettings):
    """The web process: webhooks, health, metrics."""

    model_config = _config("HTTP_")

    host: str = Field("127.0.0.1", description="Address the web server binds")
    port: int = Field(8080, ge=0, le=65535, description="Port the web server binds")
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest webhook body accepted (larger: 413)"
    )


class TelegramSettings(BaseSettings):
    """Telegram Bot API: the demo bot, webhooks and outbound limits."""

    model_config = _config("TELEGRAM_")

    bot_token: SecretStr | None = Field(None, description="Bot token of the `demo` shop")
    webhook_secret: SecretStr | None = Field(
        None, description="Webhook secret of the demo bot (default: generated and stored)"
    )
    payment_provider_token: SecretStr | None = Field(
        None,
        description="Payment provider token of the demo bot (from @BotFather; unset: cash "
        "on delivery only)",
    )
    payment_timeout_minutes: int = Field(
        30, ge=1, description="An order unpaid this long is cancelled and its stock released"
    )
    api_base: str = Field(
        "https://api.telegram.org", description="Bot API server (a local one or a test double)"
    )
    per_chat_rate: float = Field(1.0, gt=0, description="Messages per second to one chat")
    per_chat_burst: int = Field(2, ge=1, description="Short burst allowed to one chat")
    per_group_per_minute: int = Field(20, ge=1, description="Messages per minute to one group")
    per_bot_rate: float = Field(30.0, gt=0, description="Messages per second from one bot")
    per_bot_burst: int = Field(5, ge=1, description="Burst allowed to one bot")
    paid_broadcast_rate: float = Field(
        1000.0, gt=0, description="Messages per second on the paid-broadcast lane"
    )
    max_retries: int = Field(5, ge=0, description="Retries of one call after 429 or a timeout")
    request_timeout: float = Field(30.0, gt=0, description="Seconds before a Bot API call fails")
    webhook_max_connections: int = Field(
        40, ge=1, le=100, description="max_connections given to setWebhook"
    )


class WhatsAppSettings(BaseSettings):
    """WhatsApp Cloud API (used by the WhatsApp channel)."""

    model_config = _config("WHATSAPP_")

    access_token: SecretStr | None = Field(None, description="Cloud API access token")
    phone_number_id: str | None = Field(None, description="Phone number id of the demo shop")
    app_secret: SecretStr | None = Field(None, description="App secret signing webhooks")
    verify_token: SecretStr | None = Field(None, description="Token of the verify handshake")
    api_base: str = Field("https://graph.facebook.com/v23.0", description="Graph API base URL")
    per_number_rate: float = Field(80.0, gt=0, description="Messages per second per number")
    per_user_interval: float = Field(6.0, gt=0, description="Seconds between messages to a user")
    per_user_burst: int = Field(
        45, ge=1, description="Messages to one user sent at once before the interval applies"
    )
    request_timeout: float = Field(30.0, gt=0, description="Seconds before a Cloud API call fails")
    max_retries: int = Field(3, ge=0, description="Retries of a message refused for its rate")
    media_max_bytes: int = Field(
        16 * 1024 * 1024,
        ge=1,
        le=50 * 1024 * 1024,
        description="Largest customer file (image, voice note, video, document) downloaded "
        "to show the staff in human mode; a larger one reaches them as its line only "
        "(WhatsApp sends audio and video up to 16 MB; Telegram takes bot uploads up to 50 MB)",
    )
    templates: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Approved templates for pushes outside the 24-hour window, by push kind, as "
            'JSON: {"order_status": "order_update:en_US", "cart_reminder": "cart:en_US", '
            '"campaign": "news:en_US"} (one body parameter: the push\'s text); a push '
            "without one is held and the staff told, a campaign without one skips the "
            "WhatsApp customers outside their window (counted in its figures)"
        ),
    )


class AISettings(BaseSettings):
    """Embeddings and the LLM (any OpenAI-compatible provider)."""

    model_config = _config()

    openai_api_key: SecretStr | None = Field(None, description="LLM provider key; unset: no LLM")
    openai_base_url: str | None = Field(None, description="OpenAI-compatible base URL")
    llm_model: str = Field("gpt-4o-mini", description="Chat model name")
    embeddings: Literal["local", "openai"] = Field("local", description="Embedder")
    embeddings_refresh_seconds: float = Field(
        30.0, gt=0, description="Beat interval of the task that embeds changed products"
    )
    embeddings_model: str = Field(
        "text-embedding-3-small",
        description="Model asked for 384 dimensions when EMBEDDINGS=openai",
    )
    embeddings_threads: int = Field(
        1,
        ge=1,
        description="Threads the local model embeds with, per process: more are faster "
        "only on idle cores (2 on a busy 2-core machine: query p95 40 -> 400 ms)",
    )
    embeddings_query_cache: int = Field(
        1000,
        ge=0,
        description="Query embeddings each process keeps (least recently used go); 0: none",
    )
    llm_timeout_seconds: float = Field(
        20.0, gt=0, description="Seconds one LLM request may take before it is retried"
    )
    llm_max_retries: int = Field(
        2, ge=0, description="Retries of an LLM request that timed out or got 429 or a 5xx"
    )
    llm_retry_backoff_seconds: float = Field(
        0.5, ge=0, description="Wait before the first LLM retry (doubles with each retry)"
    )
    llm_retry_max_wait_seconds: float = Field(
        5.0,
        ge=0,
        description="Longest wait before an LLM retry; a 429 asking for longer is not "
        "retried (the customer gets the fallback answer instead)",
    )
    llm_max_tokens: int = Field(
        600, ge=16, description="Most tokens the LLM may write in one answer"
    )


class AssistantSettings(BaseSettings):
    """The AI assistant that answers customers' free text (with OPENAI_API_KEY set)."""

    model_config = _config("ASSISTANT_")

    max_tool_rounds: int = Field(
        4,
        ge=1,
        le=10,
        description="Rounds of tool calls in one answer; then the model must answer",
    )
    max_calls_per_round: int = Field(
        5, ge=1, description="Tool calls run in one round; more are answered with an error"
    )
    context_tokens: int = Field(
        1500,
        ge=100,
        description="Tokens of recent conversation sent with a question (estimated at "
        "4 characters a token)",
    )
    history_messages: int = Field(
        20, ge=0, description="Recent messages of a conversation kept for the assistant"
    )
    history_hours: float = Field(
        24.0, gt=0, description="A conversation's kept messages are forgotten after this"
    )
    max_cards: int = Field(
        3, ge=0, le=10, description="Product cards shown below one answer at most"
    )
    search_results: int = Field(
        5, ge=1, le=20, description="Products one search_products call gives the model"
    )
    typing_delay_seconds: float = Field(
        0.5,
        ge=0,
        le=4.5,
        description='"typing…" is shown once an answer takes longer than this: a quick '
        "answer needs no indicator, and the Bot API call is saved",
    )
    daily_tokens: int = Field(
        0,
        ge=0,
        description="LLM tokens (in and out) one shop's assistant may use per UTC day; "
        "once they are used, customers get the answers without a model until midnight "
        "UTC and the shop's staff are told once. 0: no limit",
    )


class InboxSettings(BaseSettings):
    """Durable intake of inbound updates."""

    model_config = _config("INBOX_")

    concurrency: int = Field(
        24, ge=1, description="Updates processed at once per web process (keep under the pool)"
    )
    max_backlog: int = Field(
        64,
        ge=1,
        description="Stored updates waiting in a web process before acknowledgements slow down",
    )
    sweep_seconds: float = Field(
        5.0, gt=0, description="How often stored-but-unprocessed updates are looked for"
    )
    stale_seconds: float = Field(
        10.0, ge=0, description="Age after which a pending update is taken over by a sweep"
    )
    throttle_rate: float = Field(3.0, gt=0, description="Inbound updates per second per user")
    throttle_burst: int = Field(10, ge=1, description="Inbound burst per user before throttling")
    retention_days: int = Field(7, ge=1, description="Days processed updates are kept")


class OutboxSettings(BaseSettings):
    """Delivery of pushes through the outbox."""

    model_config = _config("OUTBOX_")

    batch_size: int = Field(200, ge=1, description="Rows a notifier run claims at once")
    lease_seconds: float = Field(
        60.0, gt=0, description="A claimed row returns to the queue after this (worker died)"
    )
    max_attempts: int = Field(8, ge=1, description="Attempts before a push is given up")
    backoff_seconds: float = Field(2.0, gt=0, description="First retry delay (doubles)")
    backoff_max_seconds: float = Field(600.0, gt=0, description="Longest retry delay")
    sweep_seconds: float = Field(2.0, gt=0, description="Beat interval of the outbox sweep")


class CartSettings(BaseSettings):
    """Abandoned-cart reminders."""

    model_config = _config("CART_")

    reminder_after_minutes: int = Field(
        180, ge=5, description="Remind once about a cart left untouched this long"
    )
    reminder_max_age_days: int = Field(
        7, ge=1, description="Carts untouched longer than this are not reminded about"
    )
    quiet_hours_start: int = Field(
        21, ge=0, le=23, description="Shop-local hour from which no reminder is sent"
    )
    quiet_hours_end: int = Field(
        9, ge=0, le=23, description="Shop-local hour until which no reminder is sent"
    )
    reminder_check_seconds: int = Field(
        300, ge=10, description="How often beat looks for carts to remind about"
    )

    def quiet_at(self, hour: int) -> bool:
        """Is this local hour inside the quiet hours (which may span midnight)?"""
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if start == end:
            return False
        return start <= hour < end if start < end else hour >= start or hour < end


class StaffSettings(BaseSettings):
    """Staff invites and the shop PIN."""

    model_config = _config("STAFF_")

    invite_ttl_hours: int = Field(
        24, ge=1, le=24 * 30, description="How long a staff invite link stays valid"
    )
    pin_attempts: int = Field(3, ge=1, description="Wrong PINs in a row before a lock")
    pin_lock_minutes: int = Field(
        15, ge=1, description="How long the PIN is locked after too many wrong tries"
    )
    edit_minutes: int = Field(
        10, ge=1, le=24 * 60, description="How long an order stays open for edits after the PIN"
    )


class ImportSettings(BaseSettings):
    """Catalog files staff import (through the bot or `souk import`)."""

    model_config = _config("IMPORT_")

    max_bytes: int = Field(
        20 * 1024 * 1024,
        ge=1024,
        description="Largest catalog file read (Telegram lets bots download up to 20 MB)",
    )
    max_rows: int = Field(50_000, ge=1, description="Most rows of one catalog file")


class ScheduleSettings(BaseSettings):
    """Scheduled price and stock changes (/schedule)."""

    model_config = _config("SCHEDULE_")

    check_seconds: int = Field(
        60,
        ge=5,
        description="How often beat applies and reverts due schedules (their latest delay)",
    )
    max_days_ahead: int = Field(
        366, ge=1, description="How far ahead a schedule may apply or revert, in days"
    )


class ReportSettings(BaseSettings):
    """Sales reports and the owners' daily digest."""

    model_config = _config("REPORT_")

    digest_hour: int = Field(
        9, ge=0, le=23, description="Shop-local hour when owners get yesterday's report"
    )


class CampaignSettings(BaseSettings):
    """Campaigns staff broadcast to their customers (and announcements to staff)."""

    model_config = _config("CAMPAIGN_")

    batch_size: int = Field(
        500, ge=1, le=2000, description="Recipients handed to the outbox per transaction"
    )
    max_ahead: int = Field(
        1000,
        ge=1,
        description="Undelivered pushes of one campaign in the outbox before no more are "
        "queued (keep above the per-bot rate times CAMPAIGN_TICK_SECONDS)",
    )
    tick_seconds: float = Field(
        5.0, gt=0, description="Beat interval of the task that advances sending campaigns"
    )
    stats_seconds: float = Field(
        10.0, gt=0, description="Shortest interval between two edits of a campaign's live stats"
    )
    whatsapp_window_margin_minutes: int = Field(
        30,
        ge=0,
        le=23 * 60,
        description="A WhatsApp customer whose 24-hour window closes sooner than this is sent "
        'the campaign template (WHATSAPP_TEMPLATES "campaign") rather than a message that '
        "may arrive after it closed",
    )


class MonitorSettings(BaseSettings):
    """Competitor price monitoring: how competitors' pages are fetched."""

    model_config = _config("MONITOR_")

    per_host_concurrency: int = Field(
        1, ge=1, description="Requests in flight at once to one competitor host"
    )
    per_host_delay_seconds: float = Field(
        2.0, ge=0, description="Least time between the starts of two requests to one host"
    )
    timeout_seconds: float = Field(
        15.0, gt=0, description="Seconds one request may take, body included"
    )
    retries: int = Field(
        2, ge=0, description="Retries of a request that timed out or got a 5xx answer"
    )
    backoff_seconds: float = Field(
        1.0, ge=0, description="Wait before the first retry (doubles with each retry)"
    )
    breaker_seconds: float = Field(
        3600.0,
        gt=0,
        description="A host answering 403, 405 or 429 gets no request for this long "
        "(or for its Retry-After, if longer)",
    )
    max_page_bytes: int = Field(
        3 * 1024 * 1024, ge=1024, description="Largest page read (larger ones are refused)"
    )
    max_redirects: int = Field(5, ge=0, description="Redirects followed for one page")
    user_agent: str = Field(
        "souk-monitor/0.1 (price monitoring)",
        description="User-Agent sent to competitors' sites (add a contact URL of yours)",
    )
    allow_private_addresses: bool = Field(
        False,
        description="Fetch pages on loopback and private addresses (tests, intranets); "
        "off, a URL naming or resolving to one is refused",
    )
    tier_minutes: dict[str, int] = Field(
        default_factory=lambda: {"fast": 60, "normal": 360, "slow": 1440},
        description="Minutes between two checks of an offer, by its tier, as JSON; an "
        'offer is "normal" unless staff set another tier',
    )
    check_seconds: int = Field(
        60, ge=5, description="How often beat looks for offers due for a check"
    )
    batch_size: int = Field(500, ge=1, description="Due offers one monitoring pass claims at once")
    run_concurrency: int = Field(
        200,
        ge=1,
        description="Checks in flight at once in one worker (each host still gets only "
        "MONITOR_PER_HOST_CONCURRENCY)",
    )
    run_seconds: float = Field(
        50.0, gt=0, description="A monitoring run claims no new batch after this long"
    )
    claim_seconds: int = Field(
        600,
        ge=30,
        description="A claimed offer is due again after this if its check never ended "
        "(the worker died)",
    )
    max_backoff_minutes: int = Field(
        24 * 60,
        ge=1,
        description="Longest wait before an offer whose checks keep failing is checked "
        "again (the wait doubles with each failure)",
    )
    sanity_low_ratio: float = Field(
        0.3,
        gt=0,
        lt=1,
        description="A competitor's price under this share of ours is ignored and "
        "reported, not taken as its price (a typo, a deposit, a wrong product)",
    )
    sanity_high_ratio: float = Field(
        3.0,
        gt=1,
        description="A competitor's price over this many times ours is ignored and reported",
    )
    marketplaces: dict[str, str] = Field(
        default_factory=dict,
        description="Marketplace offer-list APIs by name, as JSON: "
        '{"kaspi": "https://api.example.kz/offers/"}; a /watch URL starting with one '
        "is read as that marketplace's list of every seller of the product",
    )


class RepriceSettings(BaseSettings):
    """Repricing: what the rules do where they say nothing, and how long approvals wait."""

    model_config = _config("REPRICE_")

    no_competitor: Literal["hold", "ceiling"] = Field(
        "hold",
        description="With no competitor left after a rule's filter: keep the price (hold) "
        "or go to the rule's ceiling (a rule may say otherwise)",
    )
    approval_minutes: int = Field(
        60,
        ge=1,
        le=7 * 24 * 60,
        description="How long the Yes/No buttons of a repricing to approve stay valid",
    )
    log_size: int = Field(
        5, ge=1, le=20, description="Decisions /reprice_log shows for a product, newest first"
    )
    whole_unit_currencies: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["KZT"],
        description="Comma-separated currencies whose prices are set in whole units "
        "although ISO gives them minor ones (Kaspi takes whole tenge); currencies without "
        "minor units (JPY) are whole anyway",
    )

    @field_validator("whole_unit_currencies", mode="before")
    @classmethod
    def _split_codes(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().upper() for part in value.split(",") if part.strip()]
        return value


class FeedSettings(BaseSettings):
    """The marketplace price feed (Kaspi.kz XML) each shop may publish."""

    model_config = _config("FEED_")

    check_seconds: float = Field(
        60.0,
        gt=0,
        description="Beat interval of the task that regenerates feeds whose offers changed "
        "(Kaspi fetches every 30-60 minutes; changes in between are folded into one)",
    )
    max_shrink_percent: float = Field(
        20.0,
        ge=0,
        le=100,
        description="A new feed with this many percent fewer offers than the published one "
        "is refused (the last good one stays served, staff are told)",
    )


class FaqSettings(BaseSettings):
    """Answers from the shop's FAQ, matched by the meaning of the customer's question."""

    model_config = _config("FAQ_")

    thresholds: dict[str, float] = Field(
        default_factory=lambda: {"en": 0.85, "ru": 0.86, "ar": 0.86},
        description="Least cosine similarity between a customer's question and an FAQ "
        "question for the answer to be given, by the question's language, as JSON "
        '({"en": 0.85}); calibrated on tests/services/faq_questions.py for the local model',
    )
    default_threshold: float = Field(
        0.86, gt=0, le=1, description="The threshold of a language FAQ_THRESHOLDS does not name"
    )

    def threshold(self, language: str) -> float:
        return self.thresholds.get(language, self.default_threshold)


class TakeoverSettings(BaseSettings):
    """A person of the shop answering a customer instead of the bot (HUMAN_TAKEOVER_MINUTES
    is with the core settings)."""

    model_config = _config("TAKEOVER_")

    keywords: list[str] = Field(
        default_factory=lambda: [
            "operator",
            "human",
            "real person",
            "live agent",
            "talk to a person",
            "оператор",
            "живой человек",
            "менеджер",
            "موظف",
            "الموظف",
            "شخص حقيقي",
            "خدمة العملاء",
            "انسان",
            "إنسان",
        ],
        description="Words or phrases in a customer's message that ask for a person (as "
        'JSON); a word starting with one matches ("оператора"), ignoring case',
    )
    recent_messages: int = Field(
        10, ge=1, le=50, description="Last messages of the conversation shown to staff"
    )
    check_seconds: float = Field(
        60.0,
        gt=0,
        description="Beat interval of the task that gives silent conversations back to the bot",
    )


class MessageLogSettings(BaseSettings):
    """The conversation log: every message in and out, for /history."""

    model_config = _config("MESSAGE_")

    retention_days: int = Field(
        90, ge=1, description="Days logged messages are kept (older ones are deleted by beat)"
    )
    history_page: int = Field(15, ge=1, le=50, description="Messages per page of /history")


class SyncSettings(BaseSettings):
    """Catalog sync with the shops' Shopify and WooCommerce stores (`souk sync`)."""

    model_config = _config("SYNC_")

    interval_minutes: float = Field(
        15.0,
        gt=0,
        description="Minutes between the end of a store's sync run (finished or failed) and "
        "the start of its next; a failed run resumes where it stopped",
    )
    full_every_hours: float = Field(
        24.0,
        gt=0,
        description="Hours between runs that read every item of a store, not only those "
        "updated since the last run (what an updated_at filter can miss)",
    )
    check_seconds: float = Field(
        60.0, gt=0, description="Beat interval of the task that starts the syncs that are due"
    )
    shopify_api_version: str = Field(
        "2025-07",
        pattern=r"^\d{4}-\d{2}$",
        description="Shopify Admin API version in /admin/api/{version}/graphql.json",
    )
    shopify_page_size: int = Field(
        250, ge=1, le=250, description="Shopify variants read per GraphQL page (Shopify's most)"
    )
    woocommerce_page_size: int = Field(
        100, ge=1, le=100, description="WooCommerce products read per REST page (its most)"
    )
    timeout_seconds: float = Field(
        60.0, gt=0, description="Seconds one request to a store may take"
    )
    retries: int = Field(
        3, ge=0, description="Retries of a request that timed out or got a 5xx or 429 answer"
    )
    backoff_seconds: float = Field(
        2.0, ge=0, description="Wait before the first retry (doubles; a Retry-After wins)"
    )
    max_throttle_waits: int = Field(
        20, ge=1, description="Times one Shopify query may wait for its cost budget before failing"
    )
    overlap_seconds: float = Field(
        300.0,
        ge=0,
        description="The next run also reads items updated this long before the last run "
        "started (clock skew, changes made while it ran)",
    )
    lease_seconds: float = Field(
        900.0, gt=0, description="A run not heard from this long is taken over by the next"
    )


class WorkerSettings(BaseSettings):
    """Celery worker processes."""

    model_config = _config("WORKER_")

    concurrency: int = Field(2, ge=1, description="Worker processes per `souk worker`")


class Settings:
    """All settings of one process, loaded once by the composition root."""

    def __init__(self) -> None:
        self.core = CoreSettings()
        self.http = HttpSettings()
        self.telegram = TelegramSettings()
        self.whatsapp = WhatsAppSettings()
        self.ai = AISettings()
        self.assistant = AssistantSettings()
        self.inbox = InboxSettings()
        self.outbox = OutboxSettings()
        self.cart = CartSettings()
        self.staff = StaffSettings()
        self.reports = ReportSettings()
        self.imports = ImportSettings()
        self.schedules = ScheduleSettings()
        self.campaign = CampaignSettings()
        self.monitor = MonitorSettings()
        self.reprice = RepriceSettings()
        self.feed = FeedSettings()
        self.faq = FaqSettings()
        self.takeover = TakeoverSettings()
        self.messages = MessageLogSettings()
        self.sync = SyncSettings()
        self.worker = WorkerSettings()

    @cached_property
    def data_dir(self) -> Path:
        return self.core.data_dir.expanduser().resolve()


SETTINGS_CLASSES: tuple[type[BaseSettings], ...] = (
    CoreSettings,
    HttpSettings,
    TelegramSettings,
    WhatsAppSettings,
    AISettings,
    AssistantSettings,
    InboxSettings,
    OutboxSettings,
    CartSettings,
    StaffSettings,
    ReportSettings,
    ImportSettings,
    ScheduleSettings,
    CampaignSettings,
    MonitorSettings,
    RepriceSettings,
    FeedSettings,
    FaqSettings,
    TakeoverSettings,
    MessageLogSettings,
    SyncSettings,
    WorkerSettings,
)
