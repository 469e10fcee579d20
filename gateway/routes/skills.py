"""The DBT skills library (read-only, cacheable: revalidate with If-None-Match)."""

from gateway.clients import ServiceClients
from gateway.http import route
from gateway.schemas import skills as s


class SkillRoutes(ServiceClients):
    @route("GET", "/api/v1/skills", query=s.SkillQuery, response=s.Skill(many=True),
           tags=["skills"], etag=True)
    def list_skills(self, call):
        """Skills by module, state or situation; `q` searches their text."""
        return self.content.list_skills(call.query)

    @route("GET", "/api/v1/skills/modules", query=s.LocaleQuery, response=s.Module(many=True),
           tags=["skills"], etag=True)
    def skill_modules(self, call):
        """The four DBT modules, with how many skills each has."""
        return self.content.modules(call.query["locale"])

    @route("GET", "/api/v1/skills/<skill_id>", query=s.LocaleQuery, response=s.Skill,
           tags=["skills"], etag=True, path_schemas={"skill_id": s.SKILL_ID_PARAMETER})
    def get_skill(self, call, skill_id):
        return self.content.get_skill(skill_id, call.query["locale"])
