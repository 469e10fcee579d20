"""DBT diary: one card per user and local day (peaks kept across saves), the weekly
grid, and how often each skill helped. Every save publishes ``dbt.card.saved``,
on which pattern analysis runs its diary crisis rules."""

from datetime import date

from services.dbt_diary import cards
from services.kit.errors import Unprocessable
from services.kit.profiles import ProfileCopy
from services.kit.rpc import RpcClient, rpc
from services.kit.service import DomainService

SAVED = "dbt.card.saved"


class DbtDiaryService(ProfileCopy, DomainService):
    name = "dbt_diary"
    content = RpcClient("therapeutic_content")

    @rpc
    def save_card(self, user_id: str, day: str, body: dict) -> dict:
        self._check_skills(body)
        card, facts = cards.save(self.db, user_id, date.fromisoformat(day), body)
        self.events.dispatch(SAVED, facts, subject_id=user_id)
        return card

    def _check_skills(self, body: dict) -> None:
        wanted = [skill["skill_id"] for skill in body.get("skills") or []]
        if not wanted:
            return
        unknown = set(wanted) - set(self.content.known_skills(sorted(set(wanted))))
        if unknown:
            raise Unprocessable(fields={"skills": [
                f"Not a skill of the library: {', '.join(sorted(unknown))}."]})

    @rpc
    def get_card(self, user_id: str, day: str) -> dict:
        return cards.card(self.db, user_id, date.fromisoformat(day))

    @rpc
    def list_cards(self, user_id: str, query: dict) -> list:
        return cards.cards(self.db, user_id, query["from"], query["to"])

    @rpc
    def delete_card(self, user_id: str, day: str) -> None:
        cards.remove(self.db, user_id, date.fromisoformat(day))

    @rpc
    def week(self, user_id: str, start: str) -> dict:
        return cards.week(self.db, user_id, date.fromisoformat(start))

    @rpc
    def skill_effectiveness(self, user_id: str, query: dict) -> list:
        return cards.effectiveness(self.db, user_id, query["from"], query["to"])
