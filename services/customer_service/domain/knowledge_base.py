"""The bot's knowledge base: intents with example phrasings and answer templates per language
(data/customer_service/knowledge_base/intents.yaml, read by adapters/knowledge_base_file.py).

An intent that needs live context (a shipment's tracking, a collection's state) has one template per
outcome of the lookup, so the answer says what happened: the owning service answered, does not know the
code, or did not answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from services.shared.errors import ConfigurationError


class ContextKind(Enum):
    NONE = "none"
    SHIPMENT = "shipment"  # tracking status from logistics
    COLLECTION = "collection"  # collection state from payments


class ContextState(Enum):
    DEFAULT = "default"  # no linked code of the kind the intent needs (or it needs none)
    LIVE = "live"
    UNKNOWN = "unknown"  # the owning service does not know the code (or it is another merchant's)
    UNAVAILABLE = "unavailable"  # the owning service did not answer


class _Fields(dict):  # type: ignore[type-arg]
    """Template fields; a placeholder the context did not fill stays visible rather than failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Intent:
    id: str
    ticket_type: str
    context: ContextKind
    hand_off: bool
    examples: Mapping[str, tuple[str, ...]]  # language -> phrasings
    answers: Mapping[str, Mapping[str, str]]  # language -> ContextState value -> template

    def answer(self, language: str, state: ContextState, fields: Mapping[str, str]) -> str:
        templates = self.answers[language]
        return templates.get(state.value, templates[ContextState.DEFAULT.value]).format_map(_Fields(fields))


@dataclass(frozen=True)
class KnowledgeBase:
    version: str
    languages: tuple[str, ...]  # the first is the default for text the bot cannot place
    intents: tuple[Intent, ...]
    fallback: Mapping[str, str]  # said when the bot hands off for want of confidence
    vocabulary: Mapping[str, Mapping[str, Mapping[str, str]]]  # kind -> key -> language -> words

    def __post_init__(self) -> None:
        problems = []
        if len({i.id for i in self.intents}) != len(self.intents):
            problems.append("intent ids repeat")
        for intent in self.intents:
            for language in self.languages:
                if not intent.examples.get(language):
                    problems.append(f"{intent.id}: no examples in {language}")
                templates = intent.answers.get(language, {})
                needed = [ContextState.DEFAULT] if intent.context is ContextKind.NONE else list(ContextState)
                problems.extend(
                    f"{intent.id}: no {s.value} answer in {language}" for s in needed if s.value not in templates
                )
        problems.extend(f"no fallback in {language}" for language in self.languages if language not in self.fallback)
        if problems:
            raise ConfigurationError("knowledge base: " + "; ".join(problems))

    def intent(self, intent_id: str) -> Intent:
        return next(i for i in self.intents if i.id == intent_id)

    def term(self, kind: str, key: str, language: str) -> str:
        """The words for a status in a language; the raw key when the vocabulary lacks it."""
        return self.vocabulary.get(kind, {}).get(key, {}).get(language, key)
