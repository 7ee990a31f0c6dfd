"""Who is asking, and which documents they may see.

Every document carries `access_groups` (from its sidecar; `public` when unset). A request is made by a
`Principal`, and it sees a document when the two share a group. Everyone sees `public`; anyone unidentified is
`ANONYMOUS` and sees `public` only. The groups are enforced inside the Qdrant query (`Filters.visible_groups`
becomes a "match any" condition of every search, scroll and count that serves a user), never by filtering
after retrieval.

Where an identity comes from:

- The organisation's reverse proxy (oauth2-proxy convention), only with `ARKIV_AUTH=proxy`: `X-Forwarded-User`
  and `X-Forwarded-Groups` (comma-separated). Without that setting those headers are ignored, since anyone
  could send them. With it, Arkiv must be reachable through the proxy only.
- API tokens for scripts: `Authorization: Bearer <token>`, checked against the TOML file at
  `ARKIV_TOKENS_FILE`, which stores only the SHA-256 of each token::

      [[token]]
      name = "rapportskript"                     # the user the audit log names
      sha256 = "9f86d081884c7d65..."              # hash_token("<token>")
      groups = ["hr"]

  `arkiv token NAME --group hr` makes a token, prints it once and prints the entry to add.
  A bearer token that is not in the file is a 401, never a quiet fall-back to anonymous.
- Slack: users and channels map to groups by configuration (`ARKIV_SLACK_USER_GROUPS`,
  `ARKIV_SLACK_CHANNEL_GROUPS`, JSON objects from Slack id to a list of groups).

Functions (all pure except `TokenBook.lookup`, which rereads the file when it changes):

- `Principal(user: str | None, groups: frozenset[str], via: str)`: `.visible_groups -> frozenset[str]` (always
  holds "public"), `.sees(groups: Iterable[str]) -> bool`, `.is_admin(admin_group: str) -> bool`.
- `ANONYMOUS: Principal`: nobody in particular; sees public documents only.
- `parse_groups(value: str | None) -> frozenset[str]`: a comma-separated header value, invalid names dropped.
- `hash_token(token: str) -> str`: the hex SHA-256 a tokens file stores.
- `TokenBook(path: Path)`: `.lookup(token: str) -> Principal | None`.
- `principal_from_headers(headers: Mapping[str, str], settings: AssistantSettings,
  tokens: TokenBook | None = None) -> Principal`: raises `Unauthorized` for an unknown bearer token.
- `slack_principal(user_id: str | None, channel_id: str | None, channel_is_public: bool,
  settings: AssistantSettings) -> Principal`: who an answer posted in that channel is for. A public channel sees
  public documents only, whoever asks. A direct message (channel id starting with "D") or an ephemeral reply
  (channel_id None) sees the user's groups. A private channel sees the groups the user and the channel share
  (the channel's mapping states what all its members may see).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.settings import AssistantSettings

logger = logging.getLogger(__name__)

PUBLIC = "public"
MAX_GROUPS = 100
_GROUP = re.compile(r"^[\w.@/+-]{1,100}$")
_USER = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


class Unauthorized(AssistantError):
    """The request named an identity that does not hold (an unknown or malformed API token)."""


@dataclass(frozen=True)
class Principal:
    """Who a request is made for: a user (None when unidentified), their groups, and how they were identified
    ("anonymous", "proxy", "token", "slack")."""

    user: str | None
    groups: frozenset[str] = field(default_factory=frozenset)
    via: str = "anonymous"

    @property
    def visible_groups(self) -> frozenset[str]:
        """The access groups whose documents this principal may see: their own, and always `public`."""
        return frozenset(self.groups) | {PUBLIC}

    def sees(self, groups: Iterable[str]) -> bool:
        """Whether a document with these access groups is visible to this principal."""
        return not self.visible_groups.isdisjoint(groups)

    def is_admin(self, admin_group: str) -> bool:
        return bool(admin_group) and admin_group in self.groups

    def describe(self) -> str:
        """For logs: the user and how they were identified (never a token)."""
        return f"{self.user or '-'} ({self.via})"


ANONYMOUS = Principal(None, frozenset(), "anonymous")


def parse_groups(value: str | None) -> frozenset[str]:
    """Groups from a comma-separated header value; names that are not plain identifiers are dropped."""
    if not value:
        return frozenset()
    out = set()
    for raw in value.split(","):
        name = raw.strip()
        if name and _GROUP.match(name):
            out.add(name)
        elif name:
            logger.warning("ignored a malformed group name in X-Forwarded-Groups")
        if len(out) >= MAX_GROUPS:
            break
    return frozenset(out)


def hash_token(token: str) -> str:
    """The hex SHA-256 of a token: what a tokens file stores instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _TokenEntry:
    name: str
    digest: str
    groups: frozenset[str]


class TokenBook:
    """API tokens from a TOML file of hashed tokens, reread when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._entries: tuple[_TokenEntry, ...] = ()

    def _load(self) -> tuple[_TokenEntry, ...]:
        try:
            st = self.path.stat()
        except OSError:
            logger.warning("tokens file %s cannot be read; no API token is accepted", self.path)
            return ()
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if stamp == self._stamp:
                return self._entries
            entries = []
            try:
                data = tomllib.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as ex:
                logger.error("tokens file %s is malformed (%s); no API token is accepted", self.path, type(ex).__name__)
                data = {}
            for i, item in enumerate(data.get("token", []) if isinstance(data.get("token"), list) else []):
                digest = str(item.get("sha256", "")).strip().lower() if isinstance(item, dict) else ""
                if not re.fullmatch(r"[0-9a-f]{64}", digest):
                    logger.error("tokens file %s: entry %d has no valid sha256; ignored", self.path, i + 1)
                    continue
                groups = item.get("groups", [])
                names = frozenset(str(g) for g in groups if isinstance(g, str) and _GROUP.match(g))
                entries.append(_TokenEntry(str(item.get("name") or f"token-{i + 1}"), digest, names))
            self._entries, self._stamp = tuple(entries), stamp
            return self._entries

    def lookup(self, token: str) -> Principal | None:
        """The principal a token stands for, or None when it is not in the file."""
        digest = hash_token(token)
        found = None
        for entry in self._load():
            if hmac.compare_digest(entry.digest, digest):
                found = entry
        return Principal(found.name, found.groups, "token") if found else None


def principal_from_headers(
    headers: Mapping[str, str], settings: AssistantSettings, tokens: TokenBook | None = None
) -> Principal:
    """Who a web request is from: an API token first, then the proxy's headers (only with ARKIV_AUTH=proxy)."""
    auth = headers.get("authorization")
    if auth:
        scheme, _, token = auth.strip().partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer":
            found = tokens.lookup(token) if tokens is not None and token else None
            if found is None:
                raise Unauthorized("Okänd API-nyckel. / Unknown API token.")
            return found
    if settings.auth == "proxy":
        user = (headers.get("x-forwarded-user") or "").strip()
        if user and _USER.match(user):
            return Principal(user, parse_groups(headers.get("x-forwarded-groups")), "proxy")
    return ANONYMOUS


def slack_principal(
    user_id: str | None, channel_id: str | None, channel_is_public: bool, settings: AssistantSettings
) -> Principal:
    """Who an answer in a Slack channel is for (see the module docstring for the rules)."""
    user = f"slack:{user_id}" if user_id else None
    if channel_is_public or not user_id:
        return Principal(user, frozenset(), "slack")
    own = frozenset(settings.slack_user_groups.get(user_id, ()))
    if channel_id is None or channel_id.startswith("D"):
        return Principal(user, own, "slack")
    channel = frozenset(settings.slack_channel_groups.get(channel_id, ()))
    return Principal(user, own & channel, "slack")
