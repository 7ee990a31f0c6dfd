"""Errors raised by the assistant.

AssistantError
├── BadRequest              the question or its filters cannot be searched (empty, too long, unknown filter)
├── LLMUnavailable          the configured chat endpoint failed or timed out (the service falls back)
├── PromptError             a prompt template is malformed
│   └── MissingVariables    a prompt was rendered without all of its $variables
└── IndexNotReady           there is no index to search yet
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class of everything the assistant raises on purpose."""


class BadRequest(AssistantError):
    """The request cannot be served as asked; the message says what to change."""

    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.code = code


class LLMUnavailable(AssistantError):
    """The chat endpoint failed, timed out or answered nonsense."""


class PromptError(AssistantError):
    """A prompt template file is malformed."""


class MissingVariables(PromptError):
    """A prompt was rendered without all of its variables."""


class IndexNotReady(AssistantError):
    """There is no index yet: run `arkiv index`."""
