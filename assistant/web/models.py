"""Request models of the HTTP API: strict, so that wrong types, unknown filters and hostile sizes are a 4xx, not a
guess or a 500.

Limits: a question 2,000 characters (checked by the service, 400 `question_too_long`), history at most 10 turns
and 8,000 characters in all, k at most 50. Text must be valid Unicode (a lone surrogate is a 422), dates real
dates, document ids well-formed.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

from assistant.types import Filters

MAX_HISTORY_TURNS = 10
MAX_HISTORY_CHARS = 8000
MAX_K = 50
DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def valid_text(value: str) -> str:
    """Text that can be encoded: JSON's \\ud800 escapes decode to lone surrogates, which are not characters."""
    if _SURROGATE.search(value):
        raise ValueError("invalid Unicode (a lone surrogate)")
    if "\x00" in value:
        raise ValueError("a NUL character")
    return value


def real_date(value: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"no such date: {value}") from None
    return value


def document_id(value: str) -> str:
    if not DOC_ID.match(value):
        raise ValueError("not a document id")
    return value


Text = Annotated[StrictStr, AfterValidator(valid_text)]
Date = Annotated[StrictStr, Field(pattern=r"^\d{4}-\d{2}-\d{2}$"), AfterValidator(real_date)]
DocumentId = Annotated[StrictStr, AfterValidator(document_id)]
Group = Annotated[StrictStr, Field(pattern=r"^[\w.@/+-]{1,100}$")]


class FiltersModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year_from: StrictInt | None = Field(None, ge=1900, le=2100)
    year_to: StrictInt | None = Field(None, ge=1900, le=2100)
    date_from: Date | None = None
    date_to: Date | None = None
    body: Annotated[Text, Field(max_length=200)] | None = None
    doc_type: Annotated[Text, Field(max_length=50)] | None = None
    case_number: Annotated[Text, Field(max_length=100)] | None = None
    paragraph: Annotated[Text, Field(max_length=20)] | None = None
    document: DocumentId | None = None
    access_groups: list[Group] = Field(default_factory=list, max_length=20)
    """Narrow to some of the groups one may see; it never widens what a user sees."""

    @model_validator(mode="after")
    def _ranges(self) -> FiltersModel:
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            raise ValueError("year_from is after year_to")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        return self

    def to_filters(self) -> Filters:
        data = self.model_dump()
        data["access_groups"] = tuple(data["access_groups"])
        return Filters(**data)


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: Text
    k: StrictInt = Field(10, ge=1, le=MAX_K)
    filters: FiltersModel | None = None


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: Annotated[Text, Field(max_length=MAX_HISTORY_CHARS)]


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Text
    history: list[Turn] = Field(default_factory=list, max_length=MAX_HISTORY_TURNS)
    filters: FiltersModel | None = None

    @model_validator(mode="after")
    def _history_size(self) -> AskRequest:
        total = sum(len(t.content) for t in self.history)
        if total > MAX_HISTORY_CHARS:
            raise ValueError(f"history holds {total} characters; at most {MAX_HISTORY_CHARS}")
        return self
