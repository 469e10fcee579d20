"""SanctumTools backups: PostgreSQL dumps and Redis snapshots in S3, verified restores.

The command-line entry point is backup.__main__:main (`sanctum-backup`).
"""
