"""Every table of souk; importing this module registers them all on `Base.metadata`."""

from souk.db.models.audit import PriceChange, PriceSource, StockMovement, StockReason
from souk.db.models.base import Base
from souk.db.models.catalog import (
    EMBEDDING_DIMENSIONS,
    Category,
    FaqEntry,
    Product,
    SearchWord,
    ShippingOption,
)
from souk.db.models.customer import (
    Conversation,
    ConversationMode,
    Customer,
    Direction,
    MessageLog,
)
from souk.db.models.messaging import InboundStatus, InboundUpdate, OutboxMessage, OutboxStatus
from souk.db.models.order import Cart, CartItem, Order, OrderItem, OrderStatus, PaymentMethod
from souk.db.models.shop import ChannelKind, Shop, ShopChannel, Staff, StaffInvite, StaffRole

__all__ = [
    "EMBEDDING_DIMENSIONS",
    "Base",
    "Cart",
    "CartItem",
    "Category",
    "ChannelKind",
    "Conversation",
    "ConversationMode",
    "Customer",
    "Direction",
    "FaqEntry",
    "InboundStatus",
    "InboundUpdate",
    "MessageLog",
    "Order",
    "OrderItem",
    "OrderStatus",
    "OutboxMessage",
    "OutboxStatus",
    "PaymentMethod",
    "PriceChange",
    "PriceSource",
    "Product",
    "SearchWord",
    "ShippingOption",
    "Shop",
    "ShopChannel",
    "Staff",
    "StaffInvite",
    "StaffRole",
    "StockMovement",
    "StockReason",
]
