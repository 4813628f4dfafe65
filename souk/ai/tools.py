"""The assistant's tools: customer tools only, as JSON-schema functions backed by services.

The set is fixed (`CUSTOMER_TOOLS`): whatever a prompt makes the model ask for, a name
outside it is answered with an error, never run. Who is asking is the `Asker` the
update gave (shop, customer, language), never an argument: no tool takes a shop, a
customer or a price, and arguments the schema does not name are refused
(`extra="forbid"`), so a model cannot widen a call to another customer's data.

Every call's arguments are validated by its pydantic model; a bad argument (or JSON
that is not JSON) goes back to the model as the tool's error, never as an exception.
What the tools return is JSON text for the model; the `Toolbox` also keeps the products
it showed (for the cards under the answer) and the texts it returned (what the answer's
numbers are checked against, see `souk.ai.guard`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema
from sqlalchemy.ext.asyncio import AsyncSession

from souk.ai.embedder import Embedder
from souk.db.models import Product
from souk.errors import NotFoundError
from souk.services.cart import CartService, CartView, NotEnoughStock
from souk.services.catalog import CatalogService, localized
from souk.services.faq import MAX_QUESTION, FaqService
from souk.services.orders import OrderService
from souk.services.search import SearchService
from souk.services.search_filters import SearchQuery, parse_search
from souk.services.takeover import TakeoverService

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionToolParam

_DESCRIPTION_CHARS = 400
_MAX_QUANTITY = 99


@dataclass(frozen=True)
class Asker:
    """Who the tools act for: from the update, never from the model."""

    shop_id: int
    customer_id: int
    language: str


class ToolArguments(BaseModel):
    """Arguments of one tool; anything the schema does not name is refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Price = Annotated[Decimal, WithJsonSchema({"type": "number"}), Field(gt=0, le=10**9)]
Sku = Annotated[str, Field(min_length=1, max_length=64, description="The product's SKU")]


class SearchProducts(ToolArguments):
    query: str = Field(
        min_length=1, max_length=200, description="What the customer looks for, in their words"
    )
    max_price: Price | None = Field(None, description="Highest price, in the shop's currency")
    in_stock: bool = Field(False, description="Only products in stock")


class GetProduct(ToolArguments):
    sku: Sku


class AddToCart(ToolArguments):
    sku: Sku
    qty: int = Field(1, ge=1, le=_MAX_QUANTITY, description="How many to add")


class NoArguments(ToolArguments):
    pass


class GetOrderStatus(ToolArguments):
    order_number: str = Field(
        min_length=1, max_length=32, description="The order number, e.g. 1001"
    )


class AnswerFaq(ToolArguments):
    question: str = Field(
        min_length=1, max_length=MAX_QUESTION, description="The customer's question"
    )


class HandoffToHuman(ToolArguments):
    reason: str = Field(
        min_length=1, max_length=300, description="Why a person is needed, in a few words"
    )


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    arguments: type[ToolArguments]

    def schema(self) -> ChatCompletionToolParam:
        parameters = _without_titles(self.arguments.model_json_schema())
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": parameters,
            },
        }


def _without_titles(schema: Any) -> Any:
    """pydantic's schema without its `title`s: tokens the model does not need."""
    if isinstance(schema, dict):
        return {
            key: _without_titles(value)
            for key, value in schema.items()
            if not (key == "title" and isinstance(value, str))
        }
    if isinstance(schema, list):
        return [_without_titles(value) for value in schema]
    return schema


CUSTOMER_TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "search_products",
        "Search the shop's catalog. Returns products with their current price and stock.",
        SearchProducts,
    ),
    ToolSpec(
        "get_product",
        "One product's details, current price and stock, by SKU.",
        GetProduct,
    ),
    ToolSpec("add_to_cart", "Add a product to the customer's cart.", AddToCart),
    ToolSpec("view_cart", "The customer's cart: lines and total.", NoArguments),
    ToolSpec(
        "get_order_status",
        "Status of one of the customer's own orders, by its number.",
        GetOrderStatus,
    ),
    ToolSpec(
        "answer_faq",
        "The shop's own answer to a common question (delivery, payment, returns...).",
        AnswerFaq,
    ),
    ToolSpec(
        "handoff_to_human",
        "Hand the conversation to a person of the shop, when the customer asks for one "
        "or you cannot help.",
        HandoffToHuman,
    ),
)


@functools.cache
def tool_schemas() -> tuple[ChatCompletionToolParam, ...]:
    """The tools as the model is told about them (built once: pydantic's schemas are slow)."""
    return tuple(spec.schema() for spec in CUSTOMER_TOOLS)


@dataclass(frozen=True)
class ToolResult:
    """What one call returned to the model, and whether it was refused or failed."""

    name: str
    content: str
    error: bool = False


def availability(stock: int) -> str:
    """Stock as the catalog tells customers (not the exact count of a large stock)."""
    if stock <= 0:
        return "out of stock"
    return f"only {stock} left" if stock <= 3 else "in stock"


def _price(value: Decimal) -> str:
    return f"{value:.2f}"


def _brief(product: Product, language: str) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "title": localized(product, "title", language),
        "price": _price(product.price),
        "currency": product.currency,
        "stock": availability(product.stock),
    }


def _cart(view: CartView, language: str) -> dict[str, Any]:
    return {
        "lines": [
            {
                "sku": line.product.sku,
                "title": localized(line.product, "title", language),
                "quantity": line.quantity,
                "price": _price(line.product.price),
                "line_total": _price(line.total),
            }
            for line in view.lines
        ],
        "total": _price(view.total),
        "currency": view.currency,
    }


class ToolError(Exception):
    """A call that cannot be done as asked; its message goes back to the model."""


Handler = Callable[[Any], Awaitable[dict[str, Any]]]


@dataclass
class Toolbox:
    """Runs the customer tools for one asker during one turn, and remembers what they
    showed: the products (in the order first shown) and every text returned; and
    whether the cart changed or a person was called."""

    session: AsyncSession
    embedder: Embedder
    asker: Asker
    faq: FaqService
    takeover: TakeoverService
    search_results: int = 5
    products: dict[int, Product] = field(default_factory=dict)
    returned: list[str] = field(default_factory=list)
    cart_changed: bool = False
    handed_off: bool = False

    def _handlers(self) -> dict[str, Handler]:
        return {
            "search_products": self._search_products,
            "get_product": self._get_product,
            "add_to_cart": self._add_to_cart,
            "view_cart": self._view_cart,
            "get_order_status": self._get_order_status,
            "answer_faq": self._answer_faq,
            "handoff_to_human": self._handoff_to_human,
        }

    async def call(self, name: str, raw_arguments: str) -> ToolResult:
        """Run tool `name` with the JSON the model wrote; errors become the result."""
        spec = next((spec for spec in CUSTOMER_TOOLS if spec.name == name), None)
        if spec is None:
            names = ", ".join(spec.name for spec in CUSTOMER_TOOLS)
            return self._result(name, {"error": f"unknown tool {name!r}; tools: {names}"})
        try:
            arguments = spec.arguments.model_validate_json(raw_arguments or "{}")
        except ValidationError as invalid:
            return self._result(name, {"error": f"invalid arguments: {_problems(invalid)}"})
        try:
            found = await self._handlers()[name](arguments)
        except ToolError as refused:
            return self._result(name, {"error": str(refused)})
        return self._result(name, found)

    def _result(self, name: str, content: dict[str, Any]) -> ToolResult:
        text = json.dumps(content, ensure_ascii=False)
        self.returned.append(text)
        return ToolResult(name, text, error="error" in content)

    def _shown(self, *products: Product) -> None:
        for product in products:
            self.products.setdefault(product.id, product)

    async def _product(self, sku: str) -> Product:
        product = await CatalogService(self.session, self.asker.shop_id).product_by_sku(sku)
        if product is None:
            raise ToolError(f"no product with SKU {sku!r}")
        return product

    async def _search_products(self, arguments: SearchProducts) -> dict[str, Any]:
        written = parse_search(arguments.query)
        query = SearchQuery(
            text=written.text or arguments.query,
            min_price=written.min_price,
            max_price=arguments.max_price or written.max_price,
            in_stock=arguments.in_stock or written.in_stock,
        )
        search = SearchService(self.session, self.embedder, self.asker.shop_id)
        found = await search.search(query, limit=self.search_results)
        self._shown(*found)
        return {"products": [_brief(product, self.asker.language) for product in found]}

    async def _get_product(self, arguments: GetProduct) -> dict[str, Any]:
        product = await self._product(arguments.sku)
        self._shown(product)
        language = self.asker.language
        description = localized(product, "description", language)
        return _brief(product, language) | {
            "brand": product.brand,
            "description": description[:_DESCRIPTION_CHARS],
            "attributes": product.attributes,
        }

    async def _add_to_cart(self, arguments: AddToCart) -> dict[str, Any]:
        product = await self._product(arguments.sku)
        cart = CartService(
            self.session, shop_id=self.asker.shop_id, customer_id=self.asker.customer_id
        )
        try:
            await cart.add(product.id, arguments.qty)
        except NotEnoughStock as short:
            raise ToolError(f"only {short.available} in stock") from None
        except NotFoundError:
            raise ToolError(f"no product with SKU {arguments.sku!r}") from None
        self.cart_changed = True
        self._shown(product)
        return {"added": arguments.qty, "cart": _cart(await cart.view(), self.asker.language)}

    async def _view_cart(self, arguments: NoArguments) -> dict[str, Any]:
        cart = CartService(
            self.session, shop_id=self.asker.shop_id, customer_id=self.asker.customer_id
        )
        return _cart(await cart.view(), self.asker.language)

    async def _get_order_status(self, arguments: GetOrderStatus) -> dict[str, Any]:
        number = arguments.order_number.lstrip("#№ ")
        orders = OrderService(self.session, self.asker.shop_id)
        order = await orders.of_customer_by_number(self.asker.customer_id, number)
        if order is None:  # the same answer whether it is another's or nobody's
            raise ToolError(f"the customer has no order {number}")
        items = await orders.items(order.id)
        return {
            "number": order.number,
            "status": order.status.value,
            "placed": order.created_at.date().isoformat(),
            "total": _price(order.total),
            "currency": order.currency,
            "items": [{"title": item.title, "quantity": item.quantity} for item in items],
        }

    async def _answer_faq(self, arguments: AnswerFaq) -> dict[str, Any]:
        found = await self.faq.answer(self.asker.shop_id, arguments.question, self.asker.language)
        if found is None:
            raise ToolError("the shop's FAQ has no answer to this question")
        return {"question": found.question, "answer": found.answer}

    async def _handoff_to_human(self, arguments: HandoffToHuman) -> dict[str, Any]:
        result = await self.takeover.request_human(
            shop_id=self.asker.shop_id, customer_id=self.asker.customer_id, reason=arguments.reason
        )
        self.handed_off = True
        return {
            "handed_off": True,
            "already_waiting": not result.started,
            "staff_notified": result.staff_notified > 0 or not result.started,
        }


def _problems(invalid: ValidationError) -> str:
    """Which arguments are wrong and why (not their values: they could be anything)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'arguments'}: {problem['msg']}"
        for problem in invalid.errors(include_input=False, include_url=False)
    )
