"""The specialized trackers (one set of routes per kind, one way for all) and the
questionnaires."""

from gateway.clients import ServiceClients
from gateway.http import route
from gateway.schemas import trackers as s
from gateway.schemas.common import DayRange, day_range

TAGS = ["trackers"]
INSTRUMENTS = ", ".join(s.INSTRUMENT_PARAMETER["enum"])


class TrackerRoutes(ServiceClients):
    # --- abandonment ---
    @route("POST", "/api/v1/trackers/abandonment", body=s.AbandonmentCreate, response=s.Abandonment, status=201,
           tags=TAGS, errors=[422])
    def create_abandonment(self, call):
        """Record an abandonment episode: trigger, urges, what was done."""
        return self.trackers.create_record("abandonment", call.user_id, call.body)

    @route("GET", "/api/v1/trackers/abandonment", query=DayRange, response=s.Abandonment(many=True), tags=TAGS,
           errors=[422])
    def list_abandonment(self, call):
        return self.trackers.list_records("abandonment", call.user_id, day_range(call.query))

    @route("GET", "/api/v1/trackers/abandonment/<record_id>", response=s.Abandonment, tags=TAGS)
    def get_abandonment(self, call, record_id):
        return self.trackers.get_record("abandonment", call.user_id, record_id)

    @route("PATCH", "/api/v1/trackers/abandonment/<record_id>", body=s.AbandonmentUpdate, response=s.Abandonment,
           tags=TAGS, errors=[422])
    def correct_abandonment(self, call, record_id):
        return self.trackers.update_record("abandonment", call.user_id, record_id, call.body)

    @route("DELETE", "/api/v1/trackers/abandonment/<record_id>", status=204, tags=TAGS)
    def delete_abandonment(self, call, record_id):
        self.trackers.delete_record("abandonment", call.user_id, record_id)

    # --- emotions ---
    @route("POST", "/api/v1/trackers/emotions", body=s.EmotionCreate, response=s.Emotion, status=201,
           tags=TAGS, errors=[422])
    def create_emotion(self, call):
        """Record an emotion's rise and fall."""
        return self.trackers.create_record("emotions", call.user_id, call.body)

    @route("GET", "/api/v1/trackers/emotions", query=DayRange, response=s.Emotion(many=True), tags=TAGS,
           errors=[422])
    def list_emotion(self, call):
        return self.trackers.list_records("emotions", call.user_id, day_range(call.query))

    @route("GET", "/api/v1/trackers/emotions/<record_id>", response=s.Emotion, tags=TAGS)
    def get_emotion(self, call, record_id):
        return self.trackers.get_record("emotions", call.user_id, record_id)

    @route("PATCH", "/api/v1/trackers/emotions/<record_id>", body=s.EmotionUpdate, response=s.Emotion,
           tags=TAGS, errors=[422])
    def correct_emotion(self, call, record_id):
        return self.trackers.update_record("emotions", call.user_id, record_id, call.body)

    @route("DELETE", "/api/v1/trackers/emotions/<record_id>", status=204, tags=TAGS)
    def delete_emotion(self, call, record_id):
        self.trackers.delete_record("emotions", call.user_id, record_id)

    # --- cycle ---
    @route("POST", "/api/v1/trackers/cycle", body=s.CycleCreate, response=s.CycleDay, status=201,
           tags=TAGS, errors=[422, 409])
    def create_cycle(self, call):
        """Record a day of the menstrual cycle (flow, DRSP)."""
        return self.trackers.create_record("cycle", call.user_id, call.body)

    @route("GET", "/api/v1/trackers/cycle", query=DayRange, response=s.CycleDay(many=True), tags=TAGS,
           errors=[422])
    def list_cycle(self, call):
        return self.trackers.list_records("cycle", call.user_id, day_range(call.query))

    @route("GET", "/api/v1/trackers/cycle/<record_id>", response=s.CycleDay, tags=TAGS)
    def get_cycle(self, call, record_id):
        return self.trackers.get_record("cycle", call.user_id, record_id)

    @route("PATCH", "/api/v1/trackers/cycle/<record_id>", body=s.CycleUpdate, response=s.CycleDay,
           tags=TAGS, errors=[422, 409])
    def correct_cycle(self, call, record_id):
        return self.trackers.update_record("cycle", call.user_id, record_id, call.body)

    @route("DELETE", "/api/v1/trackers/cycle/<record_id>", status=204, tags=TAGS)
    def delete_cycle(self, call, record_id):
        self.trackers.delete_record("cycle", call.user_id, record_id)

    # --- routine ---
    @route("POST", "/api/v1/trackers/routine", body=s.RoutineCreate, response=s.RoutineDay, status=201,
           tags=TAGS, errors=[422, 409])
    def create_routine(self, call):
        """Record a day's routine anchor times (SRM-5)."""
        return self.trackers.create_record("routine", call.user_id, call.body)

    @route("GET", "/api/v1/trackers/routine", query=DayRange, response=s.RoutineDay(many=True), tags=TAGS,
           errors=[422])
    def list_routine(self, call):
        return self.trackers.list_records("routine", call.user_id, day_range(call.query))

    @route("GET", "/api/v1/trackers/routine/<record_id>", response=s.RoutineDay, tags=TAGS)
    def get_routine(self, call, record_id):
        return self.trackers.get_record("routine", call.user_id, record_id)

    @route("PATCH", "/api/v1/trackers/routine/<record_id>", body=s.RoutineUpdate, response=s.RoutineDay,
           tags=TAGS, errors=[422, 409])
    def correct_routine(self, call, record_id):
        return self.trackers.update_record("routine", call.user_id, record_id, call.body)

    @route("DELETE", "/api/v1/trackers/routine/<record_id>", status=204, tags=TAGS)
    def delete_routine(self, call, record_id):
        self.trackers.delete_record("routine", call.user_id, record_id)

    # --- what the records show ---
    @route("GET", "/api/v1/trackers/emotions/curve", query=s.CurveQuery, response=s.Curve,
           tags=TAGS, errors=[422])
    def emotion_curve(self, call):
        """One emotion's rises and falls, and the median time back to baseline."""
        return self.trackers.emotion_curve(call.user_id, call.query["emotion"], day_range(call.query))

    @route("GET", "/api/v1/trackers/cycle/mood", query=DayRange, response=s.CycleMood, tags=TAGS,
           errors=[422])
    def cycle_mood(self, call):
        """Mood and DRSP before and after each period (a pattern to discuss, never a diagnosis)."""
        return self.trackers.cycle_mood(call.user_id, day_range(call.query))

    @route("GET", "/api/v1/trackers/routine/regularity", query=s.WeekQuery, response=s.Regularity,
           tags=TAGS, errors=[422])
    def routine_regularity(self, call):
        """The week's Social Rhythm Metric (SRM-5), with how it was worked out."""
        return self.trackers.routine_regularity(call.user_id, call.query["start"].isoformat())

    # --- questionnaires ---
    @route("GET", "/api/v1/questionnaires", response=s.Instrument(many=True),
           tags=["questionnaires"], etag=True)
    def instruments(self, call):
        """PHQ-9, GAD-7 and ASRM: items (in our words), answer scale, bands."""
        return self.trackers.instruments()

    @route("POST", f"/api/v1/questionnaires/<any({INSTRUMENTS}):instrument>", body=s.Answers,
           response=s.QuestionnaireResponse, status=201, tags=["questionnaires"], errors=[422],
           path_schemas={"instrument": s.INSTRUMENT_PARAMETER})
    def submit_questionnaire(self, call, instrument):
        """Answer a questionnaire: its score and band come back."""
        return self.trackers.submit_questionnaire(call.user_id, instrument, call.body["answers"])

    @route("GET", f"/api/v1/questionnaires/<any({INSTRUMENTS}):instrument>", query=DayRange,
           response=s.QuestionnaireResponse(many=True), tags=["questionnaires"], errors=[422],
           path_schemas={"instrument": s.INSTRUMENT_PARAMETER})
    def questionnaire_history(self, call, instrument):
        """Your responses to one questionnaire, newest first."""
        return self.trackers.questionnaire_history(call.user_id, instrument, day_range(call.query))
