"""Request models of the HTTP API: strict, so that wrong types and unknown filters are a 4xx, not a guess."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from assistant.types import Filters


class FiltersModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year_from: StrictInt | None = Field(None, ge=1900, le=2100)
    year_to: StrictInt | None = Field(None, ge=1900, le=2100)
    date_from: StrictStr | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    date_to: StrictStr | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    body: StrictStr | None = None
    doc_type: StrictStr | None = None
    case_number: StrictStr | None = None
    paragraph: StrictStr | None = None
    document: StrictStr | None = None
    access_groups: list[StrictStr] = Field(default_factory=list)

    def to_filters(self) -> Filters:
        data = self.model_dump()
        data["access_groups"] = tuple(data["access_groups"])
        return Filters(**data)


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: StrictStr
    k: StrictInt = Field(10, ge=1, le=100)
    filters: FiltersModel | None = None


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: StrictStr = Field(max_length=20_000)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: StrictStr
    history: list[Turn] = Field(default_factory=list, max_length=50)
    filters: FiltersModel | None = None
