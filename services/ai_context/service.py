"""AI context injection: the assistant. Its context is built from session memory,
what the user wants it to know, the frameworks they enabled and the skills that fit
(therapeutic content), with the skills that helped this user first and the steps a
caution rules out for their medications left out.

Every message passes the safety screen first: crisis language across the last
turns answers at once with the safety plan and the crisis line, offers to alert
the contacts (the escalation ladder, only on the user's yes), and reaches no
model. After every logged shift the proactive suggestion is prepared.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from dataclasses import dataclass

from services.ai_context import assistant, conversation, providers, replies, safety, suggestions
from services.kit import config
from services.kit.contracts.crisis import ASKED_FOR_HELP
from services.kit.errors import Conflict, NotFound
from services.kit.events import VIEW_PATIENCE_MS, batch_event_handler, event_handler
from services.kit.profiles import ProfileCopy
from services.kit.records import utcnow
from services.kit.rpc import RpcClient, rpc
from services.kit.service import DomainService

log = logging.getLogger(__name__)
SUGGESTED = "assistant.skill_suggested"
CRISIS_REQUESTED = "crisis.requested"
EXCHANGED = "assistant.exchanged"
# The library is versioned content: what fits a state changes only with a deploy.
FIT_CACHE_SECONDS = 600


@dataclass(frozen=True)
class AssistantSettings:
    SECTION = "ASSISTANT"
    disclose_every_hours: float
    screen_turns: int
    external_base_url: str
    external_model: str
    external_key_file: str
    external_timeout_seconds: float


def settings() -> AssistantSettings:
    return config.settings(AssistantSettings)


@functools.cache
def external_model() -> providers.External | None:
    chosen = settings()
    if not chosen.external_base_url:
        return None
    return providers.External(chosen.external_base_url, chosen.external_model,
                              chosen.external_key_file, chosen.external_timeout_seconds)


class AiContextService(ProfileCopy, DomainService):
    name = "ai_context"
    sessions = RpcClient("sessions")
    content = RpcClient("therapeutic_content")
    users = RpcClient("user_management")
    episodes = RpcClient("episode_tracking")
    notifications = RpcClient("notifications")

    _fits: dict = {}

    # --- settings and knowledge ------------------------------------------------------------
    @rpc
    def get_settings(self, user_id: str) -> dict:
        return {**assistant.settings_of(self.db, user_id), "external_offered": external_model() is not None}

    @rpc
    def save_settings(self, user_id: str, body: dict) -> dict:
        saved = assistant.save_settings(self.db, user_id, body, external_model() is not None)
        return {**saved, "external_offered": external_model() is not None}

    @rpc
    def list_knowledge(self, user_id: str) -> list:
        return assistant.knowledge.list(self.db, user_id)

    @rpc
    def get_knowledge(self, user_id: str, entry_id: str) -> dict:
        return assistant.knowledge.get(self.db, user_id, entry_id)

    @rpc
    def add_knowledge(self, user_id: str, data: dict) -> dict:
        return assistant.add_knowledge(self.db, user_id, data)

    @rpc
    def update_knowledge(self, user_id: str, entry_id: str, changes: dict) -> dict:
        return assistant.knowledge.update(self.db, user_id, entry_id, changes)

    @rpc
    def delete_knowledge(self, user_id: str, entry_id: str) -> None:
        assistant.knowledge.delete(self.db, user_id, entry_id)

    # --- the proactive suggestion -------------------------------------------------------------
    @batch_event_handler("mood_tracking", "mood.shift.logged", patience_ms=VIEW_PATIENCE_MS)
    def shifts_logged(self, events):
        suggestions.prepare(self.db, [event["data"] for event in events], self._fitting)

    def _fitting(self, state: str | None, level: int, medications: list[str],
                 prefer: list[str]) -> dict | None:
        """The first skill fitting a state (or a level, unnamed), cached by what decides it."""
        states = [state] if state else (["low"] if level <= -2 else ["elevated"] if level >= 2 else [])
        if not states:
            return None
        key = (tuple(states), tuple(sorted(medications)), tuple(prefer[:5]))
        held = self._fits.get(key)
        if held is not None and held[0] > time.monotonic():
            return held[1]
        found = self.content.suggest({"states": states, "medications": medications,
                                      "prefer": prefer[:5], "limit": 1})
        skill = found[0] if found else None
        if len(self._fits) > 5000:
            self._fits.clear()
        self._fits[key] = (time.monotonic() + FIT_CACHE_SECONDS, skill)
        return skill

    @rpc
    def suggestion(self, user_id: str) -> dict:
        if not assistant.settings_of(self.db, user_id)["enabled"]:
            raise NotFound("The assistant is off.")
        found, first = suggestions.latest(self.db, user_id)
        if found is None:
            raise NotFound("No suggestion yet: one follows the next mood shift you log.")
        if first and found["skill"]:
            self._suggested(user_id, found["skill"])
        return found

    def _suggested(self, user_id: str, skill: dict) -> None:
        self.events.dispatch(SUGGESTED, {"user_id": user_id, "skill_id": skill["skill_id"],
                                         "name": skill["name"], "suggested_at": utcnow().isoformat()},
                             subject_id=user_id)

    # --- copies of facts ------------------------------------------------------------------------
    @event_handler("user_management", "medication.saved")
    def medication_saved(self, event):
        suggestions.save_medication(self.db, event["data"])

    @event_handler("user_management", "medication.deleted")
    def medication_deleted(self, event):
        suggestions.forget_medication(self.db, event["data"]["medication_id"])

    @event_handler("dbt_diary", "dbt.card.saved")
    def card_saved(self, event):
        suggestions.record_card(self.db, event["data"])

    # --- a message ----------------------------------------------------------------------------
    @rpc
    def send_message(self, user_id: str, body: dict) -> dict:
        chosen = assistant.settings_of(self.db, user_id)
        if not chosen["enabled"]:
            raise Conflict("The assistant is off; turn it on in its settings.")
        session = self.sessions.begin_turn(user_id, body.get("session_id"), body.get("channel", "app"),
                                           settings().disclose_every_hours)
        session_id, text = session["session_id"], body["text"]
        cues = safety.cues_in(text)
        window = [*conversation.marks(self.db, session_id, settings().screen_turns), cues]
        conversation.mark(self.db, session_id, user_id, cues)
        offer = conversation.pending_offer(self.db, session_id)
        if offer is not None and (replies.YES.search(text) or replies.NO.search(text)):
            answer = self._answer_offer(user_id, offer, bool(replies.YES.search(text)))
        elif safety.is_crisis(window):
            answer = self._crisis(user_id, session_id, first=not any(safety.is_crisis([m]) for m in window[:-1]))
        else:
            answer = self._reply(user_id, session_id, text, chosen)
        reply_text = (replies.DISCLOSURE + " " if session["disclose"] else "") + answer["reply"]
        self.events.dispatch(EXCHANGED, {"user_id": user_id, "session_id": session_id, "turns": [
            {"role": "user", "text": text},
            {"role": "assistant", "text": reply_text,
             "skill_id": answer["skill"]["skill_id"] if answer.get("skill") else None}]},
            subject_id=user_id)
        if answer.get("skill"):
            self._suggested(user_id, answer["skill"])
        return {"session_id": session_id, "new_session": not session["continued"], **answer,
                "reply": reply_text, "disclosure": session["disclose"]}

    def _crisis_line(self, user_id: str) -> tuple[dict, dict | None]:
        try:
            plan = self.episodes.safety_plan(user_id)
            return plan["crisis_line"], plan
        except NotFound:
            country = self.users.get_profile(user_id).get("country")
            return self.notifications.crisis_line(country), None

    def _crisis(self, user_id: str, session_id: str, first: bool) -> dict:
        """Crisis language: the plan and the line at once; no model sees the message."""
        line, plan = self._crisis_line(user_id)
        offered = conversation.offer(self.db, session_id, user_id)
        log.info("safety screen: crisis language in a conversation; answered with the crisis line")
        return {"reply": replies.crisis_reply(first, line, plan, offered), "skill": None,
                "safety": True, "offer": "alert_contacts" if offered else None, "alerted": False,
                "crisis_line": line, "provider": "safety_screen", "note": None}

    def _answer_offer(self, user_id: str, offer, accepted: bool) -> dict:
        line, _ = self._crisis_line(user_id)
        if not accepted:
            conversation.answer(offer, None)
            return {"reply": replies.declined_reply(line), "skill": None, "safety": True, "offer": None,
                    "alerted": False, "crisis_line": line, "provider": "safety_screen", "note": None}
        crisis_id = str(uuid.uuid4())
        conversation.answer(offer, crisis_id)
        self.events.dispatch(CRISIS_REQUESTED, {
            "crisis_id": crisis_id, "user_id": user_id, "rules": [ASKED_FOR_HELP], "source": "assistant",
            "detected_at": utcnow().isoformat()}, subject_id=user_id)
        contacts = [c for c in self.users.list_contacts(user_id) if c["consent_state"] == "confirmed"]
        log.info("safety screen: the user asked for their contacts to be alerted")
        return {"reply": replies.alerting_reply(bool(contacts), line), "skill": None, "safety": True, "offer": None, "alerted": True, "crisis_id": crisis_id,
                "crisis_line": line, "provider": "safety_screen", "note": None}

    def _reply(self, user_id: str, session_id: str, text: str, chosen: dict) -> dict:
        external = external_model() if chosen["provider"] == "external" else None
        shared = set(chosen["shared"]) if external else {"mood", "diary", "medications", "episodes"}
        memory = self.sessions.current(user_id)
        medications = suggestions.medications_of(self.db, [user_id]).get(user_id, [])
        helped = suggestions.helped_of(self.db, [user_id]).get(user_id, {})
        mood_state = (memory.get("mood") or {}).get("state") if "mood" in shared else None
        states = replies.states_in(text) or ([mood_state] if mood_state else [])
        skills = self.content.suggest({
            "states": states, "situations": replies.situations_in(text), "q": text,
            "medications": medications, "prefer": list(helped)[:5] if "diary" in shared else [],
            "limit": 3}) if "dbt" in chosen["frameworks"] else []
        request = providers.Request(
            user_id=user_id, text=text, tone=chosen["tone"],
            memory=memory if external is None else {}, skills=skills,
            helped_days=helped if "diary" in shared else {},
            knowledge=assistant.knowledge.list(self.db, user_id) if external is None else [],
            dbt_enabled="dbt" in chosen["frameworks"],
            history=self.sessions.recent_turns(user_id, session_id, 6) if external else [],
            shared=self._shared_context(memory, medications, shared) if external else {},
            seed=f"{session_id}:{text}")
        reply = providers.answer(request, external)
        return {"reply": reply.text, "skill": suggestions.brief(reply.skill), "safety": False,
                "offer": None, "alerted": False, "provider": reply.provider, "note": reply.note}

    @staticmethod
    def _shared_context(memory: dict, medications: list[str], shared: set[str]) -> dict:
        """What an external model may see: only the kinds the user allowed."""
        context = {}
        if "mood" in shared and memory.get("mood"):
            mood = memory["mood"]
            context["mood"] = {"level": mood["level"], "state": mood.get("state"), "as_of": mood["as_of"]}
        if "diary" in shared and memory.get("diary"):
            context["diary_today"] = {k: memory["diary"][k] for k in ("skills_used", "skills_helped")}
        if "medications" in shared and medications:
            context["medications"] = sorted(medications)
        if "episodes" in shared and memory.get("episode"):
            context["episode"] = {k: memory["episode"].get(k) for k in ("kind", "start_day", "end_day")}
        return context
