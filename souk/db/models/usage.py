"""What the LLM provider was asked for, per shop and day: tokens in and out.

One row per (shop, UTC day), incremented by an upsert after every assistant turn, so the
operator can see (and bill, or cap) what each shop's assistant costs.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, text
from sqlalchemy.orm import Mapped, mapped_column

from souk.db.models.base import Base


class LlmUsage(Base):
    """Requests and tokens one shop's assistant used on one day (UTC)."""

    __tablename__ = "llm_usage"

    shop_id: Mapped[int] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    completion_tokens: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
