"""Arkiv assistant: retrieve, answer with verified citations, and serve it (HTTP API, web page, Slack)."""

from assistant.errors import AssistantError, BadRequest, IndexNotReady, LLMUnavailable, MissingVariables, PromptError
from assistant.service import Assistant, build_assistant
from assistant.settings import AssistantSettings
from assistant.types import Answer, Citation, Filters, Hit

__all__ = [
    "Answer",
    "Assistant",
    "AssistantError",
    "AssistantSettings",
    "BadRequest",
    "Citation",
    "Filters",
    "Hit",
    "IndexNotReady",
    "LLMUnavailable",
    "MissingVariables",
    "PromptError",
    "build_assistant",
]
