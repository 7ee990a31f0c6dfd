"""Prompt templates: versioned YAML files under prompts/, with $variables checked before rendering.

A file `prompts/<name>.<language>.yaml` holds exactly `version`, `description`, `system` and `prompt`.
`render(**variables)` needs every $variable the two texts use and accepts no others.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from assistant.errors import MissingVariables, PromptError
from assistant.types import Hit

logger = logging.getLogger(__name__)

PROMPTS_DIR = Path(str(files("assistant") / "prompt_files"))
"""The templates shipped with Arkiv: the top-level prompts/ folder, reached through the link
assistant/prompt_files -> ../prompts, which a built wheel carries as package data (assistant/prompt_files/*.yaml)."""


class PromptTemplate(BaseModel):
    """One prompt file: a system message and a user message, both `string.Template` texts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, strict=True, description="Raised whenever the wording changes.")
    description: str = Field(min_length=1)
    system: str = Field(min_length=1)
    prompt: str = Field(min_length=1)

    _source: str = PrivateAttr(default="<memory>")

    @field_validator("system", "prompt")
    @classmethod
    def _valid_placeholders(cls, text: str) -> str:
        if not string.Template(text).is_valid():
            raise ValueError("has a '$' that is neither $name, ${name} nor $$")
        return text

    @property
    def source(self) -> str:
        """Where the template was read from."""
        return self._source

    @property
    def variables(self) -> frozenset[str]:
        """The $variables the system and user texts use."""
        return frozenset(string.Template(self.system).get_identifiers()) | frozenset(
            string.Template(self.prompt).get_identifiers()
        )

    def render(self, **variables: str) -> tuple[str, str]:
        """The (system, user) messages with every $variable filled in."""
        missing = self.variables - variables.keys()
        if missing:
            raise MissingVariables(f"{self._source}: missing {_names(missing)}")
        unknown = variables.keys() - self.variables
        if unknown:
            raise PromptError(f"{self._source}: unknown {_names(unknown)} (the template uses {_names(self.variables)})")
        system = string.Template(self.system).substitute(variables)
        user = string.Template(self.prompt).substitute(variables)
        return system.strip(), user.strip()


def load_prompt(name: str, language: str, directory: Path | None = None) -> PromptTemplate:
    """The template `<name>.<language>.yaml` from `directory` (default: the shipped prompts/)."""
    path = (directory or PROMPTS_DIR) / f"{name}.{language}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as ex:
        raise PromptError(f"{path}: no such prompt ({name!r} in language {language!r})") from ex
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as ex:
        raise PromptError(f"{path}: cannot be read: {ex}") from ex
    if not isinstance(raw, dict):
        raise PromptError(f"{path}: expected a mapping with version, description, system and prompt")
    try:
        template = PromptTemplate.model_validate(raw)
    except ValidationError as ex:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<file>'}: {e['msg']}" for e in ex.errors())
        raise PromptError(f"{path}: {problems}") from ex
    template._source = str(path)
    logger.debug("loaded prompt %s version %d", path, template.version)
    return template


def format_passages(hits: Sequence[Hit]) -> str:
    """The hits as numbered passages, [1] first, each a header line and its text.

    Header: title (and section when it differs), pages, § number, case numbers, date; missing parts left out.
    """
    return "\n\n".join(_passage(n, hit) for n, hit in enumerate(hits, start=1))


def format_units(hits: Sequence[Hit], units: Mapping[int, Sequence[str]]) -> str:
    """The answer units the selector chose, under their passage's numbered header ([n] is hits[n-1], as in
    `format_passages`); passages without a chosen unit are left out, so the model reads what answers."""
    return "\n\n".join(
        _header(i + 1, hits[i]) + "\n" + "\n".join(" ".join(t.split()) for t in texts)
        for i, texts in sorted(units.items())
        if 0 <= i < len(hits) and texts
    )


def _passage(n: int, hit: Hit) -> str:
    return f"{_header(n, hit)}\n{hit.chunk.text.strip()}"


def _header(n: int, hit: Hit) -> str:
    chunk = hit.chunk
    title = chunk.meta.title
    if chunk.section and chunk.section != title:
        title = f"{title} — {chunk.section}"
    pages = f"s. {chunk.page_start}"
    if chunk.page_end != chunk.page_start:
        pages += f"–{chunk.page_end}"
    parts = [title, pages]
    if chunk.paragraph:
        parts.append(f"§ {chunk.paragraph}")
    if chunk.case_numbers:
        parts.append(", ".join(chunk.case_numbers))
    date = chunk.date or chunk.meta.date
    if date:
        parts.append(date)
    return f"[{n}] {', '.join(parts)}"


def _names(names: frozenset[str] | set[str] | Sequence[str]) -> str:
    return ", ".join(f"${v}" for v in sorted(names))
