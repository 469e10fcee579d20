"""The skills library: read from its versioned file, loaded into PostgreSQL once
per version, searched and filtered, and fitted to a person's state.

The file (content/skills.v<N>.yaml) is the source; a process loads it at
start-up when the database holds an older version (under an advisory lock, so
instances starting together load it once). Texts are our own words.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.kit.contracts.skills import MODULES, SITUATIONS, SKILL_ID, SKILL_STATES
from services.kit.errors import NotFound
from services.therapeutic_content.models import Library, Skill

CONTENT_DIR = Path(__file__).parent / "content"
SEARCH_CONFIGS = {"en": "english"}  # PostgreSQL text search configuration per locale
DEFAULT_LOCALE = "en"
LOAD_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('therapeutic_content.library'))")
SKILL_FIELDS = ("skill_id", "module", "name", "summary", "steps", "states", "situations",
                "minutes", "cautions", "locale")


# --- the file ---------------------------------------------------------------------

def content_files() -> list[Path]:
    """The newest version of the file per locale."""
    newest: dict[str, tuple[int, Path]] = {}
    for path in CONTENT_DIR.glob("skills.v*.yaml"):
        document = read(path)
        version, locale = document["version"], document["locale"]
        if locale not in newest or newest[locale][0] < version:
            newest[locale] = (version, path)
    return [path for _, path in newest.values()]


@cache
def read(path: Path) -> dict:
    document = yaml.safe_load(path.read_text())
    problems = check(document)
    if problems:
        raise ValueError(f"{path.name}: " + "; ".join(problems))
    return document


def check(document: dict) -> list[str]:
    """What a content file must be for the app to trust it."""
    problems = []
    known_classes, known_conditions = set(document["medication_classes"]), set(document["conditions"])
    ids = [skill["id"] for skill in document["skills"]]
    if len(ids) != len(set(ids)):
        problems.append("skill ids repeat")
    if {module["id"] for module in document["modules"]} != set(MODULES):
        problems.append("modules must be exactly the four DBT modules")
    for skill in document["skills"]:
        where = skill["id"]
        if not re.match(SKILL_ID, where):
            problems.append(f"{where}: not a skill id")
        if skill["module"] not in MODULES:
            problems.append(f"{where}: unknown module")
        for name, allowed in (("states", SKILL_STATES), ("situations", SITUATIONS)):
            unknown = set(skill[name]) - set(allowed)
            if unknown:
                problems.append(f"{where}: unknown {name} {sorted(unknown)}")
        for caution in skill["cautions"]:
            if set(caution["medication_classes"]) - known_classes:
                problems.append(f"{where}: a caution names an unknown medication class")
            if set(caution["conditions"]) - known_conditions:
                problems.append(f"{where}: a caution names an unknown condition")
            if caution.get("step") and not 1 <= caution["step"] <= len(skill["steps"]):
                problems.append(f"{where}: a caution refers to no step")
    return problems


def load(db: Session, path: Path) -> bool:
    """Load the file if the database holds an older version of its locale; True if it did."""
    document = read(path)
    locale, version = document["locale"], document["version"]
    db.execute(LOAD_LOCK)
    current = db.get(Library, locale)
    if current is not None and current.version >= version:
        return False
    rows = [skill_row(skill, locale) for skill in document["skills"]]
    db.execute(delete(Skill).where(Skill.locale == locale,
                                   Skill.skill_id.not_in([row["skill_id"] for row in rows])))
    statement = insert(Skill).values(rows)
    db.execute(statement.on_conflict_do_update(
        index_elements=[Skill.skill_id, Skill.locale],
        set_={name: statement.excluded[name] for name in rows[0] if name not in ("skill_id", "locale")}))
    library = {"version": version, "modules": document["modules"],
               "medication_classes": document["medication_classes"],
               "conditions": document["conditions"]}
    statement = insert(Library).values(locale=locale, **library)
    db.execute(statement.on_conflict_do_update(index_elements=[Library.locale], set_=library))
    return True


def skill_row(skill: dict, locale: str) -> dict:
    return {
        "skill_id": skill["id"], "locale": locale, "module": skill["module"],
        "name": skill["name"], "summary": skill["summary"].strip(), "steps": skill["steps"],
        "states": skill["states"], "situations": skill["situations"],
        "minutes": skill["minutes"], "cautions": skill["cautions"],
        "search_text": " ".join([skill["name"], skill["summary"], *skill["steps"]]),
        "search_config": SEARCH_CONFIGS.get(locale, "simple"),
    }


# --- reading ----------------------------------------------------------------------

def skill_dict(skill: Skill) -> dict:
    return {name: getattr(skill, name) for name in SKILL_FIELDS}


def list_skills(db: Session, query: dict) -> list[dict]:
    locale = query.get("locale") or DEFAULT_LOCALE
    statement = select(Skill).where(Skill.locale == locale)
    if query.get("module"):
        statement = statement.where(Skill.module == query["module"])
    if query.get("state"):
        statement = statement.where(Skill.states.contains([query["state"]]))
    if query.get("situation"):
        statement = statement.where(Skill.situations.contains([query["situation"]]))
    if query.get("q"):
        search = func.websearch_to_tsquery(SEARCH_CONFIGS.get(locale, "simple"), query["q"])
        statement = statement.where(Skill.search.op("@@")(search)).order_by(
            func.ts_rank(Skill.search, search).desc(), Skill.name)
    else:
        statement = statement.order_by(module_order(), Skill.name)
    return [skill_dict(skill) for skill in db.scalars(statement)]


def module_order():
    from sqlalchemy import case

    return case({module: index for index, module in enumerate(MODULES)}, value=Skill.module)


def get_skill(db: Session, skill_id: str, locale: str | None = None) -> dict:
    skill = db.get(Skill, (skill_id, locale or DEFAULT_LOCALE))
    if skill is None:
        raise NotFound("skill not found")
    return skill_dict(skill)


def modules(db: Session, locale: str | None = None) -> list[dict]:
    locale = locale or DEFAULT_LOCALE
    library = db.get(Library, locale)
    if library is None:
        return []
    counts = dict(db.execute(select(Skill.module, func.count()).where(Skill.locale == locale)
                             .group_by(Skill.module)).all())
    return [{"module": module["id"], "name": module["name"], "summary": module["summary"].strip(),
             "skill_count": counts.get(module["id"], 0)} for module in library.modules]


def known_skills(db: Session, skill_ids: list[str]) -> list[str]:
    """Those of ``skill_ids`` the library has (in any locale)."""
    return sorted(set(db.scalars(select(Skill.skill_id).where(Skill.skill_id.in_(skill_ids)))))


# --- fitting skills to a person -------------------------------------------------------

def medication_classes_of(medications: list[str], classes: dict[str, list[str]]) -> set[str]:
    """The classes a person's medication names belong to (names match as whole words)."""
    found = set()
    for medication in medications:
        name = medication.lower()
        for medication_class, members in classes.items():
            if any(re.search(rf"(?<![a-z]){re.escape(member)}(?![a-z])", name) for member in members):
                found.add(medication_class)
    return found


def without_cautioned(skill: dict, classes: set[str]) -> dict | None:
    """The skill as it is safe to offer someone taking medications of ``classes``: a
    caution about the whole skill leaves it out; one about a step leaves that step out."""
    omitted = set()
    for caution in skill["cautions"]:
        if set(caution["medication_classes"]) & classes:
            if not caution.get("step"):
                return None
            omitted.add(caution["step"])
    if not omitted:
        return skill
    return {**skill, "steps": [step for index, step in enumerate(skill["steps"], 1)
                               if index not in omitted],
            "cautions": [c for c in skill["cautions"] if c.get("step") not in omitted],
            "omitted_steps": sorted(omitted)}


def text_ranks(db: Session, locale: str, wording: str) -> dict[str, float]:
    """How well each skill's text answers free ``wording`` (PostgreSQL full-text
    search, any of its words; ts_rank), for the skills that match at all."""
    words = re.findall(r"[^\W\d_]{3,}", wording)[:40]
    if not words:
        return {}
    search = func.websearch_to_tsquery(SEARCH_CONFIGS.get(locale, "simple"), " or ".join(words))
    rows = db.execute(select(Skill.skill_id, func.ts_rank(Skill.search, search))
                      .where(Skill.locale == locale, Skill.search.op("@@")(search))).all()
    return {skill_id: rank for skill_id, rank in rows}


def suggest(db: Session, request: dict) -> list[dict]:
    """Skills that fit ``states``, ``situations`` and the words of ``q``, minus what a
    caution rules out for the person's ``medications``: first those of ``prefer`` that
    fit (skills that helped this person before, best first), then the best fit."""
    locale = request.get("locale") or DEFAULT_LOCALE
    library = db.get(Library, locale)
    classes = medication_classes_of(request.get("medications", []),
                                    library.medication_classes if library else {})
    states, situations = set(request.get("states", [])), set(request.get("situations", []))
    ranks = text_ranks(db, locale, request["q"]) if request.get("q") else {}
    best_rank = max(ranks.values(), default=0) or 1
    prefer = list(request.get("prefer", []))
    scored = []
    for skill in list_skills(db, {"locale": locale}):
        fit = 2 * len(states & set(skill["states"])) + len(situations & set(skill["situations"])) \
            + 3 * ranks.get(skill["skill_id"], 0) / best_rank
        safe = without_cautioned(skill, classes) if fit else None
        if safe is not None:
            helped = prefer.index(skill["skill_id"]) if skill["skill_id"] in prefer else len(prefer)
            scored.append((helped, -fit, skill["minutes"], skill["name"], safe))
    scored.sort(key=lambda item: item[:4])
    return [safe for *_, safe in scored[:request.get("limit", 5)]]
