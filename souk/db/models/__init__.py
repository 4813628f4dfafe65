"""Every table of souk; importing this module registers them all on `Base.metadata`."""

from souk.db.models.audit import PriceChange, PriceSource, StockMovement, StockReason
from souk.db.models.base import Base
from souk.db.models.campaign import Campaign, CampaignRecipient, CampaignStatus, RecipientState
from souk.db.models.catalog import (
    EMBEDDING_DIMENSIONS,
    Category,
    FaqEntry,
    Product,
    SearchWord,
    ShippingOption,
)
from souk.db.models.competition import (
    Competitor,
    CompetitorOffer,
    OfferSource,
    PriceObservation,
)
from souk.db.models.customer import (
    Conversation,
    ConversationMode,
    Customer,
    Direction,
    MessageLog,
)
from souk.db.models.feed import KaspiFeed
from souk.db.models.messaging import (
    DeliveryStatus,
    InboundStatus,
    InboundUpdate,
    OutboxMessage,
    OutboxPriority,
    OutboxStatus,
)
from souk.db.models.order import Cart, CartItem, Order, OrderItem, OrderStatus, PaymentMethod
from souk.db.models.repricing import (
    DecisionStatus,
    NoCompetitor,
    RepriceDecision,
    RepriceMode,
    RepricePause,
    RepriceRule,
    Strategy,
)
from souk.db.models.schedule import PriceSchedule, PriceScheduleRow, RowResult, ScheduleState
from souk.db.models.shop import ChannelKind, Shop, ShopChannel, Staff, StaffInvite, StaffRole
from souk.db.models.sync import SyncKind, SyncLink, SyncSource
from souk.db.models.usage import LlmUsage

__all__ = [
    "EMBEDDING_DIMENSIONS",
    "Base",
    "Campaign",
    "CampaignRecipient",
    "CampaignStatus",
    "Cart",
    "CartItem",
    "Category",
    "ChannelKind",
    "Competitor",
    "CompetitorOffer",
    "Conversation",
    "ConversationMode",
    "Customer",
    "DecisionStatus",
    "DeliveryStatus",
    "Direction",
    "FaqEntry",
    "InboundStatus",
    "InboundUpdate",
    "KaspiFeed",
    "LlmUsage",
    "MessageLog",
    "NoCompetitor",
    "OfferSource",
    "Order",
    "OrderItem",
    "OrderStatus",
    "OutboxMessage",
    "OutboxPriority",
    "OutboxStatus",
    "PaymentMethod",
    "PriceChange",
    "PriceObservation",
    "PriceSchedule",
    "PriceScheduleRow",
    "PriceSource",
    "Product",
    "RecipientState",
    "RepriceDecision",
    "RepriceMode",
    "RepricePause",
    "RepriceRule",
    "RowResult",
    "ScheduleState",
    "SearchWord",
    "ShippingOption",
    "Shop",
    "ShopChannel",
    "Staff",
    "StaffInvite",
    "StaffRole",
    "StockMovement",
    "StockReason",
    "Strategy",
    "SyncKind",
    "SyncLink",
    "SyncSource",
]
