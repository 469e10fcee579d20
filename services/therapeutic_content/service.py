"""Therapeutic content: the DBT skills library (read-only). The gateway and other
services (the diary, the safety plan, the assistant) ask it over RPC."""

import logging

from nameko.extensions import DependencyProvider

from services.kit.db import database_of, session_scope
from services.kit.rpc import rpc
from services.kit.service import DomainService
from services.therapeutic_content import library

log = logging.getLogger(__name__)


class ContentLoader(DependencyProvider):
    """At start-up, loads each content file the database holds an older version of."""

    def setup(self):
        self.database = database_of(self.container, "ContentLoader")

    def start(self):
        # Before any worker runs: start-up work, in a transaction of its own.
        for path in library.content_files():
            with session_scope(self.database) as db:
                if library.load(db, path):
                    log.info("skills library %s loaded", path.name)


class TherapeuticContentService(DomainService):
    name = "therapeutic_content"
    loader = ContentLoader()

    @rpc
    def list_skills(self, query: dict) -> list:
        return library.list_skills(self.db, query)

    @rpc
    def get_skill(self, skill_id: str, locale: str | None = None) -> dict:
        return library.get_skill(self.db, skill_id, locale)

    @rpc
    def modules(self, locale: str | None = None) -> list:
        return library.modules(self.db, locale)

    @rpc
    def known_skills(self, skill_ids: list) -> list:
        """Those of ``skill_ids`` that are in the library."""
        return library.known_skills(self.db, skill_ids)

    @rpc
    def suggest(self, request: dict) -> list:
        """Skills fitting ``states``/``situations`` and safe with ``medications``."""
        return library.suggest(self.db, request)
