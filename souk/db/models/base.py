"""Declarative base, naming convention and column helpers shared by every model."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from sqlalchemy import BigInteger, DateTime, MetaData, Numeric, func
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Money is numeric(12,2) in the database and Decimal in Python, never float.
Money = Annotated[Decimal, mapped_column(Numeric(12, 2))]
BigId = Annotated[int, mapped_column(BigInteger, primary_key=True, autoincrement=True)]
CreatedAt = Annotated[
    datetime, mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
]


class Base(DeclarativeBase):
    """Root of every souk table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
