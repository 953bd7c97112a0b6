"""The bot's knowledge base from data/customer_service/knowledge_base/*.yaml (intents merged across files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from services.customer_service.domain.knowledge_base import ContextKind, Intent, KnowledgeBase
from services.shared.errors import ConfigurationError

FOLDER = Path("customer_service") / "knowledge_base"


def load(data_dir: Path) -> KnowledgeBase:
    files = sorted((data_dir / FOLDER).glob("*.yaml"))
    if not files:
        raise ConfigurationError(f"no knowledge base under {data_dir / FOLDER}")
    documents = [yaml.safe_load(path.read_text(encoding="utf-8")) or {} for path in files]
    head = next((d for d in documents if "languages" in d), None)
    if head is None:
        raise ConfigurationError("knowledge base: no file names the languages")
    try:
        intents = tuple(_intent(raw) for d in documents for raw in d.get("intents", ()))
        return KnowledgeBase(
            version=str(head.get("version", "")),
            languages=tuple(head["languages"]),
            intents=intents,
            fallback=dict(head.get("fallback", {})),
            vocabulary=head.get("vocabulary", {}),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigurationError(f"knowledge base: {error!r}") from None


def _intent(raw: dict[str, Any]) -> Intent:
    return Intent(
        id=raw["id"],
        ticket_type=raw.get("ticket_type", "CONSULTATION"),
        context=ContextKind(raw.get("context", "none")),
        hand_off=bool(raw.get("hand_off", False)),
        examples={language: tuple(texts) for language, texts in raw["examples"].items()},
        answers={language: dict(templates) for language, templates in raw["answers"].items()},
    )
