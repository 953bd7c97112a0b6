from alembic import context

from services.shared.migration_ops import run_env

run_env(context)
