"""Builders for rule-library tests: pack entries as the format writes them, and the fixture packs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from services.compliance.domain.rules import Rule, rule_from_pack

FIXTURE_PACKS = Path(__file__).parent / "fixtures" / "rules"
SHIPPED_SCHEMA = Path(__file__).parents[1] / "data" / "rules" / "schema.json"


def entry(code: str = "XX-TEST-RULE", **fields: Any) -> dict[str, Any]:
    """A minimal valid pack entry; `fields` replace or add keys (requirement keys via requirement=...)."""
    base: dict[str, Any] = {
        "code": code,
        "version": 1,
        "title": {"en": f"{code} title", "zh-CN": f"{code} 标题"},
        "destinations": ["DE"],
        "severity": "CONDITION",
        "requirement": {"kind": "MARKING", "code": "CE", "text": {"en": "Mark it.", "zh-CN": "加贴标志。"}},
        "source": {"title": "Test source, Art. 1", "url": "https://example.org/source"},
        "effective_from": "2020-01-01",
        "verified": True,
    }
    base.update(copy.deepcopy(fields))
    return base


def rule(code: str = "XX-TEST-RULE", pack: str = "test-pack", **fields: Any) -> Rule:
    return rule_from_pack(entry(code, **fields), pack)


def pack_document(pack: str, *entries: dict[str, Any], jurisdiction: str = "EU") -> dict[str, Any]:
    return {"pack": pack, "title": f"{pack} title", "jurisdiction": jurisdiction, "rules": list(entries)}


def speaker_ban(code: str = "EU-TEST-BAN-SPEAKERS", label: str = "test", label_zh: str = "测试") -> dict[str, Any]:
    """A verified rule prohibiting loudspeakers (HS 8518) into DE: a change that worsens stored checks."""
    return {
        "code": code,
        "version": 1,
        "title": {"en": f"Speaker ban ({label})", "zh-CN": f"禁止扬声器 {label_zh}"},
        "destinations": ["DE"],
        "hs_scope": ["8518"],
        "severity": "PROHIBITED",
        "requirement": {"kind": "PROHIBITION", "code": "BAN", "text": {"en": "No.", "zh-CN": "不。"}},
        "source": {"title": label.capitalize(), "url": "https://example.org/ban"},
        "effective_from": "2020-01-01",
        "verified": True,
    }
