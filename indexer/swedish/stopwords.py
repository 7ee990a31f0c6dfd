"""Swedish stop words: the one list the indexer and the assistant share."""

from __future__ import annotations

__all__ = ["SWEDISH_STOP_WORDS"]

SWEDISH_STOP_WORDS = frozenset(
    """
    och det att i en jag hon som han på den med var sig för så till är men ett om hade de av icke mig du
    henne då sin nu har inte hans honom skulle hennes där min man ej vid kunde något från ut när efter upp
    vi dem vara vad över än dig kan sina här ha mot alla under någon eller allt mycket sedan ju denna själv
    detta åt utan varit hur ingen mitt ni bli blev oss din dessa några deras blir mina samma vilken er sådan
    vår blivit dess inom mellan sådant varför varje vilka ditt vem vilket sitta sådana vart dina vars vårt
    våra ert era vilkas
    """.split()
)
"""The Snowball project's Swedish stop list (snowballstem.org, algorithms/swedish/stop.txt), 114 words;
NLTK and PostgreSQL ship the same list."""
