"""No PERSONAL_SENSITIVE field is stored in clear: every one is declared, per service, as an encrypted
column or as never stored (services/<name>/sensitive_fields.py), and the declarations match the tables."""

from __future__ import annotations

import importlib

import sqlalchemy as sa

from cli.keys import encrypted_columns
from gateway.descriptors import data_class, discover, walk_fields
from services.registry import SERVICE_TABLE
from services.shared.crypto.fields import EncryptedColumn, NotStored, StorageDeclaration


def sensitive_proto_fields() -> set[str]:
    """Scalar PERSONAL_SENSITIVE fields of every request and response (a message field by its own fields)."""
    found = set()
    for service in discover():
        for method in service.methods:
            for message in (method.descriptor.input_type, method.descriptor.output_type):
                for _, field in walk_fields(message):
                    if field.message_type is None and data_class(field) == "PERSONAL_SENSITIVE":
                        found.add(field.full_name)
    return found


def declarations() -> dict[str, tuple[StorageDeclaration, ...]]:
    out = {}
    for entry in SERVICE_TABLE:
        try:
            module = importlib.import_module(f"services.{entry.name}.sensitive_fields")
        except ModuleNotFoundError:
            continue
        out[entry.name] = tuple(module.SENSITIVE_STORAGE)
    return out


def declared_fields() -> set[str]:
    names: set[str] = set()
    for declared in declarations().values():
        for d in declared:
            names.update(d.proto_fields if isinstance(d, EncryptedColumn) else (d.proto_field,))
    return names


def test_every_personal_sensitive_field_is_declared_encrypted_or_not_stored() -> None:
    missing = sensitive_proto_fields() - declared_fields()
    assert not missing, f"PERSONAL_SENSITIVE fields with no storage declaration (stored in clear?): {missing}"


def test_declarations_name_real_sensitive_fields() -> None:
    assert declared_fields() <= sensitive_proto_fields()


def test_declared_columns_exist_as_text_with_their_binding_columns() -> None:
    for service, declared in declarations().items():
        for d in declared:
            if isinstance(d, NotStored):
                assert d.why, d.proto_field
                continue
            assert d.service == service
            column = d.table.c[d.column]
            assert isinstance(column.type, sa.Text | sa.String | sa.LargeBinary), d.name
            assert d.tenant is not None or d.tenant_column in d.table.c, d.name
            assert d.record_column in d.table.c, d.name
            if d.index_column:
                assert d.index_column in d.table.c, d.name
            if d.field.startswith("{"):
                assert d.field[1:-1] in d.table.c, d.name


def test_no_table_holds_a_sensitive_field_under_its_own_name() -> None:
    """A column named like a PERSONAL_SENSITIVE field (payee_name, date_of_birth, iban, ...) is a value
    stored in clear unless it is a declared encrypted column."""
    leaf_names = {name.rsplit(".", 1)[1] for name in sensitive_proto_fields()} - {"value"}
    encrypted = {d.name for columns in encrypted_columns().values() for d in columns}
    for entry in SERVICE_TABLE:
        tables = importlib.import_module(f"services.{entry.name}.bootstrap")
        metadata = _metadata(tables)
        for table in metadata.tables.values():
            for column in table.c:
                if column.name in leaf_names:
                    assert f"{table.name}.{column.name}" in encrypted, (
                        f"{entry.name} {table.name}.{column.name} holds a PERSONAL_SENSITIVE field in clear"
                    )


def _metadata(module: object) -> sa.MetaData:
    found = [v for v in vars(module).values() if isinstance(v, sa.MetaData)]
    if found:
        return found[0]
    service = module.__name__.split(".")[1]  # type: ignore[attr-defined]
    for candidate in (f"services.{service}.tables", f"services.{service}.adapters.tables"):
        try:
            tables = importlib.import_module(candidate)
        except ModuleNotFoundError:
            continue
        return tables.metadata  # type: ignore[no-any-return]
    raise AssertionError(f"no metadata found for {service}")


def test_the_payout_payee_name_is_stored_encrypted() -> None:
    from services.payments.sensitive_fields import PAYEE_NAME

    assert "payee_name" not in PAYEE_NAME.table.c
    assert PAYEE_NAME.name == "payouts.payee_name_enc"
