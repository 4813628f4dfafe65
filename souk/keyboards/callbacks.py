"""Every CallbackData factory of souk's keyboards (each packs into <= 64 bytes)."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData

from souk.db.models import PaymentMethod


class LanguageCD(CallbackData, prefix="lang"):
    code: str


class CategoriesCD(CallbackData, prefix="cats"):
    """Back to the list of categories."""


class CategoryListCD(CallbackData, prefix="catl"):
    """A further page of the list of categories."""

    page: int


class CategoryPageCD(CallbackData, prefix="catp"):
    category_id: int
    page: int


class ProductCD(CallbackData, prefix="prod"):
    """A product as the button showed it: `price` (in cents) tells a stale button apart."""

    product_id: int
    price: int
    category_id: int
    page: int


class SearchPageCD(CallbackData, prefix="srch"):
    """A page of search results; `query_id` names a query the customer searched recently
    (the query itself may not fit the 64 bytes)."""

    query_id: str
    page: int


class SearchHitCD(CallbackData, prefix="hit"):
    """A product from a page of search results (`price` as in ProductCD)."""

    product_id: int
    price: int
    query_id: str
    page: int


class CartAction(enum.StrEnum):
    ADD = "add"
    MORE = "more"
    LESS = "less"
    REMOVE = "remove"
    CLEAR = "clear"
    SHOW = "show"
    TYPE = "type"  # ask for a quantity to be typed


class CartCD(CallbackData, prefix="cart"):
    action: CartAction
    product_id: int = 0


class CheckoutAction(enum.StrEnum):
    START = "start"
    CANCEL = "cancel"


class CheckoutCD(CallbackData, prefix="co"):
    action: CheckoutAction


class ShippingCD(CallbackData, prefix="ship"):
    code: str


class ConfirmCD(CallbackData, prefix="confirm"):
    """Place the order as summarised: `total` (cents) is what the customer saw."""

    method: PaymentMethod
    total: int


class OrderAction(enum.StrEnum):
    SHOW = "show"
    CANCEL = "cancel"
    CANCEL_SURE = "cancel!"
    RETURN = "return"


class OrderCD(CallbackData, prefix="order"):
    action: OrderAction
    order_id: int


class OrdersCD(CallbackData, prefix="orders"):
    """The list of the customer's orders."""


class CompareCD(CallbackData, prefix="cmp"):
    """Add a product to the comparison (product_id 0: clear it)."""

    product_id: int


class RemindersCD(CallbackData, prefix="remind"):
    """Cart reminders on or off for this customer."""

    enabled: bool


class StaffOrderAction(enum.StrEnum):
    SHOW = "show"
    ACCEPT = "accept"
    REJECT = "reject"
    SHIP = "ship"
    DELIVER = "deliver"
    CANCEL = "cancel"  # asks for the shop PIN
    EDIT = "edit"  # asks for the shop PIN
    ACCEPT_RETURN = "return+"
    REFUSE_RETURN = "return-"  # asks for the reason


class StaffOrderCD(CallbackData, prefix="so"):
    action: StaffOrderAction
    order_id: int


class LineEdit(enum.StrEnum):
    LESS = "-"
    REMOVE = "x"
    DONE = "done"


class StaffEditCD(CallbackData, prefix="soe"):
    """A change to line `item_id` of an order being edited (after the PIN)."""

    action: LineEdit
    order_id: int
    item_id: int = 0


class StaffOrdersCD(CallbackData, prefix="sos"):
    """A page of the shop's orders, of one status or of all ("")."""

    status: str
    page: int


class ImportAction(enum.StrEnum):
    APPLY = "apply"
    CANCEL = "cancel"


class ImportCD(CallbackData, prefix="imp"):
    """Apply or cancel the previewed import `ticket` (a newer preview makes it stale)."""

    action: ImportAction
    ticket: str


class ScheduleButton(enum.StrEnum):
    NEW = "new"
    UNSCHEDULE = "cancel"  # cancel (or revert now) schedule `schedule_id`
    NO_REVERT = "norevert"
    CONFIRM = "confirm"
    DROP = "drop"


class ScheduleCD(CallbackData, prefix="sch"):
    """The buttons of /schedule and of a new schedule's steps; `ticket` names the previewed
    schedule (a newer preview makes it stale)."""

    action: ScheduleButton
    schedule_id: int = 0
    ticket: str = ""


class CampaignStep(enum.StrEnum):
    ALL = "all"  # segment: every subscribed customer
    CATEGORIES = "cats"  # segment: bought in a category (shows the categories)
    CATEGORY = "cat"  # that category (`value` is its id)
    INACTIVE = "idle"  # segment: inactive for N days (asks for N)
    NO_PHOTO = "nophoto"
    CATALOG = "catalog"  # the button opens the shop's catalog
    NO_BUTTON = "nobutton"
    QUIT = "quit"


class CampaignSetupCD(CallbackData, prefix="cset"):
    """A choice while a campaign is set up (/broadcast)."""

    step: CampaignStep
    value: int = 0


class CampaignAction(enum.StrEnum):
    SEND = "send"
    CANCEL = "cancel"  # drop the draft
    REFRESH = "refresh"  # the live figures now
    STOP = "stop"  # stop sending


class CampaignCD(CallbackData, prefix="camp"):
    action: CampaignAction
    campaign_id: int


class CampaignsOptCD(CallbackData, prefix="news"):
    """A customer opts in to or out of the shop's campaigns."""

    subscribe: bool


class OpenCatalogCD(CallbackData, prefix="ocat"):
    """The categories as a new message (the message with the button stays)."""


class AdminShopsCD(CallbackData, prefix="adsh"):
    """A page of a platform admin's /shops."""

    page: int


class AnnouncementAction(enum.StrEnum):
    SEND = "send"
    CANCEL = "cancel"


class AnnouncementCD(CallbackData, prefix="ann"):
    """Send or drop the previewed announcement `ticket` of a platform admin."""

    action: AnnouncementAction
    ticket: str


class RepriceAction(enum.StrEnum):
    YES = "yes"
    NO = "no"
    REVERT = "revert"


class RepriceCD(CallbackData, prefix="rp"):
    """An answer to repricing decision `decision_id` (the decision says if it still may
    be answered)."""

    action: RepriceAction
    decision_id: int


class TakeoverAction(enum.StrEnum):
    REPLY = "reply"
    RELEASE = "release"
    HISTORY = "history"


class TakeoverCD(CallbackData, prefix="human"):
    """Staff acting on a customer's conversation from the takeover push."""

    action: TakeoverAction
    customer_id: int


class HumanCD(CallbackData, prefix="askhuman"):
    """A customer's "Talk to a person" button."""


class HistoryCD(CallbackData, prefix="hist"):
    """Page `page` (0: the most recent) of a customer's conversation log, for staff."""

    customer_id: int
    page: int
