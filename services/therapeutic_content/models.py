"""Tables of the therapeutic_content schema: the skills library, loaded from the
versioned file in content/ (library.py), one row per skill and locale."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Computed, Index, Integer, SmallInteger, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, REGCONFIG, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from services.kit.columns import timestamp
from services.kit.db import declarative_base

SCHEMA = "therapeutic_content"


Base = declarative_base(SCHEMA, references_users=False)


class Library(Base):
    """Which version of the content file each locale holds, and what the file says
    about medications and conditions its cautions concern."""

    __tablename__ = "library"

    locale: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    modules: Mapped[list] = mapped_column(JSONB, nullable=False)
    medication_classes: Mapped[dict] = mapped_column(JSONB, nullable=False)
    conditions: Mapped[list] = mapped_column(JSONB, nullable=False)
    loaded_at: Mapped[datetime] = timestamp()


class Skill(Base):
    __tablename__ = "skills"

    skill_id: Mapped[str] = mapped_column(Text, primary_key=True)
    locale: Mapped[str] = mapped_column(Text, primary_key=True)
    module: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    steps: Mapped[list] = mapped_column(JSONB, nullable=False)
    states: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    situations: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    cautions: Mapped[list] = mapped_column(JSONB, nullable=False)
    # What full-text search reads: name, summary and steps, in the locale's language.
    search_text: Mapped[str] = mapped_column(Text, nullable=False)
    search_config: Mapped[str] = mapped_column(REGCONFIG, nullable=False)
    search: Mapped[str] = mapped_column(
        TSVECTOR, Computed("to_tsvector(search_config, search_text)", persisted=True))

    __table_args__ = (
        Index("skills_search", "search", postgresql_using="gin"),
        Index("skills_states", "states", postgresql_using="gin"),
        Index("skills_situations", "situations", postgresql_using="gin"),
    )
