"""The DBT diary card: one per local day; the weekly grid; how often skills helped."""

from gateway.clients import ServiceClients
from gateway.http import route
from gateway.schemas import dbt as s
from gateway.schemas.common import DATE_PARAMETER, DayRange, day_range, path_day


class DiaryRoutes(ServiceClients):
    @route("PUT", "/api/v1/dbt/cards/<date>", body=s.CardSave, response=s.Card, tags=["dbt"],
           errors=[400, 422], path_schemas={"date": DATE_PARAMETER})
    def save_card(self, call, date):
        """Create or add to the day's card: each rating keeps its peak of the day."""
        return self.diary.save_card(call.user_id, path_day(date), call.body)

    @route("GET", "/api/v1/dbt/cards/<date>", response=s.Card, tags=["dbt"], errors=[400, 422],
           path_schemas={"date": DATE_PARAMETER})
    def get_card(self, call, date):
        return self.diary.get_card(call.user_id, path_day(date))

    @route("DELETE", "/api/v1/dbt/cards/<date>", status=204, tags=["dbt"], errors=[400, 422],
           path_schemas={"date": DATE_PARAMETER})
    def delete_card(self, call, date):
        self.diary.delete_card(call.user_id, path_day(date))

    @route("GET", "/api/v1/dbt/cards", query=DayRange, response=s.Card(many=True), tags=["dbt"],
           errors=[422])
    def list_cards(self, call):
        """Cards in [from, to], oldest first."""
        return self.diary.list_cards(call.user_id, day_range(call.query))

    @route("GET", "/api/v1/dbt/week", query=s.WeekQuery, response=s.Week, tags=["dbt"],
           errors=[422])
    def diary_week(self, call):
        """The weekly card: a row per item, a column per day."""
        return self.diary.week(call.user_id, call.query["start"].isoformat())

    @route("GET", "/api/v1/dbt/skills/effectiveness", query=DayRange,
           response=s.SkillEffectiveness(many=True), tags=["dbt"], errors=[422])
    def skill_effectiveness(self, call):
        """Per skill: days used, days it helped (5, 7) and did not (3, 4, 6)."""
        return self.diary.skill_effectiveness(call.user_id, day_range(call.query))
