"""Episode tracking: episodes (with candidates proposed from the daily mood
baselines), their crisis interventions, and the safety plan.

It reads no other schema: baselines come from mood tracking, contacts and the
country from user management, the crisis line from notifications, skill ids are
checked with therapeutic content, all over RPC.
"""

from datetime import timedelta

from services.episode_tracking import episodes, safety_plan
from services.kit.contracts.episodes import MOOD_EPISODES
from services.kit.errors import Unprocessable
from services.kit.events import event_handler
from services.kit.profiles import ProfileCopy, local_today
from services.kit.records import utcnow
from services.kit.rpc import RpcClient, rpc
from services.kit.service import DomainService

RECORDED = "episode.recorded"
CANDIDATE_DAYS = 365


class EpisodeTrackingService(ProfileCopy, DomainService):
    name = "episode_tracking"
    mood = RpcClient("mood_tracking")
    users = RpcClient("user_management")
    content = RpcClient("therapeutic_content")
    notifications = RpcClient("notifications")

    # --- episodes ------------------------------------------------------------------
    @rpc
    def list_episodes(self, user_id: str) -> list:
        return episodes.episodes.list(self.db, user_id)

    @rpc
    def get_episode(self, user_id: str, episode_id: str) -> dict:
        return episodes.episodes.get(self.db, user_id, episode_id)

    @rpc
    def create_episode(self, user_id: str, data: dict) -> dict:
        return self._recorded(user_id, episodes.create(self.db, user_id, data))

    @rpc
    def update_episode(self, user_id: str, episode_id: str, changes: dict) -> dict:
        return episodes.update(self.db, user_id, episode_id, changes)

    @rpc
    def delete_episode(self, user_id: str, episode_id: str) -> None:
        episodes.episodes.delete(self.db, user_id, episode_id)

    def _recorded(self, user_id: str, episode: dict) -> dict:
        """A confirmed mood episode counts towards rapid cycling (pattern analysis)."""
        if episode["kind"] in MOOD_EPISODES:
            self.events.dispatch(RECORDED, {
                "user_id": user_id, "episode_id": episode["episode_id"],
                "local_date": episode["start_day"], "kind": episode["kind"],
                "end_day": episode.get("end_day"), "recorded_at": utcnow().isoformat(),
                "mood_episodes_12_months": episodes.mood_episodes_within_a_year(
                    self.db, user_id, episode)}, subject_id=user_id)
        return episode

    # --- candidates ----------------------------------------------------------------
    def _candidates(self, user_id: str) -> list[dict]:
        today = local_today(self.db, user_id)
        baselines = self.mood.daily_baselines(
            user_id, {"from": today - timedelta(days=CANDIDATE_DAYS), "to": today})
        return episodes.open_candidates(self.db, user_id, baselines)

    @rpc
    def candidates(self, user_id: str) -> list:
        return self._candidates(user_id)

    @rpc
    def decide_candidate(self, user_id: str, candidate_id: str, decision: str) -> dict:
        candidate = episodes.candidate_by_id(self._candidates(user_id), candidate_id)
        episode = episodes.decide(self.db, user_id, candidate, decision)
        if episode is not None:
            self._recorded(user_id, episode)
        return {"candidate_id": candidate_id, "decision": decision, "episode": episode}

    # --- interventions ---------------------------------------------------------------
    @rpc
    def list_interventions(self, user_id: str, episode_id: str) -> list:
        return episodes.list_interventions(self.db, user_id, episode_id)

    @rpc
    def add_intervention(self, user_id: str, episode_id: str, data: dict) -> dict:
        return episodes.add_intervention(self.db, user_id, episode_id, data)

    @event_handler("pattern_analysis", "crisis.detected")
    def record_crisis_alert(self, event):
        episodes.record_alert(self.db, event["data"])

    # --- the safety plan ---------------------------------------------------------------
    @rpc
    def save_safety_plan(self, user_id: str, steps: dict) -> dict:
        self._check_references(user_id, steps)
        return self._with_crisis_line(user_id, safety_plan.save(self.db, user_id, steps))

    def _check_references(self, user_id: str, steps: dict) -> None:
        skills, contacts = safety_plan.referenced(steps)
        problems = {}
        unknown = set(skills) - set(self.content.known_skills(sorted(set(skills)))) if skills else set()
        if unknown:
            problems["internal_coping"] = [f"Not a skill of the library: {', '.join(sorted(unknown))}."]
        mine = {c["contact_id"] for c in self.users.list_contacts(user_id)} if contacts else set()
        if set(contacts) - mine:
            problems["people_to_ask"] = ["Not one of your emergency contacts."]
        if problems:
            raise Unprocessable(fields=problems)

    @rpc
    def safety_plan(self, user_id: str) -> dict:
        return self._with_crisis_line(user_id, safety_plan.latest(self.db, user_id))

    @rpc
    def safety_plan_version(self, user_id: str, version: int) -> dict:
        return self._with_crisis_line(user_id, safety_plan.version(self.db, user_id, version))

    @rpc
    def safety_plan_versions(self, user_id: str) -> list:
        return safety_plan.versions(self.db, user_id)

    def _with_crisis_line(self, user_id: str, plan: dict) -> dict:
        """Step 5 always carries the crisis line of the user's country."""
        country = self.users.get_profile(user_id).get("country")
        return {**plan, "crisis_line": self.notifications.crisis_line(country)}
