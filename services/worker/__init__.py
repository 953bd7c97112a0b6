"""Event workers: `python -m services.worker <service>` runs a service's nameko event consumers.

Empty on purpose: `python -m` imports this package before `__main__`, which must monkey-patch eventlet
before kombu, nameko, grpc or the database driver are imported.
"""
