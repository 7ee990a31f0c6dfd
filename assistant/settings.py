"""Assistant settings: the indexer's, plus retrieval, the LLM endpoint, the web app and Slack."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_core import PydanticUndefined

from indexer.settings import IndexSettings


class AssistantSettings(IndexSettings):
    """Read once at an entry point (`arkiv serve`, `arkiv ask`, `create_app`) and passed down."""

    top_k: int = Field(6, ge=1, le=50, description="Passages given to the answerer.")
    search_k: int = Field(10, ge=1, le=100, description="Default number of hits for /api/search.")
    prefetch_k: int = Field(50, ge=5, le=500, description="Candidates per retriever (dense, sparse) before fusion.")
    warm_index: bool = Field(
        True,
        description="Read the embedded index's files into the page cache in the background on start, "
        "so the first searches do not wait for the disk.",
    )
    not_found_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Least calibrated probability (0..1) that what was found answers the question (the not-found "
        "gate, assistant/answerable.py); below it the answer is not_found. Unset: the threshold learned with the "
        "gate (assistant/models/selector.json).",
    )
    reranker_model: str | None = Field(
        None,
        description="Path of a sentence-transformers CrossEncoder that orders the candidates instead of the learned "
        "reranker. Unset: the learned reranker (assistant/models/reranker.json).",
    )
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible chat endpoint (vLLM, llama.cpp, Ollama, OpenAI, Azure). Unset: extractive."
    )
    llm_model: str | None = Field(None, description="Model name to ask the endpoint for.")
    llm_api_key: SecretStr | None = Field(None, description="API key for the chat endpoint.")
    llm_timeout: float = Field(30.0, gt=0, description="Seconds before the chat endpoint counts as failed.")
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Where users reach the web app; Slack links to its source view."
    )
    feedback_db: str = Field("feedback.sqlite3", description="SQLite file for feedback, under ARKIV_DATA_DIR.")
    slack_bot_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("SLACK_BOT_TOKEN", "ARKIV_SLACK_BOT_TOKEN"),
        description="Slack bot token (SLACK_BOT_TOKEN). With the signing secret it turns the Slack bot on.",
    )
    slack_signing_secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "ARKIV_SLACK_SIGNING_SECRET"),
        description="Slack signing secret (SLACK_SIGNING_SECRET), to verify requests to /slack/events.",
    )
    slack_app_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("SLACK_APP_TOKEN", "ARKIV_SLACK_APP_TOKEN"),
        description="Slack app-level token (SLACK_APP_TOKEN): set it to use Socket Mode instead of HTTP.",
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", description="Base URL of the Slack Web API (tests and staging point it at a fake)."
    )
    # -- who may see what (assistant/access.py) --
    auth: Literal["none", "proxy"] = Field(
        "none",
        description="`proxy`: trust X-Forwarded-User and X-Forwarded-Groups from the reverse proxy (oauth2-proxy); "
        "`none`: ignore them. Unidentified users see public documents only.",
    )
    tokens_file: Path | None = Field(
        None, description="TOML file of API tokens (SHA-256 hashes, with a name and groups each); see `arkiv token`."
    )
    admin_group: str = Field("arkiv-admin", description="Group whose members may export feedback.")
    slack_user_groups: dict[str, list[str]] = Field(
        default_factory=dict, description='Slack user id to access groups, as JSON: `{"U123": ["hr"]}`.'
    )
    slack_channel_groups: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Private Slack channel id to the access groups all its members may see, as JSON. "
        "Public channels only ever see public documents.",
    )
    audit_dir: str = Field(
        "audit", description="Folder under ARKIV_DATA_DIR for the audit log (who asked, what was shown)."
    )
    log_questions: bool = Field(
        False, description="Also write the questions' text to the audit log (they may hold personal data)."
    )
    retention_days: int = Field(
        90, ge=1, description="Days that feedback and audit logs are kept; older ones are deleted."
    )
    api_docs: bool = Field(False, description="Serve the OpenAPI schema and /docs.")
    workers: int = Field(
        4,
        ge=1,
        le=64,
        description="Searches and answers the web app works on at once; more requests wait their turn without "
        "holding anything (raise it when a remote LLM does the answering).",
    )


def settings_table() -> str:
    """The README's table of settings, made from the fields themselves (tests/test_docs.py keeps them in step)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in AssistantSettings.model_fields.items():
        env = f"ARKIV_{name.upper()}"
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            env = str(alias.choices[0])
        if field.default is None:
            default = ""
        elif field.default is PydanticUndefined:
            default = f"`{field.default_factory()}`" if field.default_factory else ""  # type: ignore[call-arg]
        else:
            default = f"`{field.default}`"
        rows.append(f"| `{env}` | {default} | {field.description} |")
    return "\n".join(rows)
