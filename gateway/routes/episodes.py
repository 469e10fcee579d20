"""Episodes, their candidates and crisis interventions, and the safety plan."""

from gateway.clients import ServiceClients
from gateway.http import route
from gateway.schemas import episodes as s

CANDIDATE = {"candidate_id": s.CANDIDATE_PARAMETER}
MAX_VERSION = 1_000_000
VERSION = {"version": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION}}


class EpisodeRoutes(ServiceClients):
    @route("GET", "/api/v1/episodes", response=s.Episode(many=True), tags=["episodes"])
    def list_episodes(self, call):
        """Newest first."""
        return self.episodes.list_episodes(call.user_id)

    @route("POST", "/api/v1/episodes", body=s.EpisodeCreate, response=s.Episode, status=201,
           tags=["episodes"], errors=[409, 422])
    def create_episode(self, call):
        """Record an episode; two of one kind may not overlap."""
        return self.episodes.create_episode(call.user_id, call.body)

    @route("GET", "/api/v1/episodes/<episode_id>", response=s.Episode, tags=["episodes"])
    def get_episode(self, call, episode_id):
        return self.episodes.get_episode(call.user_id, episode_id)

    @route("PATCH", "/api/v1/episodes/<episode_id>", body=s.EpisodeUpdate, response=s.Episode,
           tags=["episodes"], errors=[409, 422])
    def update_episode(self, call, episode_id):
        return self.episodes.update_episode(call.user_id, episode_id, call.body)

    @route("POST", "/api/v1/episodes/<episode_id>/close", body=s.EpisodeClose,
           response=s.Episode, tags=["episodes"], errors=[409, 422])
    def close_episode(self, call, episode_id):
        """The episode is over: set its last day."""
        return self.episodes.update_episode(call.user_id, episode_id, call.body)

    @route("DELETE", "/api/v1/episodes/<episode_id>", status=204, tags=["episodes"])
    def delete_episode(self, call, episode_id):
        self.episodes.delete_episode(call.user_id, episode_id)

    # --- candidates: suggestions from the daily baselines, never a diagnosis ------------
    @route("GET", "/api/v1/episodes/candidates", response=s.Candidate(many=True),
           tags=["episodes"])
    def episode_candidates(self, call):
        """Runs of days that meet an episode's usual duration: yours to confirm or dismiss."""
        return self.episodes.candidates(call.user_id)

    @route("POST", "/api/v1/episodes/candidates/<candidate_id>/confirm",
           response=s.CandidateDecision, tags=["episodes"], errors=[409, 422],
           path_schemas=CANDIDATE)
    def confirm_candidate(self, call, candidate_id):
        """It was an episode: it is recorded."""
        return self.episodes.decide_candidate(call.user_id, candidate_id, "confirm")

    @route("POST", "/api/v1/episodes/candidates/<candidate_id>/dismiss",
           response=s.CandidateDecision, tags=["episodes"], path_schemas=CANDIDATE)
    def dismiss_candidate(self, call, candidate_id):
        """It was not: it is not proposed again."""
        return self.episodes.decide_candidate(call.user_id, candidate_id, "dismiss")

    # --- interventions ------------------------------------------------------------------
    @route("GET", "/api/v1/episodes/<episode_id>/interventions",
           response=s.Intervention(many=True), tags=["episodes"])
    def list_interventions(self, call, episode_id):
        """What was done, newest first; alerts sent are recorded on their own."""
        return self.episodes.list_interventions(call.user_id, episode_id)

    @route("POST", "/api/v1/episodes/<episode_id>/interventions", body=s.InterventionFields,
           response=s.Intervention, status=201, tags=["episodes"], errors=[422])
    def add_intervention(self, call, episode_id):
        return self.episodes.add_intervention(call.user_id, episode_id, call.body)

    # --- the safety plan ------------------------------------------------------------------
    @route("GET", "/api/v1/safety-plan", response=s.SafetyPlan, tags=["safety plan"],
           errors=[404])
    def get_safety_plan(self, call):
        """Your current safety plan, with your country's crisis line."""
        return self.episodes.safety_plan(call.user_id)

    @route("PUT", "/api/v1/safety-plan", body=s.SafetyPlanSteps, response=s.SafetyPlan,
           tags=["safety plan"], errors=[422])
    def save_safety_plan(self, call):
        """Save the plan as a new version (earlier versions stay readable)."""
        return self.episodes.save_safety_plan(call.user_id, call.body)

    @route("GET", "/api/v1/safety-plan/versions", response=s.SafetyPlanVersion(many=True),
           tags=["safety plan"])
    def safety_plan_versions(self, call):
        return self.episodes.safety_plan_versions(call.user_id)

    @route("GET", f"/api/v1/safety-plan/versions/<int(min=1, max={MAX_VERSION}):version>", response=s.SafetyPlan,
           tags=["safety plan"], path_schemas=VERSION)
    def safety_plan_version(self, call, version):
        return self.episodes.safety_plan_version(call.user_id, version)
