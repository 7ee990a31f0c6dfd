"""Errors raised by the evaluation.

EvaluationError
├── BenchmarkError          a benchmark folder is missing or malformed
├── RunFileError            a saved run (JSON) cannot be read
└── ServerError             the Arkiv server at --url failed or answered something unexpected
"""

from __future__ import annotations


class EvaluationError(Exception):
    """Base class of everything the evaluation raises on purpose."""


class BenchmarkError(EvaluationError):
    """A benchmark folder is missing or malformed; the message names the file."""


class RunFileError(EvaluationError):
    """A saved run cannot be read or is not an evaluation run."""


class ServerError(EvaluationError):
    """The server under evaluation failed a request."""
