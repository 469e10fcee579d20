"""The shape every service shares, checked so a new one cannot drift from it:
the registry is the one list, the kit is runtime-only, the gateway talks to
services only through the kit, and each service's models are what its
migrations made."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine

from gateway.clients import ServiceClients
from services import registry
from services.kit import config
from services.kit.events import outbox_table, processed_events_table
from services.kit.rpc import RpcClient
from services.kit.service import DomainService

ROOT = Path(__file__).resolve().parents[2]
KIT_TABLES = ("outbox", "processed_events")


def imports_of(tree: Path) -> set[tuple[str, str]]:
    found = set()
    for path in tree.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {(str(path.relative_to(ROOT)), alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(ROOT)), node.module))
    return found


def test_the_kit_is_runtime_code_only():
    offending = {(path, module) for path, module in imports_of(ROOT / "services" / "kit")
                 if module.startswith(("services.", "tests", "gateway"))
                 and not module.startswith("services.kit")}
    assert offending == set()


def test_the_gateway_imports_only_the_kit_and_itself():
    offending = {(path, module) for path, module in imports_of(ROOT / "gateway")
                 if module.startswith("services") and not module.startswith("services.kit")}
    assert offending == set()


def test_the_gateway_calls_only_registered_services():
    targets = {value.target_service for value in vars(ServiceClients).values()
               if isinstance(value, RpcClient)}
    assert targets and targets <= set(registry.SERVICES)


@pytest.mark.parametrize("name", registry.SERVICES)
def test_every_service_has_the_domain_shape(name):
    cls = registry.SERVICES[name].service_class()
    assert issubclass(cls, DomainService) and cls.name == name
    assert name == importlib.import_module(f"services.{name}.models").SCHEMA


def _drift(metadata: MetaData, schema: str, keep) -> list:
    engine = create_engine(config.kit().database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "include_schemas": True, "compare_type": True,
                "include_name": lambda name, kind, parent: kind != "schema" or name == schema,
                "include_object": lambda obj, name, kind, reflected, compare_to: _ours(
                    obj if kind == "table" else getattr(obj, "table", None), schema, keep),
            })
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def _ours(table, schema: str, keep) -> bool:
    """Only the service's own tables (not user_management.users, declared for foreign keys)."""
    return table is None or (table.schema == schema and keep(table.name))


@pytest.mark.parametrize("name", registry.SERVICES)
def test_models_match_the_migrated_database(migrated_database, name):
    models = importlib.import_module(f"services.{name}.models")
    assert _drift(models.Base.metadata, name, lambda table: table not in KIT_TABLES) == []
    kit = MetaData(schema=name)
    outbox_table(kit)
    processed_events_table(kit)
    assert _drift(kit, name, lambda table: table in KIT_TABLES) == []
