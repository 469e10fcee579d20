"""The service kit: the one place for DB sessions, events, RPC, errors,
service credentials, config and logging. Every service is built from it.
"""
