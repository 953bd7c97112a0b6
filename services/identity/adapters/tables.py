"""Identity tables (schema `identity`): merchants, API keys, OAuth2 clients, ops staff and their sessions.

Secrets are stored only as hashes: argon2id for API keys, client secrets and passwords, SHA-256 for the
256-bit random session secrets; a used single sign-on ID token only as the SHA-256 of its issuer and jti."""

from __future__ import annotations

import sqlalchemy as sa

from services.shared.clock import UtcDateTime
from services.shared.idempotency import idempotency_table
from services.shared.tables import kernel_tables

metadata = sa.MetaData()
OUTBOX, PROCESSED_EVENTS, DATASET_VERSIONS = kernel_tables(metadata)
IDEMPOTENCY_KEYS = idempotency_table(metadata)

merchants = sa.Table(
    "merchants",
    metadata,
    sa.Column("merchant_code", sa.String(18), primary_key=True),
    sa.Column("legal_name", sa.Text, nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("uscc", sa.String(18), nullable=False),
    sa.Column("settlement_currency", sa.String(3), nullable=False),
    sa.Column("contacts", sa.Text, nullable=False),  # JSON list of {name, email, phone, role}
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("screening_code", sa.String(18), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(16), primary_key=True),
    sa.Column("secret_hash", sa.Text, nullable=False),
    sa.Column("merchant_code", sa.String(18), sa.ForeignKey("merchants.merchant_code"), nullable=True, index=True),
    sa.Column("scopes", sa.Text, nullable=False),  # space-separated, sorted
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=True),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
)

oauth_clients = sa.Table(
    "oauth_clients",
    metadata,
    sa.Column("client_id", sa.String(20), primary_key=True),
    sa.Column("secret_hash", sa.Text, nullable=False),
    sa.Column("merchant_code", sa.String(18), sa.ForeignKey("merchants.merchant_code"), nullable=False, index=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("scopes", sa.Text, nullable=False),  # space-separated, sorted
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
)

operators = sa.Table(
    "operators",
    metadata,
    sa.Column("login", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("totp_secret", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("disabled_at", UtcDateTime, nullable=True),
    sa.Column("last_totp_step", sa.BigInteger, nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False),
    sa.Column("locked_until", UtcDateTime, nullable=True),
    # The identity provider's identity the operator signs in with (single sign-on), each linked once.
    sa.Column("sso_email", sa.String(320), nullable=True, unique=True),
    sa.Column("sso_subject", sa.String(255), nullable=True, unique=True),
)

ops_sessions = sa.Table(
    "ops_sessions",
    metadata,
    sa.Column("session_id", sa.String(16), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("login", sa.String(64), sa.ForeignKey("operators.login"), nullable=False, index=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("second_factor_at", UtcDateTime, nullable=True),  # None: a single sign-on without MFA
    sa.Column("ended_at", UtcDateTime, nullable=True),
)

# ID tokens already used for a single sign-on, by replay key, kept until they could not be used anyway.
sso_token_uses = sa.Table(
    "sso_token_uses",
    metadata,
    sa.Column("replay_key", sa.String(64), primary_key=True),
    sa.Column("used_at", UtcDateTime, nullable=False),
    sa.Column("usable_until", UtcDateTime, nullable=False, index=True),
)

# Cross-border transfer rules (services/identity/domain/transfer_rules.py): every table is append-only.
transfer_rule_versions = sa.Table(
    "transfer_rule_versions",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("document", sa.Text, nullable=False),  # JSON {"rules": [...], "groups": [...]}
    sa.Column("published_by", sa.Text, nullable=False),
    sa.Column("published_at", UtcDateTime, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

transfer_kill_switches = sa.Table(
    "transfer_kill_switches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("target", sa.String(16), nullable=False),
    sa.Column("value", sa.String(32), nullable=False),
    sa.Column("engaged", sa.Boolean, nullable=False),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", UtcDateTime, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

legal_bases = sa.Table(
    "legal_bases",
    metadata,
    sa.Column("basis_id", sa.String(32), primary_key=True),
    sa.Column("merchant_code", sa.String(18), sa.ForeignKey("merchants.merchant_code"), nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("reference", sa.Text, nullable=False),
    sa.Column("destination", sa.String(40), nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=True),
    sa.Column("registered_by", sa.Text, nullable=False),
    sa.Column("registered_at", UtcDateTime, nullable=False),
)

partners = sa.Table(
    "partners",
    metadata,
    sa.Column("partner_code", sa.String(18), primary_key=True),
    sa.Column("legal_name", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("uscc", sa.String(18), nullable=False),
    sa.Column("contacts", sa.Text, nullable=False),  # JSON list of {name, email, phone, role}
    sa.Column("owns", sa.Text, nullable=False),  # JSON list of upper-case names
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("screening_code", sa.String(18), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

partner_certificates = sa.Table(
    "partner_certificates",
    metadata,
    sa.Column("fingerprint", sa.String(64), primary_key=True),
    sa.Column("partner_code", sa.String(18), sa.ForeignKey("partners.partner_code"), nullable=False, index=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
)

# Decisions on holds (services/identity/domain/holds.py): append-only, one row per decision.
hold_decisions = sa.Table(
    "hold_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity", sa.String(16), nullable=False),  # "merchant" or "partner"
    sa.Column("code", sa.String(18), nullable=False, index=True),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("previous_status", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("decided_by", sa.String(64), nullable=False),
    sa.Column("decided_at", UtcDateTime, nullable=False),
)
