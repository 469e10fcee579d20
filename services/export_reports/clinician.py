"""The clinician report: a PDF a user brings to an appointment.

The Life Chart first, then the diary, medications, questionnaires, crises and
the patterns flagged, each pattern labelled as a pattern in the logged data, not
a diagnosis. Every page carries the period, the generation time and its number;
no internal id appears anywhere. Greyscale throughout, so it prints as it reads.
"""

from __future__ import annotations

import io
import os
import statistics
from collections import Counter, defaultdict
from datetime import date
from xml.sax.saxutils import escape

import matplotlib
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from services.export_reports import life_chart
from services.export_reports.gather import ReportData
from services.kit.contracts import crisis
from services.kit.contracts.episodes import SEVERITY
from services.kit.contracts.questionnaires import INSTRUMENTS

PAGE = landscape(A4)
MARGIN = 14 * mm
# DejaVu Sans (shipped with matplotlib) covers Latin, Greek and Cyrillic names; Helvetica
# covers only Latin-1. CJK names would need a Noto CJK font (not yet shipped).
_FONTS = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
pdfmetrics.registerFont(TTFont("Sans", os.path.join(_FONTS, "DejaVuSans.ttf")))
pdfmetrics.registerFont(TTFont("Sans-Bold", os.path.join(_FONTS, "DejaVuSans-Bold.ttf")))
pdfmetrics.registerFontFamily("Sans", normal="Sans", bold="Sans-Bold", italic="Sans", boldItalic="Sans-Bold")

_base = getSampleStyleSheet()
STYLES = {
    "title": ParagraphStyle("title", parent=_base["Title"], fontName="Sans-Bold", fontSize=17),
    "h2": ParagraphStyle("h2", parent=_base["Heading2"], fontName="Sans-Bold", fontSize=12.5,
                         spaceBefore=8, spaceAfter=4),
    "body": ParagraphStyle("body", parent=_base["BodyText"], fontName="Sans", fontSize=9, leading=12),
    "note": ParagraphStyle("note", parent=_base["BodyText"], fontName="Sans", fontSize=8, leading=10,
                           textColor=colors.Color(0.25, 0.25, 0.25)),
    "cell": ParagraphStyle("cell", fontName="Sans", fontSize=8, leading=10),
}

RULE_LABELS = {
    crisis.SEVERE_STATE: "Mood logged at a severe level",
    crisis.DROP_24H: "A fall of several levels within 24 hours",
    crisis.USER_THRESHOLD: "Past the person's own alert level",
    crisis.RAPID_CYCLING: "Two or more polarity changes in a day (ultradian pattern)",
    crisis.DBT_SUICIDE_URGE: "Urge to suicide rated 4 or more on the diary card",
    crisis.DBT_SELF_HARM: "Self-harm acted on (diary card)",
    crisis.RAPID_CYCLING_EPISODES: "Four or more mood episodes within 12 months (rapid-cycling pattern)",
    crisis.PHQ9_SELF_HARM: "PHQ-9 item 9 above 0",
    crisis.ASKED_FOR_HELP: "Asked the assistant to alert their contacts",
}
INTERVENTION_LABELS = {
    "safety_plan_used": "Safety plan used", "crisis_line_called": "Crisis line called",
    "contact_reached": "Contact reached", "clinician_seen": "Clinician seen",
    "emergency_services": "Emergency services", "hospital_admission": "Hospital admission",
    "alert_sent": "Contacts alerted by SanctumTools",
}


def render(data: ReportData) -> tuple[bytes, int]:
    """The PDF and its number of pages."""
    buffer = io.BytesIO()
    footer, canvases = _footer(data), []
    document = SimpleDocTemplate(buffer, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN,
                                 topMargin=MARGIN, bottomMargin=MARGIN + 4 * mm,
                                 title="SanctumTools clinician report", author="SanctumTools",
                                 subject=f"{data.first.isoformat()} to {data.last.isoformat()}")
    document.build(_story(data), canvasmaker=lambda *a, **k: canvases.append(
        NumberedCanvas(footer, *a, **k)) or canvases[-1])
    return buffer.getvalue(), canvases[-1].page_count


def _footer(data: ReportData) -> str:
    return (f"SanctumTools clinician report \u00b7 {data.profile.get('display_name') or ''} \u00b7 "
            f"period {_day(data.first)} to {_day(data.last)} \u00b7 generated "
            f"{data.generated_at.strftime('%d %b %Y %H:%M UTC')}")


class NumberedCanvas(canvas.Canvas):
    """Keeps each page until the end, so every footer can say "page n of N"."""

    def __init__(self, footer: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._footer_text, self._pages = footer, []

    def showPage(self):  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = self.page_count = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont("Sans", 7.5)
            self.setFillGray(0.3)
            self.drawString(MARGIN, 8 * mm, self._footer_text)
            self.drawRightString(PAGE[0] - MARGIN, 8 * mm, f"page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


# --- the story ---------------------------------------------------------------------------

def _story(data: ReportData) -> list:
    story = [Paragraph("Clinician report: Life Chart and diary", STYLES["title"]),
             Paragraph(escape(
                 f"{data.profile.get('display_name') or 'The person'} logged what follows in "
                 f"SanctumTools between {_day(data.first)} and {_day(data.last)}. Moods are on the "
                 "NIMH Life Chart scale (0 baseline; 1 mild, 2 low moderate, 3 high moderate, "
                 "4 severe, above for elevation, below for depression). Patterns are patterns in "
                 "the logged data, to discuss; none is a diagnosis."), STYLES["body"]),
             Spacer(1, 4 * mm), _summary(data)]
    doses = life_chart.dose_spans(data.medications, data.changes, data.first, data.last)
    for first, last in life_chart.chunks(data.first, data.last):
        days = [b for b in data.baselines if first.isoformat() <= b["day"] <= last.isoformat()]
        picture = life_chart.render(first, last, days, data.episodes, doses)
        story += [PageBreak(), Paragraph(f"Life Chart, {_day(first)} to {_day(last)}", STYLES["h2"]),
                  _image(picture, PAGE[0] - 2 * MARGIN, PAGE[1] - 2 * MARGIN - 22 * mm),
                  Paragraph("Bars: the day's peak elevation (dark, above) and peak depression "
                            "(light, below). Bands: severity levels. Hatched: episodes. Square: "
                            "hospital admission. x on the baseline: mixed features. Line below: hours of sleep "
                            "(dashed at 6).",
                            STYLES["note"])]
    story.append(PageBreak())
    for section in (_episodes, _medications, _diary, _questionnaires, _crises, _patterns):
        story += section(data)
    return story


def _image(png: bytes, width: float, height: float) -> Image:
    picture = Image(io.BytesIO(png))
    scale = min(width / picture.imageWidth, height / picture.imageHeight)
    picture.drawWidth, picture.drawHeight = picture.imageWidth * scale, picture.imageHeight * scale
    return picture


def _table(header: list[str], rows: list[list], widths: list[float] | None = None) -> Table:
    cells = [[Paragraph(f"<b>{escape(h)}</b>", STYLES["cell"]) for h in header]]
    cells += [[Paragraph(escape(_text(value)), STYLES["cell"]) for value in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.85, 0.85, 0.85)),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.Color(0.5, 0.5, 0.5)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.Color(0.96, 0.96, 0.96)]),
    ]))
    return table


def _section(title: str, *parts) -> list:
    return [KeepTogether([Paragraph(escape(title), STYLES["h2"]), *parts[:1]]), *parts[1:],
            Spacer(1, 3 * mm)]


def _none(text: str) -> Paragraph:
    return Paragraph(escape(text), STYLES["body"])


# --- sections ----------------------------------------------------------------------------

def _summary(data: ReportData) -> Table:
    days = (data.last - data.first).days + 1
    up, down = Counter(), Counter()
    for b in data.baselines:
        up[b["peak_elevation"]] += b["peak_elevation"] > 0
        down[-b["peak_depression"]] += b["peak_depression"] < 0
    sleeps = [float(b["sleep_hours"]) for b in data.baselines if b["sleep_hours"] is not None]
    rows = [["Days in the period", days],
            ["Days with mood logged", len(data.baselines)],
            ["Mood entries (shifts)", sum(b["shift_count"] for b in data.baselines)],
            *[[f"Days at +{v} ({SEVERITY[v]}) at peak", up[v]] for v in SEVERITY],
            *[[f"Days at -{v} ({SEVERITY[v]}) at peak", down[v]] for v in SEVERITY],
            ["Days with mixed features", sum(b["mixed"] for b in data.baselines)],
            ["Sleep, mean hours a night", f"{statistics.fmean(sleeps):.1f}" if sleeps else "not logged"],
            ["Nights under 6 hours", sum(s < 6 for s in sleeps)],
            ["Diary cards filled", f"{len(data.cards)} of {days} days"]]
    return _table(["In the period", ""], rows, [80 * mm, 40 * mm])


def _episodes(data: ReportData) -> list:
    if not data.episodes:
        return _section("Episodes", _none("No episode recorded in the period."))
    rows = [[e["kind"].replace("_", " "), _day(e["start_day"]), _day(e["end_day"]) or "ongoing",
             _length(e), f"{e['peak_severity']} {SEVERITY[e['peak_severity']]}" if e["peak_severity"] else "",
             _yes(e["hospitalised"]), _yes(e["psychotic_features"])]
            for e in sorted(data.episodes, key=lambda e: e["start_day"])]
    return _section("Episodes", _table(
        ["Kind", "From", "To", "Days", "Peak severity", "Hospitalised", "Psychotic features"], rows))


def _medications(data: ReportData) -> list:
    names = {m["medication_id"]: m["name"] for m in data.medications}
    current = [[m["name"], m.get("dose") or "", _schedule(m.get("schedule") or {}),
                "yes" if m.get("active", True) else "stopped"] for m in data.medications]
    parts = [_table(["Medication", "Dose", "Schedule", "Active"], current) if current
             else _none("No medication on the list.")]
    if data.changes:
        parts += [Spacer(1, 2 * mm), _table(["Date", "Medication", "Change", "From", "To", "Reason"], [
            [_day(c["effective_date"]), names.get(c["medication_id"], c["before"].get("name", "")),
             c["kind"].replace("_", " "), c["before"].get("dose") or "", c["after"].get("dose") or "",
             c.get("reason") or ""] for c in sorted(data.changes, key=lambda c: c["effective_date"])])]
    parts += [Spacer(1, 2 * mm), *_adherence(data)]
    if data.side_effects:
        parts += [Spacer(1, 2 * mm), _table(["Medication", "Side effect", "Severity (0-3)", "From", "To"], [
            [names.get(s["medication_id"], ""), s.get("description") or s["effect"].replace("_", " "),
             s["severity"], _day(s["started_on"]), _day(s["ended_on"]) or "ongoing"]
            for s in data.side_effects])]
    return _section("Medications: doses, changes, adherence", *parts)


def _adherence(data: ReportData) -> list:
    totals: dict[str, Counter] = defaultdict(Counter)
    weekly: dict[str, list[float]] = defaultdict(list)
    for week in data.adherence:
        totals[week["name"]].update({k: week[k] for k in ("scheduled", "taken", "late", "skipped",
                                                          "missed", "off_prescription")})
        if week["percentage"] is not None:
            weekly[week["name"]].append(week["percentage"])
    if not totals:
        return [_none("No scheduled doses in the period.")]
    rows = []
    for name, total in sorted(totals.items()):
        due = total["scheduled"]
        share = f"{100 * (total['taken'] + total['late']) / due:.1f}%" if due else ""
        lowest = f"{min(weekly[name]):.1f}%" if weekly[name] else ""
        rows.append([name, due, total["taken"], total["late"], total["skipped"], total["missed"], share,
                     lowest, total["off_prescription"]])
    return [_table(["Adherence", "Doses due", "Taken", "Late", "Skipped", "Missed (no log)",
                    "Taken or late", "Lowest week", "Off prescription"], rows)]


def _diary(data: ReportData) -> list:
    if not data.cards:
        return _section("DBT diary card", _none("No diary card in the period."))
    urges: dict[str, list] = defaultdict(list)
    acted: Counter = Counter()
    emotions: dict[str, list] = defaultdict(list)
    for card in data.cards:
        for target, urge in (card.get("urges") or {}).items():
            urges[target].append(urge.get("rating") or 0)
            acted[target] += bool(urge.get("acted"))
        for target in card.get("targets") or []:
            urges[target["name"]].append(target.get("rating") or 0)
            acted[target["name"]] += bool(target.get("acted"))
        for emotion, rating in {**(card.get("emotions") or {}),
                                **{e["name"]: e["rating"] for e in card.get("own_emotions") or []},
                                **{f"misery, {k}": v for k, v in (card.get("misery") or {}).items()}}.items():
            emotions[emotion].append(rating)
    as_prescribed = [c["medication_as_prescribed"] for c in data.cards
                     if c.get("medication_as_prescribed") is not None]
    parts = [_table(["Urge (0-5)", "Days rated", "Mean", "Highest", "Days acted on"], [
        [t.replace("_", " "), len(v), f"{statistics.fmean(v):.1f}", max(v), acted[t]]
        for t, v in sorted(urges.items())]) if urges else _none("No urges rated.")]
    if emotions:
        parts += [Spacer(1, 2 * mm), _table(["Emotion (0-5)", "Days rated", "Mean", "Highest"], [
            [e.replace("_", " "), len(v), f"{statistics.fmean(v):.1f}", max(v)]
            for e, v in sorted(emotions.items())])]
    if as_prescribed:
        parts.append(_none(f"Medication taken as prescribed on {sum(as_prescribed)} of "
                           f"{len(as_prescribed)} days answered."))
    parts += [Spacer(1, 2 * mm), Paragraph(
        "Skill effectiveness: of the days a skill was used (ratings 3 to 7 on the 0-7 scale), how "
        "often it helped (5 or 7) and how often not (3, 4 or 6).", STYLES["note"])]
    parts.append(_table(["Skill", "Days used", "Helped", "Did not help", "Helped share"], [
        [data.skill_names.get(s["skill_id"], s["skill_id"].replace("_", " ")), s["days_used"], s["helped"],
         s["did_not_help"], f"{100 * s['helped_share']:.0f}%" if s["helped_share"] is not None else ""]
        for s in sorted(data.effectiveness, key=lambda s: (-s["days_used"], s["skill_id"]))])
        if data.effectiveness else _none("No skill used."))
    return _section(f"DBT diary card ({len(data.cards)} cards)", *parts)


def _questionnaires(data: ReportData) -> list:
    parts = []
    for name, spec in INSTRUMENTS.items():
        answered = data.questionnaires.get(name) or []
        bands = ", ".join(f"{low}+ {label}" for low, label in spec["bands"])
        if not answered:
            continue
        parts += [Paragraph(escape(f"{spec['name']} ({spec['about']}); bands: {bands}"), STYLES["body"]),
                  _table(["Date", "Score", "Band", "Prorated"], [
                      [_day(r["completed_at"]), f"{r['score']:g}", r["band"], _yes(r["prorated"])]
                      for r in sorted(answered, key=lambda r: r["completed_at"])]), Spacer(1, 2 * mm)]
    return _section("Questionnaires", *(parts or [_none("No questionnaire answered in the period.")]))


def _crises(data: ReportData) -> list:
    parts = []
    if data.crises:
        parts.append(_table(["Detected", "What raised it", "Outcome", "Acknowledged", "Contacts alerted"], [
            [_moment(c["detected_at"]), "; ".join(RULE_LABELS.get(r, r) for r in c.get("rules") or []),
             c["status"].replace("_", " ") + (f" ({c['answer'].replace('_', ' ')})" if c.get("answer") else ""),
             _moment(c["acknowledged_at"]) or "no",
             sum(1 for s in c["steps"] if s["target"] == "contact" and s["started_at"])]
            for c in sorted(data.crises, key=lambda c: c["detected_at"])]))
    if data.interventions:
        parts += [Spacer(1, 2 * mm), _table(["When", "Intervention", "By whom", "Outcome", "Episode"], [
            [_moment(i["happened_at"]), INTERVENTION_LABELS.get(i["kind"], i["kind"]), i.get("by_whom") or "",
             i.get("outcome") or "", i["episode_kind"].replace("_", " ")]
            for i in sorted(data.interventions, key=lambda i: i["happened_at"])])]
    return _section("Crisis events and interventions",
                    *(parts or [_none("No crisis event or intervention in the period.")]))


def _patterns(data: ReportData) -> list:
    by_rule: dict[str, list[str]] = defaultdict(list)
    for flag in data.flags:
        by_rule[flag["rule"]].append(flag["day"])
    for day in data.cycling_days:
        by_rule[crisis.RAPID_CYCLING].append(day["day"])
    if not by_rule:
        return _section("Patterns flagged", _none("No pattern flagged in the period."))
    rows = [[f"Pattern: {RULE_LABELS.get(rule, rule)}", len(set(days)), _day(min(days)), _day(max(days))]
            for rule, days in sorted(by_rule.items())]
    return _section("Patterns flagged", Paragraph(
        "Each line is a pattern found in the logged data, for discussion. None is a diagnosis.",
        STYLES["note"]), _table(["Pattern", "Days", "First", "Last"], rows))


# --- formatting --------------------------------------------------------------------------

def _day(value) -> str:
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return day.strftime("%d %b %Y")


def _moment(value: str | None) -> str:
    return f"{_day(value)} {value[11:16]} UTC" if value else ""


def _yes(value) -> str:
    return "yes" if value else "no"


def _text(value) -> str:
    return "" if value is None else str(value)


def _length(episode: dict) -> str:
    if not episode["end_day"]:
        return ""
    return str((date.fromisoformat(episode["end_day"]) - date.fromisoformat(episode["start_day"])).days + 1)


def _schedule(schedule: dict) -> str:
    if schedule.get("as_needed"):
        return "as needed"
    times = ", ".join(schedule.get("times") or [])
    if schedule.get("days_of_week"):
        return f"{times} on {', '.join(schedule['days_of_week'])}"
    if schedule.get("every_n_days", 1) not in (None, 1):
        return f"{times} every {schedule['every_n_days']} days"
    return f"{times} daily" if times else ""
