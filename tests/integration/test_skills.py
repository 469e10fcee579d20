"""The skills library through the gateway: filters, full-text search, modules,
ETag revalidation."""


def test_skills_filter_by_module_state_and_situation(user):
    distress = user.get("/api/v1/skills", params={"module": "distress_tolerance"}).json()
    assert {s["module"] for s in distress} == {"distress_tolerance"}
    assert {"tipp", "stop", "accepts", "radical_acceptance"} <= {s["skill_id"] for s in distress}
    anxious = user.get("/api/v1/skills", params={"state": "anxious"}).json()
    assert anxious and all("anxious" in s["states"] for s in anxious)
    conflict = user.get("/api/v1/skills", params={"situation": "conflict",
                                                  "module": "interpersonal_effectiveness"}).json()
    assert "dear_man" in {s["skill_id"] for s in conflict}
    assert all("conflict" in s["situations"] for s in conflict)


def test_full_text_search_finds_skills_by_their_words(user):
    found = [s["skill_id"] for s in user.get("/api/v1/skills", params={"q": "cold water"}).json()]
    assert found[0] == "tipp"
    assert user.get("/api/v1/skills", params={"q": "zzzxqy"}).json() == []


def test_a_skill_carries_its_steps_and_cautions(user):
    tipp = user.get("/api/v1/skills/tipp").json()
    assert tipp["name"] == "TIPP" and len(tipp["steps"]) >= 3 and tipp["minutes"] > 0
    cold = [c for c in tipp["cautions"] if "beta_blocker" in c["medication_classes"]]
    assert cold and "heart_condition" in cold[0]["conditions"] and cold[0]["step"]
    assert user.get("/api/v1/skills/no_such_skill").status_code == 404


def test_modules_count_their_skills(user):
    modules = user.get("/api/v1/skills/modules").json()
    assert [m["module"] for m in modules] == ["mindfulness", "distress_tolerance",
                                              "emotion_regulation", "interpersonal_effectiveness"]
    total = len(user.get("/api/v1/skills").json())
    assert sum(m["skill_count"] for m in modules) == total


def test_answers_are_cacheable_and_revalidate_with_an_etag(user):
    first = user.get("/api/v1/skills", params={"state": "urge"})
    tag = first.headers["ETag"]
    assert first.status_code == 200 and first.headers["Cache-Control"] == "private, no-cache"
    again = user.get("/api/v1/skills", params={"state": "urge"}, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == tag
    other = user.get("/api/v1/skills", params={"state": "low"}, headers={"If-None-Match": tag})
    assert other.status_code == 200 and other.headers["ETag"] != tag


def test_bad_filters_are_refused_with_the_field_named(user):
    for params, field in (({"module": "yoga"}, "module"), ({"state": "grumpy"}, "state"),
                          ({"situation": "party"}, "situation"), ({"locale": "xx"}, "locale"),
                          ({"colour": "red"}, "colour")):
        response = user.get("/api/v1/skills", params=params)
        assert response.status_code == 400 and field in response.json()["fields"], params


def test_the_library_needs_a_login(api):
    assert api.request("GET", "/api/v1/skills").status_code == 401
