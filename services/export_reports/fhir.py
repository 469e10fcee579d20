"""The FHIR export: one Bundle (type collection) as ../shared/domain.md ("Interchange")
maps it, built and validated with fhir.resources' R4B models.

R4 and R4B: R4B changed the medicinal-product definition resources and added
Subscription topics and the Evidence family; Patient, Observation,
QuestionnaireResponse, MedicationStatement, RelatedPerson, Consent, Practitioner,
Flag, Communication, DocumentReference and Bundle keep R4's structure, so an R4
partner reads this Bundle as it is. (R5, fhir.resources' root package, does differ
for several of them: MedicationStatement.medication becomes a CodeableReference,
Consent loses scope and renames patient to subject, DocumentReference.context
becomes a list. That is why the R4B models are used.)

Resource ids are derived from ours (uuid5), so references hold together inside
the Bundle without showing the internal ids.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

from fhir.resources.R4B.bundle import Bundle

from services.export_reports.clinician import RULE_LABELS
from services.export_reports.gather import ReportData
from services.kit.contracts.questionnaires import INSTRUMENTS, LOINC

LOCAL = "https://sanctumtools.app/fhir"
LIFE_CHART = f"{LOCAL}/CodeSystem/life-chart"
FLAGS = f"{LOCAL}/CodeSystem/pattern-flag"
INSTRUMENT_CODES = f"{LOCAL}/CodeSystem/instrument"
LOINC_SYSTEM = "http://loinc.org"
SURVEY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                      "code": "survey", "display": "Survey"}]}
_NAMESPACE = uuid.UUID("5d0f3a52-8a6e-4c1e-9d8b-2b9b0c7e4a11")
MEDIUM = {"email": ("EMAILWRIT", "email"), "sms": ("SMSWRIT", "SMS")}


def ref_id(kind: str, internal: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{internal}"))


class _Entries:
    def __init__(self):
        self.entries: list[dict] = []

    def add(self, resource: dict) -> str:
        self.entries.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
        return f"urn:uuid:{resource['id']}"


def bundle(data: ReportData, pdf: bytes | None = None) -> Bundle:
    entries = _Entries()
    patient = entries.add(_patient(data))
    for day in data.baselines:
        entries.add(_mood_observation(day, patient))
    for name, responses in data.questionnaires.items():
        for response in responses:
            answers = entries.add(_questionnaire_response(name, response, patient))
            entries.add(_score_observation(name, response, patient, answers))
    for medication in data.medications:
        entries.add(_medication_statement(medication, data, patient))
    people = {}
    for contact in data.contacts:
        people[contact["contact_id"]] = entries.add(_related_person(contact, patient))
        entries.add(_consent(contact, patient, people[contact["contact_id"]]))
    for provider in data.providers:
        entries.add(_practitioner(provider))
    for flag in data.flags:
        entries.add(_flag(flag, patient))
    for alert in data.alerts:
        entries.add(_communication(alert, patient, people.get(alert["contact_id"])))
    if pdf is not None:
        entries.add(_document(pdf, data, patient))
    return Bundle.model_validate({
        "resourceType": "Bundle", "id": ref_id("bundle", f"{patient}:{data.generated_at.isoformat()}"),
        "type": "collection", "timestamp": data.generated_at.isoformat(), "entry": entries.entries})


def _patient(data: ReportData) -> dict:
    profile = data.profile
    telecom = [{"system": "email", "value": profile["email"]}] if profile.get("email") else []
    if profile.get("phone"):
        telecom.append({"system": "phone", "value": profile["phone"], "use": "mobile"})
    resource = {"resourceType": "Patient", "id": ref_id("patient", profile["user_id"]), "telecom": telecom,
                "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47",
                                                            "code": profile.get("locale") or "en"}]}}]}
    if profile.get("display_name"):
        resource["name"] = [{"text": profile["display_name"], "use": "usual"}]
    if profile.get("country"):
        resource["address"] = [{"country": profile["country"]}]
    return resource


def _code(system: str, code: str, display: str) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _mood_observation(day: dict, patient: str) -> dict:
    """One day of the Life Chart: no LOINC code fits the scale, so a local CodeSystem."""
    components = [
        {"code": _code(LIFE_CHART, "peak-elevation", "Peak elevation (0 to +4)"),
         "valueInteger": day["peak_elevation"]},
        {"code": _code(LIFE_CHART, "peak-depression", "Peak depression (0 to -4)"),
         "valueInteger": day["peak_depression"]},
        {"code": _code(LIFE_CHART, "irritability", "Irritability"),
         "valueCodeableConcept": {"text": day["irritability"]}},
        {"code": _code(LIFE_CHART, "anxiety", "Anxiety"), "valueCodeableConcept": {"text": day["anxiety"]}},
        {"code": _code(LIFE_CHART, "mixed", "Mixed features"), "valueBoolean": day["mixed"]},
    ]
    if day["sleep_hours"] is not None:
        components.append({"code": _code(LIFE_CHART, "sleep-hours", "Hours of sleep"), "valueQuantity": {
            "value": float(day["sleep_hours"]), "unit": "h", "system": "http://unitsofmeasure.org",
            "code": "h"}})
    return {"resourceType": "Observation", "id": ref_id("mood", f"{patient}:{day['day']}"),
            "status": "final", "category": [SURVEY],
            "code": _code(LIFE_CHART, "daily-mood", "Daily mood, NIMH Life Chart Method"),
            "subject": {"reference": patient}, "effectiveDateTime": day["day"], "component": components}


def _questionnaire_response(name: str, response: dict, patient: str) -> dict:
    items = [{"linkId": str(number), "answer": [{"valueInteger": answer}]}
             for number, answer in enumerate(response["answers"], start=1) if answer is not None]
    return {"resourceType": "QuestionnaireResponse", "id": ref_id("response", response["response_id"]),
            "status": "completed", "questionnaire": f"{LOCAL}/Questionnaire/{name}",
            "subject": {"reference": patient}, "authored": response["completed_at"], "item": items}


def _score_observation(name: str, response: dict, patient: str, answers: str) -> dict:
    spec = INSTRUMENTS[name]
    code = (_code(LOINC_SYSTEM, LOINC[name]["total"], f"{spec['name']} total score") if name in LOINC
            else _code(INSTRUMENT_CODES, f"{name}-total", f"{spec['name']} total score"))
    return {"resourceType": "Observation", "id": ref_id("score", response["response_id"]),
            "status": "final", "category": [SURVEY], "code": code, "subject": {"reference": patient},
            "effectiveDateTime": response["completed_at"], "valueInteger": round(response["score"]),
            "interpretation": [{"text": response["band"]}], "derivedFrom": [{"reference": answers}]}


def _medication_statement(medication: dict, data: ReportData, patient: str) -> dict:
    changes = [c for c in data.changes if c["medication_id"] == medication["medication_id"]]
    schedule = medication.get("schedule") or {}
    dosage = {"text": medication.get("dose") or "", "asNeededBoolean": bool(schedule.get("as_needed"))}
    if schedule.get("times"):
        dosage["timing"] = {"repeat": {"timeOfDay": [f"{t}:00" for t in schedule["times"]]}}
    resource = {"resourceType": "MedicationStatement", "id": ref_id("medication", medication["medication_id"]),
                "status": "active" if medication.get("active", True) else "stopped",
                "medicationCodeableConcept": {"text": medication["name"]},
                "subject": {"reference": patient}, "dateAsserted": medication["updated_at"],
                "dosage": [dosage]}
    if schedule.get("start_date"):
        resource["effectivePeriod"] = {"start": schedule["start_date"],
                                       **({"end": schedule["end_date"]} if schedule.get("end_date") else {})}
    if changes:
        resource["note"] = [{"text": f"{c['effective_date']}: {c['kind'].replace('_', ' ')}, "
                                     f"{c['before'].get('dose') or ''} to {c['after'].get('dose') or ''}"
                                     + (f" ({c['reason']})" if c.get("reason") else "")} for c in changes]
    return resource


def _related_person(contact: dict, patient: str) -> dict:
    telecom = [{"system": system, "value": contact[key]} for system, key in (("email", "email"),
                                                                             ("phone", "phone"))
               if contact.get(key)]
    resource = {"resourceType": "RelatedPerson", "id": ref_id("contact", contact["contact_id"]),
                "active": contact["consent_state"] == "confirmed", "patient": {"reference": patient},
                "name": [{"text": contact["name"]}], "telecom": telecom}
    if contact.get("relationship"):
        resource["relationship"] = [{"text": contact["relationship"]}]
    return resource


def _consent(contact: dict, patient: str, person: str) -> dict:
    """The user's choice to have this contact alerted in a crisis, and the contact's answer."""
    state = {"confirmed": "active", "invited": "proposed", "declined": "rejected",
             "revoked": "inactive"}.get(contact["consent_state"], "proposed")
    return {"resourceType": "Consent", "id": ref_id("consent", contact["contact_id"]), "status": state,
            "scope": _code("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy",
                           "Privacy Consent"),
            "category": [_code(LOINC_SYSTEM, "59284-0", "Patient Consent")],
            "patient": {"reference": patient}, "dateTime": contact["created_at"],
            "policyRule": {"text": "Crisis alerts to an emergency contact the person chose, who agreed"},
            "provision": {"type": "permit", "actor": [{
                "role": _code("http://terminology.hl7.org/CodeSystem/v3-RoleClass", "ECON", "emergency contact"),
                "reference": {"reference": person}}]}}


def _practitioner(provider: dict) -> dict:
    telecom = [{"system": system, "value": provider[key]} for system, key in (("email", "email"),
                                                                              ("phone", "phone"))
               if provider.get(key)]
    return {"resourceType": "Practitioner", "id": ref_id("provider", provider["provider_id"]),
            "name": [{"text": provider["name"]}], "telecom": telecom}


def _flag(flag: dict, patient: str) -> dict:
    """A pattern in the logged data (never a diagnosis)."""
    label = RULE_LABELS.get(flag["rule"], flag["rule"])
    return {"resourceType": "Flag", "id": ref_id("flag", flag["flag_id"]), "status": "active",
            "category": [{"text": "pattern in self-reported data"}],
            "code": _code(FLAGS, flag["rule"], f"Pattern: {label}"),
            "subject": {"reference": patient}, "period": {"start": flag["day"]}}


def _communication(alert: dict, patient: str, person: str | None) -> dict:
    code, display = MEDIUM.get(alert["channel"], (alert["channel"].upper(), alert["channel"]))
    resource = {"resourceType": "Communication", "id": ref_id("alert", alert["notification_id"]),
                "status": "completed" if alert["status"] == "sent" else "in-progress",
                "category": [{"text": "crisis alert to an emergency contact"}],
                "medium": [_code("http://terminology.hl7.org/CodeSystem/v3-ParticipationMode", code, display)],
                "subject": {"reference": patient}}
    if alert.get("sent_at"):
        resource["sent"] = alert["sent_at"]
    if person:
        resource["recipient"] = [{"reference": person}]
    return resource


def _document(pdf: bytes, data: ReportData, patient: str) -> dict:
    return {"resourceType": "DocumentReference", "id": ref_id("document", f"{patient}:{data.generated_at}"),
            "status": "current", "type": {"text": "SanctumTools clinician report (Life Chart and diary)"},
            "subject": {"reference": patient}, "date": data.generated_at.isoformat(),
            "context": {"period": {"start": data.first.isoformat(), "end": data.last.isoformat()}},
            "content": [{"attachment": {
                "contentType": "application/pdf", "data": base64.b64encode(pdf).decode(),
                "size": len(pdf), "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode(),  # noqa: S324 - FHIR's Attachment.hash is SHA-1
                "title": "Clinician report", "creation": data.generated_at.isoformat()}}]}


def as_json(value: Bundle) -> bytes:
    return value.model_dump_json(exclude_none=True).encode()
