"""Report strings: the zh-CN catalog covers every fixed string; money follows each locale's CLDR format."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from babel.messages.pofile import read_po

from services.compliance import i18n


def test_every_fixed_report_string_has_a_chinese_translation() -> None:
    zh = i18n.gettext_for("zh-CN")
    for message in (*i18n.VERDICT_NAMES.values(), i18n.HEADING, i18n.COMPLETE, i18n.INCOMPLETE):
        assert zh(message) != message, message
    assert zh(i18n.VERDICT_NAMES["PROHIBITED"]) == "禁止"
    assert zh(i18n.HEADING) % {"country": "德国"} == "德国 合规报告"
    assert i18n.gettext_for("en")(i18n.HEADING) % {"country": "Germany"} == "Compliance report for Germany"
    assert zh(i18n.INCOMPLETE) % {"count": 2} == "不完整：2 项无法确定，详见 missing"  # noqa: RUF001


def test_the_catalog_keeps_the_placeholders_of_its_source_strings() -> None:
    with (i18n._HERE / "zh_CN.po").open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if message.id and "%(" in str(message.id):
            assert re.findall(r"%\(\w+\)s", str(message.string)) == re.findall(r"%\(\w+\)s", str(message.id))


def test_money_is_written_the_way_each_locale_writes_it() -> None:
    assert i18n.money_text(Decimal("1234.5"), "USD", "en") == "$1,234.50"
    assert i18n.money_text(Decimal("1234.5"), "USD", "zh-CN") == "US$1,234.50"
    assert i18n.money_text(Decimal("1234.5"), "CNY", "zh-CN") == "¥1,234.50"
    assert i18n.money_text(Decimal("1234"), "JPY", "en") == "¥1,234"  # no minor unit


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(i18n.UnknownLanguage, match="en, zh-CN"):
        i18n.locale_of("fr")
