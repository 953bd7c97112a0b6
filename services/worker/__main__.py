"""`python -m services.worker <service>` runs a service's nameko event consumers (deploy/ runs one per consumer).

A separate process from the service's gRPC server: nameko needs eventlet's monkey patching, and a grpcio
server in a patched process hangs (docs/architecture.md). XB_BROKER_URL is required; the database settings are
the service's own (XB_DATABASE_URL, XB_DB_SCHEMA_PREFIX). At start the worker checks that the service's
@event_handler methods are exactly the subscriptions services/<service>/subscriptions.py declares, declares the
topology, and runs the nameko service until SIGTERM or SIGINT, which stop it gracefully (running handlers
finish and acknowledge, the rest stay queued).
"""

import warnings

# nameko 2 runs on eventlet, which warns that it is in maintenance mode: a known, recorded choice.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()  # before kombu, nameko, grpc or the database driver are imported

from services.worker.runner import main  # noqa: E402

raise SystemExit(main())
