"""Session memory and conversations (sessions), and the assistant (ai_context)."""

from gateway.clients import ServiceClients
from gateway.http import route
from gateway.schemas import assistant as s


class AssistantRoutes(ServiceClients):
    # --- session memory and conversations ---------------------------------------------------
    @route("GET", "/api/v1/sessions/current", response=s.CurrentState, tags=["sessions"])
    def current_state(self, call):
        """Your current state, kept up to date from what you log."""
        return self.sessions.current(call.user_id)

    @route("GET", "/api/v1/sessions", response=s.Conversation(many=True), tags=["sessions"])
    def list_sessions(self, call):
        """Your conversations with the assistant, newest first."""
        return self.sessions.list_sessions(call.user_id)

    @route("GET", "/api/v1/sessions/<session_id>/logs", response=s.Turn(many=True), tags=["sessions"])
    def session_logs(self, call, session_id):
        """The turns kept of a conversation (for your retention)."""
        return self.sessions.session_logs(call.user_id, session_id)

    @route("DELETE", "/api/v1/sessions/<session_id>/logs", status=204, tags=["sessions"])
    def delete_session_logs(self, call, session_id):
        self.sessions.delete_session_logs(call.user_id, session_id)

    @route("GET", "/api/v1/sessions/settings", response=s.SessionSettings, tags=["sessions"])
    def get_session_settings(self, call):
        return self.sessions.get_settings(call.user_id)

    @route("PUT", "/api/v1/sessions/settings", body=s.SessionSettingsUpdate, response=s.SessionSettings,
           tags=["sessions"])
    def set_session_settings(self, call):
        return self.sessions.set_settings(call.user_id, call.body)

    # --- the assistant ---------------------------------------------------------------------------
    @route("GET", "/api/v1/assistant/settings", response=s.AssistantSettings, tags=["assistant"])
    def get_assistant_settings(self, call):
        return self.assistant.get_settings(call.user_id)

    @route("PUT", "/api/v1/assistant/settings", body=s.AssistantSettingsSave, response=s.AssistantSettings,
           tags=["assistant"], errors=[422])
    def save_assistant_settings(self, call):
        """All settings at once. What an external model may see: only the kinds in ``shared``."""
        return self.assistant.save_settings(call.user_id, call.body)

    @route("GET", "/api/v1/assistant/knowledge", response=s.Knowledge(many=True), tags=["assistant"])
    def list_knowledge(self, call):
        return self.assistant.list_knowledge(call.user_id)

    @route("POST", "/api/v1/assistant/knowledge", body=s.KnowledgeCreate, response=s.Knowledge, status=201,
           tags=["assistant"], errors=[409])
    def add_knowledge(self, call):
        """Something you want the assistant to know: a warning sign, what helps, a person you trust."""
        return self.assistant.add_knowledge(call.user_id, call.body)

    @route("GET", "/api/v1/assistant/knowledge/<entry_id>", response=s.Knowledge, tags=["assistant"])
    def get_knowledge(self, call, entry_id):
        return self.assistant.get_knowledge(call.user_id, entry_id)

    @route("PATCH", "/api/v1/assistant/knowledge/<entry_id>", body=s.KnowledgeUpdate, response=s.Knowledge,
           tags=["assistant"])
    def update_knowledge(self, call, entry_id):
        return self.assistant.update_knowledge(call.user_id, entry_id, call.body)

    @route("DELETE", "/api/v1/assistant/knowledge/<entry_id>", status=204, tags=["assistant"])
    def delete_knowledge(self, call, entry_id):
        self.assistant.delete_knowledge(call.user_id, entry_id)

    @route("POST", "/api/v1/assistant/messages", body=s.Message, response=s.Reply, tags=["assistant"],
           errors=[404, 409, 422])
    def send_message(self, call):
        """A message to the assistant. Crisis language is answered at once with your safety
        plan and crisis line and goes to no model. The assistant is software, not a person."""
        return self.assistant.send_message(call.user_id, call.body)

    @route("GET", "/api/v1/assistant/suggestion", response=s.Suggestion, tags=["assistant"], errors=[404])
    def assistant_suggestion(self, call):
        """The suggestion prepared after your latest mood shift."""
        return self.assistant.suggestion(call.user_id)
