"""App-shaped data for restore drills: the real schemas (Alembic migrations) filled the
way years of use fill them.

Every service table gets rows in the proportions the app produces them: each user
logs two to three mood shifts a day with mood episodes weeks long, a diary card most
days, doses of one or two medications, sleep and routine, questionnaires weekly, a
few episodes and crises a year, sign-ins, AI sessions, exports and shares, and the
outbox and processed-event rows of recent days. Rows are generated inside PostgreSQL
(INSERT ... SELECT over generate_series, two connections at a time), so ten million
rows take minutes. The services' own SQL does what it does in the app: the skills
library is loaded by therapeutic_content's loader, each day's baseline and
rapid-cycling record is derived by mood_tracking.refresh_day, and the last two days
of shifts go through mood_tracking.log_shift (the app's write path: shift, day,
outbox event).

Identifiers are deterministic (md5 of a tag and numbers: drill.id), so a child table
finds its parents without joins. A `drill` schema adds awkward column types
(arrays, intervals, bytea, partitions, non-ASCII text) that the backup must carry.

    python tests/ops/drill_data.py DATABASE_URL --users 40 --years 1
    python tests/ops/drill_data.py DATABASE_URL --rows 10000000   # users for ~10 M rows
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import psycopg
from ops_support import ROOT
from psycopg import sql

ALEMBIC_INI = ROOT / "migrations" / "alembic.ini"
SENSITIVE_MARKER = "DRILL-SENSITIVE-NOTE-7f3a"  # must never reach a log line
# Rows one user makes in a year of this data set (measured: see rows_per_user_year).
ROWS_PER_USER_YEAR = 5_000
LOG_SHIFT_DAYS = 2  # the newest days of shifts go through mood_tracking.log_shift
SERVICE_SCHEMAS = (
    "user_management", "mood_tracking", "pattern_analysis", "notifications",
    "therapeutic_content", "dbt_diary", "episode_tracking", "medications",
    "specialized_trackers", "sessions", "ai_context", "export_reports",
)
SETTINGS_SCHEMAS = (
    "mood_tracking", "dbt_diary", "episode_tracking", "medications", "notifications",
    "specialized_trackers", "sessions", "ai_context", "export_reports",
)

# Small pure functions the statements below share; SQL functions are inlined.
HELPERS = """
CREATE SCHEMA IF NOT EXISTS drill;
CREATE OR REPLACE FUNCTION drill.id(tag text, a bigint, b bigint DEFAULT 0) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$ SELECT md5(tag || ':' || a || ':' || b)::uuid $$;
-- uniform in [0, 1), the same for the same arguments
-- an id derived from a parent row's id
CREATE OR REPLACE FUNCTION drill.of(tag text, parent uuid, k bigint DEFAULT 0) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$ SELECT md5(tag || ':' || parent || ':' || k)::uuid $$;
CREATE OR REPLACE FUNCTION drill.noise(a bigint, b bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE AS
$$ SELECT ('x' || substr(md5(a || '/' || b), 1, 8))::bit(32)::int / 4294967296.0 + 0.5 $$;
CREATE OR REPLACE FUNCTION drill.pick(choices text[], k bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT choices[1 + (abs(k) % cardinality(choices))] $$;
CREATE OR REPLACE FUNCTION drill.tz(u bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT drill.pick(ARRAY['Europe/London', 'Europe/Berlin', 'America/New_York',
                           'Australia/Sydney', 'Europe/Dublin'], u) $$;
-- Shifts a day: 1.5 to 3 depending on the user.
CREATE OR REPLACE FUNCTION drill.rate(u bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$ SELECT 1.5 + (u % 4) * 0.5 $$;
-- Mood level at a user's g-th shift: episodes of 4 to 17 weeks, day-to-day noise.
CREATE OR REPLACE FUNCTION drill.level(u bigint, g bigint) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN g < 1 THEN 0 ELSE greatest(-4, least(4, round(
    3.4 * sin(2 * pi() * (g / drill.rate(u)) / (28 + (u * 37) % 90) + u)
    + 2.2 * (drill.noise(u, g) - 0.5))))::smallint END $$;
CREATE OR REPLACE FUNCTION drill.state(level smallint, k bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN level <= -3 THEN drill.pick(ARRAY['hopeless', 'numb', 'exhausted'], k)
    WHEN level < 0 THEN drill.pick(ARRAY['low', 'sad', 'anxious', 'flat', 'overwhelmed'], k)
    WHEN level = 0 THEN drill.pick(ARRAY['calm', 'content', 'steady'], k)
    WHEN level < 3 THEN drill.pick(ARRAY['energised', 'restless', 'irritable', 'upbeat'], k)
    ELSE drill.pick(ARRAY['racing', 'agitated', 'elated'], k) END $$;
-- Medications: 7 users in 10 take two (one once a day, one twice).
CREATE OR REPLACE FUNCTION drill.on_meds(u bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT u % 10 < 7 $$;
"""

AWKWARD_TYPES = """
CREATE TABLE drill.awkward_types (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    local_at timestamp,
    score numeric(12, 4),
    ratio double precision,
    tags text[],
    doc jsonb,
    blob bytea,
    span interval,
    note text
);
INSERT INTO drill.awkward_types (at, local_at, score, ratio, tags, doc, blob, span, note)
SELECT now() - make_interval(secs => g * 37.5), localtimestamp, g * 1.0001, g / 7.0,
       ARRAY['a' || g, NULL, 'ü" ' || g],
       jsonb_build_object('n', g, 'nested', jsonb_build_array(g, 'x', NULL)),
       decode(md5(g::text), 'hex'), make_interval(days => g % 40, secs => g),
       CASE WHEN g % 10 = 0 THEN NULL ELSE 'émoji ✓ line' || chr(10) || g END
FROM generate_series(1, 2000) AS g;
INSERT INTO drill.awkward_types (at, note) VALUES (now(), '{marker}');
CREATE TABLE drill.events (id bigint NOT NULL, at date NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE TABLE drill.events_old PARTITION OF drill.events FOR VALUES FROM ('2000-01-01') TO ('2025-01-01');
CREATE TABLE drill.events_new PARTITION OF drill.events FOR VALUES FROM ('2025-01-01') TO ('2100-01-01');
INSERT INTO drill.events SELECT g, date '2024-06-01' + g, 'k' || (g % 3) FROM generate_series(1, 800) g;
"""

# {U}: users, {D}: days of history, {T0}: the first day (timestamptz literal).
# Each phase's statements are independent and run two at a time.
PEOPLE = [
    # users and what each of them has once
    """INSERT INTO user_management.users (user_id, email, password_hash, created_at)
    SELECT drill.id('user', u), 'drill-user-' || u || '@example.org',
           '$argon2id$v=19$m=19456,t=2,p=1$' || md5('salt' || u) || '$' || md5('hash' || u),
           {T0} - make_interval(days => u % 30)
    FROM generate_series(1, {U}) u""",
]
PROFILES = [
    """INSERT INTO public.system_config (key, value)
    VALUES ('drill.loaded', jsonb_build_object('users', {U}, 'days', {D})),
           ('maintenance', '{{"enabled": false}}')""",
    """INSERT INTO user_management.user_profiles (user_id, display_name, timezone, locale, country)
    SELECT drill.id('user', u), 'Drill user ' || u, drill.tz(u), 'en', 'GB'
    FROM generate_series(1, {U}) u""",
    """INSERT INTO user_management.emergency_contacts
        (contact_id, user_id, name, relationship, email, phone, priority, consent_state,
         invited_at, confirmed_at)
    SELECT drill.id('contact', u, k), drill.id('user', u), 'Contact ' || k || ' of ' || u,
           drill.pick(ARRAY['partner', 'parent', 'friend', 'sibling'], u + k),
           'contact' || k || '.' || u || '@example.org', '+4477009' || lpad((u * 3 + k)::text, 5, '0'),
           k, 'confirmed', {T0}, {T0} + interval '1 day'
    FROM generate_series(1, {U}) u, generate_series(1, 2) k""",
    """INSERT INTO user_management.healthcare_providers (provider_id, user_id, name, role, organization, email)
    SELECT drill.id('provider', u), drill.id('user', u), 'Dr Drill ' || u, 'psychiatrist',
           'Community mental health team', 'clinic' || u || '@example.org'
    FROM generate_series(1, {U}) u""",
    """INSERT INTO user_management.medications
        (medication_id, user_id, name, dose, schedule_note, schedule, dose_amount, dose_unit)
    SELECT drill.id('med', u, k), drill.id('user', u),
           CASE k WHEN 1 THEN drill.pick(ARRAY['lithium carbonate', 'lamotrigine', 'valproate'], u)
                  ELSE drill.pick(ARRAY['quetiapine', 'sertraline', 'olanzapine'], u) END,
           (100 * k) || ' mg', '', CASE k WHEN 1 THEN '{{"times": ["08:00"]}}'::jsonb
                                   ELSE '{{"times": ["08:00", "20:00"]}}'::jsonb END,
           100 * k, 'mg'
    FROM generate_series(1, {U}) u, generate_series(1, 2) k WHERE drill.on_meds(u)""",
    *[
        f"""INSERT INTO {schema}.user_settings (user_id, timezone)
        SELECT drill.id('user', u), drill.tz(u) FROM generate_series(1, {{U}}) u"""
        for schema in SETTINGS_SCHEMAS
    ],
    """INSERT INTO notifications.preferences
        (user_id, prompt_minutes, contact_minutes, quiet_start, quiet_end, check_in_after_days,
         check_in_contact_id, check_in_contact_after_days, dose_contact_id, dose_contact_after_minutes)
    SELECT drill.id('user', u), 30, 60, '22:30', '07:30', 3, drill.id('contact', u, 1), 5,
           drill.id('contact', u, 1), 120
    FROM generate_series(1, {U}) u""",
    """INSERT INTO notifications.recipients (user_id, email, phone, display_name, country, updated_at)
    SELECT drill.id('user', u), 'drill-user-' || u || '@example.org', '+4477008' || lpad(u::text, 5, '0'),
           'Drill user ' || u, 'GB', {T0}
    FROM generate_series(1, {U}) u""",
    """INSERT INTO pattern_analysis.alert_rules
        (user_id, severe_level, drop_levels, depression_threshold, elevation_threshold, cooldown_minutes)
    SELECT drill.id('user', u), 3 + u % 2, 2 + u % 2, -3, 3, 60 FROM generate_series(1, {U}) u""",
    """INSERT INTO sessions.session_memory (user_id, facets)
    SELECT drill.id('user', u), jsonb_build_object('prefers', 'short answers', 'skills', jsonb_build_array('TIPP'))
    FROM generate_series(1, {U}) u""",
    """INSERT INTO sessions.session_settings (user_id, log_retention_days)
    SELECT drill.id('user', u), 30 FROM generate_series(1, {U}) u""",
    """INSERT INTO ai_context.ai_configurations (user_id, enabled, tone, provider, shared)
    SELECT drill.id('user', u), u % 3 <> 0, drill.pick(ARRAY['warm', 'brief', 'direct'], u), 'builtin',
           ARRAY['mood', 'diary'] FROM generate_series(1, {U}) u""",
    """INSERT INTO ai_context.ai_knowledge_database (entry_id, user_id, kind, text)
    SELECT drill.id('knowledge', u, k), drill.id('user', u),
           drill.pick(ARRAY['warning_sign', 'what_helps', 'trusted_person', 'other'], k),
           'Knowledge entry ' || k FROM generate_series(1, {U}) u, generate_series(1, 4) k""",
    """INSERT INTO ai_context.therapeutic_frameworks_enabled (user_id, framework)
    SELECT drill.id('user', u), 'dbt' FROM generate_series(1, {U}) u WHERE u % 2 = 0""",
    """INSERT INTO ai_context.skill_history (user_id, skill_id, days, helped_days, used_days)
    SELECT drill.id('user', u), s.skill_id, jsonb_build_object('last', {T0}::date + {D} - k::int),
           k % 5, 5 + k
    FROM generate_series(1, {U}) u
    CROSS JOIN LATERAL (SELECT skill_id, row_number() OVER (ORDER BY skill_id) k
                        FROM therapeutic_content.skills WHERE locale = 'en'
                        ORDER BY skill_id OFFSET u % 5 LIMIT 8) s""",
    """INSERT INTO episode_tracking.safety_plans (plan_id, user_id, version, steps, created_at)
    SELECT drill.id('plan', u, v), drill.id('user', u), v,
           jsonb_build_array('Warning signs', 'Things that help', 'People to call'),
           {T0} + make_interval(days => v * 90)
    FROM generate_series(1, {U}) u, generate_series(1, 2) v""",
    """INSERT INTO notifications.check_ins (user_id, quiet_since, user_sent_at)
    SELECT drill.id('user', u), {T0} + make_interval(days => k * 97 + u % 20),
           {T0} + make_interval(days => k * 97 + u % 20 + 3)
    FROM generate_series(1, {U}) u, generate_series(0, {D} / 97 - 1) k WHERE u % 3 = 0""",
]
MEDICATIONS = [
    """INSERT INTO medications.prescriptions
        (medication_id, user_id, name, dose_amount, dose_unit, schedule, active, added_on, source_updated_at)
    SELECT medication_id, user_id, name, dose_amount, dose_unit, schedule, true, {T0}::date, {T0}
    FROM user_management.medications""",
    """INSERT INTO ai_context.medication_names (medication_id, user_id, name, active)
    SELECT medication_id, user_id, name, true FROM user_management.medications""",
    """INSERT INTO notifications.scheduled_reminders
        (reminder_id, user_id, kind, medication_id, instrument, times, days_of_week, start_date,
         channels, next_due_at)
    SELECT drill.id('reminder', u, k), drill.id('user', u),
           (ARRAY['medication', 'diary', 'questionnaire'])[k],
           CASE WHEN k = 1 THEN drill.id('med', u, 1) END, CASE WHEN k = 3 THEN 'PHQ-9' END,
           ARRAY[CASE k WHEN 1 THEN '08:00' WHEN 2 THEN '21:00' ELSE '10:00' END],
           CASE WHEN k = 3 THEN ARRAY['mon'] END, {T0}::date, ARRAY['email'],
           {T0} + make_interval(days => {D} + 1)
    FROM generate_series(1, {U}) u, generate_series(1, 3) k WHERE k > 1 OR drill.on_meds(u)""",
    """INSERT INTO medications.side_effects_log
        (side_effect_id, user_id, medication_id, effect, description, severity, started_on, ended_on)
    SELECT drill.id('side', u, k), drill.id('user', u), drill.id('med', u, 1 + k % 2),
           drill.pick(ARRAY['tremor', 'thirst', 'drowsiness', 'weight gain', 'nausea'], k + u),
           NULL, k % 4, {T0}::date + k * 60, {T0}::date + k * 60 + 14
    FROM generate_series(1, {U}) u, generate_series(1, 4) k WHERE drill.on_meds(u)""",
    """INSERT INTO medications.medication_changes
        (change_id, user_id, medication_id, kind, effective_date, reason, before, after)
    SELECT drill.id('change', u, k), drill.id('user', u), drill.id('med', u, 1 + k % 2),
           (ARRAY['started', 'dose_changed', 'dose_changed'])[k], {T0}::date + (k - 1) * 200,
           'review', jsonb_build_object('dose_amount', 100 * k), jsonb_build_object('dose_amount', 100 * k + 50)
    FROM generate_series(1, {U}) u, generate_series(1, 3) k WHERE drill.on_meds(u)""",
]
# The big ones: one row per event over the years of history.
HISTORY = [
    # mood shifts before the newest LOG_SHIFT_DAYS days (those go through log_shift)
    """INSERT INTO mood_tracking.mood_shifts
        (shift_id, user_id, request_id, occurred_at, local_date, previous_level, previous_mixed,
         previous_state, current_level, current_mixed, current_state, intensity, triggers, note,
         sleep_hours, created_at, updated_at)
    SELECT drill.id('shift', u, g), drill.id('user', u), 'drill-' || g, at,
           (at AT TIME ZONE drill.tz(u))::date, pv, false,
           CASE WHEN g > 1 THEN drill.state(pv, g - 1) END,
           lv, drill.noise(u, -g) < 0.04, drill.state(lv, g),
           least(10, 1 + abs(lv) * 2 + (g % 2))::smallint,
           CASE WHEN g % 5 = 0 THEN ARRAY[drill.pick(ARRAY['work', 'sleep', 'conflict', 'news'], g)]
                ELSE '{{}}'::text[] END,
           CASE WHEN g % 9 = 0 THEN 'Note ' || g END,
           CASE WHEN g % ceil(drill.rate(u))::int = 0
                THEN round((7.5 - lv * 0.8 + drill.noise(g, u))::numeric, 1) END,
           at, at
    FROM generate_series(1, {U}) u
    CROSS JOIN LATERAL generate_series(1, floor(({D} - {LOG_DAYS}) * drill.rate(u))::int) g
    -- OFFSET 0 keeps each level computed once per row (SQL functions are inlined)
    CROSS JOIN LATERAL (SELECT {T0} + make_interval(secs => (g / drill.rate(u)) * 86400
                                                   + drill.noise(g, u) * 7200) AS at,
                               drill.level(u, g) AS lv, drill.level(u, g - 1) AS pv OFFSET 0) t""",
    # doses: med 1 once a day, med 2 twice; 88 % taken, 7 % late, 5 % skipped
    """INSERT INTO medications.medication_logs
        (dose_id, user_id, medication_id, status, amount, unit, taken_at, scheduled_for)
    SELECT drill.id('dose', u, d * 10 + k), drill.id('user', u), drill.id('med', u, 1 + (k > 1)::int),
           CASE WHEN n < 0.88 THEN 'taken' WHEN n < 0.95 THEN 'late' ELSE 'skipped' END,
           CASE WHEN k = 1 THEN 100 ELSE 200 END, 'mg',
           due + make_interval(mins => (n * 40)::int + CASE WHEN n >= 0.88 THEN 90 ELSE 0 END), due
    FROM generate_series(1, {U}) u, generate_series(0, {D} - 1) d, generate_series(1, 3) k,
         LATERAL (SELECT drill.noise(u * 10 + k, d) AS n,
                         {T0} + make_interval(days => d, hours => CASE k WHEN 3 THEN 20 ELSE 8 END) AS due) x
    WHERE drill.on_meds(u) AND drill.noise(u * 10 + k, -d) < 0.96""",
    """INSERT INTO medications.missed_doses (medication_id, scheduled_for, user_id, detected_at)
    SELECT drill.id('med', u, 1 + (k > 1)::int), due, drill.id('user', u), due + interval '2 hours'
    FROM generate_series(1, {U}) u, generate_series(0, {D} - 1) d, generate_series(1, 3) k,
         LATERAL (SELECT {T0} + make_interval(days => d, hours => CASE k WHEN 3 THEN 20 ELSE 8 END) AS due) x
    WHERE drill.on_meds(u) AND drill.noise(u * 10 + k, -d) >= 0.96""",
    # a diary card on about 60 % of days, two or three skills on each
    """INSERT INTO dbt_diary.dbt_daily_entries (entry_id, user_id, day, ratings, set_at, note, created_at)
    SELECT drill.id('card', u, d), drill.id('user', u), {T0}::date + d,
           jsonb_build_object('emotion_misery', (d + u) % 6, 'urge_self_harm', (d * u) % 3,
                              'urge_use', 0, 'joy', (d + 2 * u) % 6),
           jsonb_build_object('emotion_misery', {T0} + make_interval(days => d, hours => 21)),
           CASE WHEN d % 7 = 0 THEN 'Diary note ' || d END, {T0} + make_interval(days => d, hours => 21)
    FROM generate_series(1, {U}) u, generate_series(0, {D} - 1) d
    WHERE drill.noise(u, d + 100000) < 0.6""",
    """INSERT INTO notifications.activity_days (user_id, day, last_at)
    SELECT drill.id('user', u), {T0}::date + d, {T0} + make_interval(days => d, hours => 21)
    FROM generate_series(1, {U}) u, generate_series(0, {D} - 1) d
    WHERE drill.noise(u, d + 200000) < 0.9""",
    """INSERT INTO specialized_trackers.routine_tracking
        (record_id, user_id, day, out_of_bed, first_contact, work_start, dinner, bed)
    SELECT drill.id('routine', u, d), drill.id('user', u), {T0}::date + d,
           time '07:00' + make_interval(mins => (d * 7 + u) % 90), time '09:00', time '09:30',
           time '18:30', time '22:30' + make_interval(mins => (d * 13 + u) % 60)
    FROM generate_series(1, {U}) u, generate_series(0, {D} - 1) d
    WHERE drill.noise(u, d + 300000) < 0.5""",
    """INSERT INTO specialized_trackers.menstrual_tracking (record_id, user_id, day, flow, drsp, impairment)
    SELECT drill.id('cycle', u, d), drill.id('user', u), {T0}::date + d,
           CASE WHEN (d + u) % 28 < 5 THEN drill.pick(ARRAY['light', 'medium', 'heavy'], d) ELSE 'none' END,
           jsonb_build_object('depressed', (d + u) % 6 + 1), jsonb_build_object('work', (d % 3) + 1)
    FROM generate_series(1, {U}) u, generate_series(0, {D} - 1) d
    WHERE u % 5 < 2 AND drill.noise(u, d + 400000) < 0.8""",
    """INSERT INTO specialized_trackers.questionnaire_responses
        (response_id, user_id, instrument, answers, score, band, completed_at)
    SELECT drill.id('questionnaire', u, w), drill.id('user', u), drill.pick(ARRAY['PHQ-9', 'GAD-7', 'ASRM'], w),
           jsonb_build_array(w % 4, (w + 1) % 4, (w + u) % 4, 1, 0, 2, 1),
           (w * 7 + u) % 27, drill.pick(ARRAY['minimal', 'mild', 'moderate', 'severe'], w + u),
           {T0} + make_interval(days => w * 7, hours => 10)
    FROM generate_series(1, {U}) u, generate_series(0, {D} / 7 - 1) w""",
    """INSERT INTO specialized_trackers.bpd_emotional_intensity
        (record_id, user_id, emotion, intensity, onset_at, peak_at, baseline_at)
    SELECT drill.id('emotion', u, d), drill.id('user', u),
           drill.pick(ARRAY['anger', 'shame', 'fear', 'sadness', 'emptiness'], d + u),
           1 + (d + u) % 10, t, t + interval '20 minutes', t + interval '2 hours'
    FROM generate_series(1, {U}) u, generate_series(0, {D} - 1) d,
         LATERAL (SELECT {T0} + make_interval(days => d, hours => 15) AS t) x
    WHERE drill.noise(u, d + 500000) < 0.4""",
    """INSERT INTO specialized_trackers.bpd_abandonment_tracking
        (record_id, user_id, occurred_at, trigger, perceived, urges, reality_check, intensity_after)
    SELECT drill.id('abandonment', u, d), drill.id('user', u), {T0} + make_interval(days => d, hours => 19),
           'Message not answered', 1 + d % 10, ARRAY['check phone'], d % 2 = 0, 1 + d % 5
    FROM generate_series(1, {U}) u, generate_series(0, {D} - 1) d
    WHERE drill.noise(u, d + 600000) < 0.05""",
    # a sign-in a week, its refresh tokens rotating every couple of days
    """INSERT INTO user_management.login_sessions (session_id, user_id, created_at, last_refreshed_at, expires_at, revoked_at)
    SELECT drill.id('login', u, w), drill.id('user', u), t, t + interval '6 days', t + interval '30 days',
           CASE WHEN w < {D} / 7 - 5 THEN t + interval '7 days' END
    FROM generate_series(1, {U}) u, generate_series(0, {D} / 7 - 1) w,
         LATERAL (SELECT {T0} + make_interval(days => w * 7) AS t) x""",
    """INSERT INTO sessions.sessions (session_id, user_id, channel, started_at, last_activity_at, ended_at)
    SELECT drill.id('chat', u, d), drill.id('user', u), drill.pick(ARRAY['app', 'web'], d), t,
           t + interval '12 minutes', t + interval '15 minutes'
    FROM generate_series(1, {U}) u, generate_series(0, {D} - 1) d,
         LATERAL (SELECT {T0} + make_interval(days => d, hours => 20) AS t) x
    WHERE drill.noise(u, d + 700000) < 0.2""",
    # about 4 episodes a year (kinds in turn, never overlapping), each with a decision
    """INSERT INTO episode_tracking.episodes
        (episode_id, user_id, kind, start_day, end_day, peak_severity, hospitalised, origin)
    SELECT drill.id('episode', u, k), drill.id('user', u),
           drill.pick(ARRAY['depressive', 'hypomanic', 'mixed', 'depressive', 'manic'], k + u),
           {T0}::date + k * 90 + u % 20, {T0}::date + k * 90 + u % 20 + 10 + (k * u) % 40,
           1 + (k + u) % 4, (k + u) % 17 = 0, drill.pick(ARRAY['user', 'candidate'], k)
    FROM generate_series(1, {U}) u, generate_series(0, {D} / 90 - 1) k""",
    """INSERT INTO notifications.crises (crisis_id, user_id, rules, detected_at, status, next_step, acknowledged_at, acknowledged_step)
    SELECT drill.id('crisis', u, k), drill.id('user', u), ARRAY['severe_low'],
           t, 'acknowledged', 2, t + interval '25 minutes', 1
    FROM generate_series(1, {U}) u, generate_series(0, {D} / 365 - 1) k,
         LATERAL (SELECT {T0} + make_interval(days => k * 365 + 100 + u % 50, hours => 23) AS t) x""",
    """INSERT INTO export_reports.export_jobs
        (job_id, user_id, kind, period_from, period_to, status, progress, attempts, size_bytes, object_key,
         created_at, finished_at, expires_at)
    SELECT drill.id('export', u, k), drill.id('user', u), drill.pick(ARRAY['clinician_pdf', 'csv', 'fhir', 'full'], k),
           {T0}::date + k * 90, {T0}::date + k * 90 + 89, 'done', 100, 1, 150000 + k * 1000,
           'exports/' || u || '/' || k, t, t + interval '40 seconds', t + interval '7 days'
    FROM generate_series(1, {U}) u, generate_series(1, {D} / 90) k,
         LATERAL (SELECT {T0} + make_interval(days => k * 90, hours => 9) AS t) x""",
]
HISTORY_CHILDREN = [
    """INSERT INTO user_management.refresh_tokens (token_hash, session_id, user_id, issued_at, used_at)
    SELECT md5('token' || session_id || r) || md5(r || 'token' || session_id), session_id, user_id,
           created_at + make_interval(days => r * 2), CASE WHEN r < 3 THEN created_at + make_interval(days => r * 2 + 2) END
    FROM user_management.login_sessions, generate_series(0, 3) r""",
    """INSERT INTO dbt_diary.dbt_skills_used (entry_id, skill_id, user_id, day, rating, set_at)
    WITH skill AS (SELECT skill_id, row_number() OVER (ORDER BY skill_id) k, count(*) OVER () n
                   FROM therapeutic_content.skills WHERE locale = 'en')
    SELECT c.entry_id, skill.skill_id, c.user_id, c.day, (skill.k + dn) % 8, c.created_at
    FROM dbt_diary.dbt_daily_entries c
    CROSS JOIN LATERAL (SELECT c.day - date '2000-01-01' + hashtext(c.user_id::text) % 1000 AS dn) x
    JOIN skill ON skill.k IN (1 + dn % skill.n, 1 + (dn * 7 + 3) % skill.n)""",
    """INSERT INTO episode_tracking.episode_candidate_decisions (user_id, kind, start_day, end_day, decision, episode_id)
    SELECT user_id, kind, start_day, end_day, 'confirmed', episode_id FROM episode_tracking.episodes
    WHERE origin = 'candidate'""",
    """INSERT INTO episode_tracking.crisis_interventions
        (intervention_id, episode_id, user_id, kind, happened_at, by_whom, outcome)
    SELECT drill.of('intervention', episode_id), episode_id, user_id,
           drill.pick(ARRAY['safety_plan_used', 'contact_reached', 'clinician_seen', 'crisis_line_called'],
                      peak_severity + extract(doy FROM start_day)::int),
           start_day + time '18:00', 'self', 'helped'
    FROM episode_tracking.episodes WHERE peak_severity >= 3""",
    """INSERT INTO notifications.crisis_steps (crisis_id, step, target, contact_id, contact_name, started_at, acknowledged_at)
    SELECT crisis_id, s, CASE WHEN s = 1 THEN 'user' ELSE 'contact' END,
           CASE WHEN s > 1 THEN drill.id('contact', 0, s) END, CASE WHEN s > 1 THEN 'Contact ' || s END,
           detected_at + make_interval(mins => (s - 1) * 30), CASE WHEN s = 1 THEN acknowledged_at END
    FROM notifications.crises, generate_series(1, 3) s""",
    """INSERT INTO notifications.notifications
        (notification_id, user_id, kind, reference, contact_id, contact_name, channel, recipient,
         priority, subject, body, status, attempts, next_attempt_at, created_at, sent_at)
    SELECT drill.of('notification-' || ch, crisis_id, s), user_id, 'crisis', crisis_id::text,
           drill.id('contact', 0, s), 'Contact ' || s, ch, 'contact@example.org', 1,
           'Please check in', 'Someone you support may need you.', 'sent', 1, detected_at, detected_at,
           detected_at + interval '5 seconds'
    FROM notifications.crises, generate_series(2, 3) s, unnest(ARRAY['email', 'sms']) ch""",
    """INSERT INTO notifications.notifications
        (notification_id, user_id, kind, reference, contact_id, contact_name, channel, recipient,
         priority, subject, body, status, attempts, next_attempt_at, created_at, sent_at)
    SELECT drill.of('dose-alert', medication_id, extract(epoch FROM scheduled_for)::bigint),
           user_id, 'missed_dose', medication_id || '@' || scheduled_for, drill.id('contact', 0, 1),
           'Contact 1', 'email', 'contact@example.org', 2, 'A dose was missed',
           'A planned dose has not been logged.', 'sent', 1, detected_at, detected_at, detected_at
    FROM medications.missed_doses""",
    """INSERT INTO sessions.session_logs (log_id, session_id, user_id, role, text, skill_id, created_at, expires_at)
    SELECT drill.of('chatlog', session_id, m), session_id, user_id,
           CASE WHEN m % 2 = 1 THEN 'user' ELSE 'assistant' END, 'Message ' || m, NULL,
           started_at + make_interval(mins => m), started_at + interval '30 days'
    FROM sessions.sessions, generate_series(1, 6) m
    WHERE started_at > {T0} + make_interval(days => {D} - 30)""",
    """INSERT INTO ai_context.crisis_offers (session_id, user_id, offered_at, answered_at)
    SELECT session_id, user_id, started_at + interval '3 minutes', started_at + interval '4 minutes'
    FROM sessions.sessions WHERE hashtext(session_id::text) % 20 = 0""",
    """INSERT INTO ai_context.screen_marks (mark_id, session_id, user_id, cues)
    SELECT drill.of('mark', session_id), session_id, user_id, jsonb_build_array('low mood')
    FROM sessions.sessions WHERE hashtext(session_id::text) % 7 = 0""",
    """INSERT INTO export_reports.report_shares
        (share_id, job_id, user_id, provider_id, provider_name, token_hash, created_at, expires_at, used_at)
    SELECT drill.of('share', job_id), job_id, user_id, drill.id('provider', 0),
           'Dr Drill', md5('share' || job_id), created_at, created_at + interval '14 days',
           created_at + interval '2 days'
    FROM export_reports.export_jobs WHERE kind = 'clinician_pdf'""",
]
REPORT_DOWNLOADS = [
    """INSERT INTO export_reports.report_downloads (download_id, share_id, user_id, outcome, at)
    SELECT drill.of('download', share_id, k), share_id, user_id,
           CASE k WHEN 1 THEN 'downloaded' ELSE 'already_used' END, used_at + make_interval(hours => k)
    FROM export_reports.report_shares, generate_series(1, 2) k""",
]
# The newest days of shifts through the app's own write path.
LOG_SHIFTS = """
SELECT count(*) FROM (
  SELECT mood_tracking.log_shift(
    drill.id('user', u), 'drill-' || g, at, drill.level(u, g - 1), false,
    drill.state(drill.level(u, g - 1), g - 1), drill.level(u, g), false,
    drill.state(drill.level(u, g), g), least(10, 1 + abs(drill.level(u, g)) * 2)::smallint,
    '{{}}'::text[], NULL, NULL,
    jsonb_build_object('event_id', gen_random_uuid(), 'event_type', 'mood.shift.logged',
                       'source', 'mood_tracking', 'occurred_at', at, 'subject_id', drill.id('user', u)),
    '{{}}'::jsonb)
  FROM generate_series({first_user}, {last_user}) u
  CROSS JOIN LATERAL generate_series(floor(({D} - {LOG_DAYS}) * drill.rate(u))::int + 1,
                                     floor({D} * drill.rate(u))::int) g
  CROSS JOIN LATERAL (SELECT least(now(), {T0} + make_interval(secs => (g / drill.rate(u)) * 86400)) AS at) t
  ORDER BY u, g) logged
"""
# Indexes no constraint needs: dropped while the history loads, built after it (a
# sort per index instead of millions of random inserts), before the services' SQL
# that reads through them runs.
SECONDARY_INDEXES = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(ic.relname), pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE n.nspname = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
"""
REFRESH_DAYS = """
SELECT count(mood_tracking.refresh_day(user_id, local_date)) FROM (
  SELECT DISTINCT user_id, local_date FROM mood_tracking.mood_shifts
  WHERE request_id LIKE 'drill-%' AND hashtext(user_id::text) % {parts} = {part}) days
"""
# What other services made of the shifts: an analysis of every shift event, some flags
# and suggestions. The outbox keeps a week of published events; consumers remember theirs.
DERIVED = [
    """INSERT INTO pattern_analysis.pattern_analyses
        (analysis_id, user_id, source_event_id, record_id, rules_fired, analyzed_at, source)
    SELECT drill.of('analysis', shift_id, 0), user_id, drill.of('event', shift_id),
           shift_id, CASE WHEN current_level <= -3 THEN ARRAY['severe_low'] ELSE '{{}}'::text[] END,
           occurred_at + interval '1 second', 'mood'
    FROM mood_tracking.mood_shifts""",
    """INSERT INTO pattern_analysis.pattern_flags
        (flag_id, user_id, rule, record_id, local_date, source_event_id, details, detected_at, source)
    SELECT drill.of('flag', shift_id), user_id, 'severe_low', shift_id, local_date,
           drill.of('event', shift_id), jsonb_build_object('level', current_level),
           occurred_at + interval '1 second', 'mood'
    FROM mood_tracking.mood_shifts WHERE current_level <= -4""",
    """INSERT INTO ai_context.suggestions (user_id, shift_id, as_of, state, level, skill_id, text, shown_at)
    SELECT DISTINCT ON (user_id) user_id, shift_id, occurred_at, current_state, current_level,
           'tipp', 'Try a short breathing exercise', occurred_at + interval '1 minute'
    FROM mood_tracking.mood_shifts ORDER BY user_id, occurred_at DESC""",
    """INSERT INTO notifications.dose_follow_ups (medication_id, scheduled_for, user_id, contact_id, due_at)
    SELECT medication_id, scheduled_for, user_id, drill.id('contact', 0, 1), scheduled_for + interval '2 hours'
    FROM medications.missed_doses WHERE scheduled_for > {T0} + make_interval(days => {D} - 7)""",
    *[
        f"""INSERT INTO {schema}.outbox (event_id, event_type, payload, subject_id, status, created_at,
                                         next_attempt_at, published_at)
        SELECT drill.id('{schema}-event', u, d), '{schema}.drill.recorded',
               jsonb_build_object('event_id', drill.id('{schema}-event', u, d), 'subject_id', drill.id('user', u)),
               drill.id('user', u), 'published', t, t, t + interval '50 milliseconds'
        FROM generate_series(1, {{U}}) u, generate_series({{D}} - 7, {{D}} - 1) d,
             LATERAL (SELECT {{T0}} + make_interval(days => d, hours => 12) AS t) x"""
        for schema in SERVICE_SCHEMAS if schema != "mood_tracking"
    ],
    *[
        f"""INSERT INTO {schema}.processed_events (event_id, consumer, processed_at)
        SELECT drill.id('consumed', u, d * 3 + k), '{schema}.handler', {{T0}} + make_interval(days => d)
        FROM generate_series(1, {{U}}) u, generate_series({{D}} - 30, {{D}} - 1) d, generate_series(1, 3) k"""
        for schema in SERVICE_SCHEMAS
    ],
]


def migrate(url: str) -> bool:
    """alembic upgrade head into `url`; False when the repository has no migrations yet."""
    if not ALEMBIC_INI.exists():
        return False
    env = {**os.environ, "DATABASE_URL": sqlalchemy_url(url)}
    subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), "upgrade", "head"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )
    return True


def sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def libpq_url(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def users_for(rows: int, years: int) -> int:
    return max(1, math.ceil(rows / (ROWS_PER_USER_YEAR * years)))


def load(url: str, users: int = 20, years: int = 1, say: Callable[[str], None] | None = None) -> dict[str, int]:
    """Migrate, load the skills library, fill every table; returns rows per table."""
    url, say = libpq_url(url), say or (lambda _: None)
    migrate(url)
    load_skills_library(url)
    anchor = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = 365 * years
    values = {"U": int(users), "D": days, "LOG_DAYS": LOG_SHIFT_DAYS,
              "T0": f"(timestamptz '{anchor.isoformat()}' - interval '{days} days')"}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(HELPERS)
        conn.execute(AWKWARD_TYPES.format(marker=SENSITIVE_MARKER))
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        indexes = conn.execute(SECONDARY_INDEXES, (list(SERVICE_SCHEMAS),)).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
    for name, statements in (("users", PEOPLE), ("profiles", PROFILES), ("medications", MEDICATIONS),
                             ("history", HISTORY), ("history children", HISTORY_CHILDREN),
                             ("shares", REPORT_DOWNLOADS)):
        run_parallel(url, [s.format(**values) for s in statements])
        say(f"{name}: done at {time.monotonic() - started:.0f}s")
    run_parallel(url, [definition for _, definition in indexes])
    say(f"{len(indexes)} secondary indexes built at {time.monotonic() - started:.0f}s")
    run_parallel(url, [REFRESH_DAYS.format(parts=2, part=p) for p in (0, 1)])
    say(f"days derived by mood_tracking.refresh_day at {time.monotonic() - started:.0f}s")
    half = (users + 1) // 2
    run_parallel(url, [LOG_SHIFTS.format(first_user=a, last_user=b, **values)
                       for a, b in ((1, half), (half + 1, users)) if a <= b])
    say(f"newest shifts written by mood_tracking.log_shift at {time.monotonic() - started:.0f}s")
    run_parallel(url, [s.format(**values) for s in DERIVED])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        return row_counts(conn)


def load_skills_library(url: str) -> None:
    """therapeutic_content's own loader (the service runs it at start-up)."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from services.therapeutic_content import library

    engine = create_engine(sqlalchemy_url(url))
    with Session(engine) as session, session.begin():
        for path in library.content_files():
            library.load(session, path)
    engine.dispose()


def run_parallel(url: str, statements: list[str], workers: int = 2) -> None:
    def run(statement: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            try:
                conn.execute(statement)
            except psycopg.Error as error:
                raise RuntimeError(f"{error}\n in: {statement.strip()[:160]}") from None

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, statements))


def row_counts(conn: psycopg.Connection) -> dict[str, int]:
    tables = conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        " AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
    ).fetchall()
    return {
        f"{schema}.{table}": conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
        ).fetchone()[0]
        for schema, table in tables
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("--users", type=int, help="how many users (default: from --rows, else 20)")
    parser.add_argument("--years", type=int, default=1, help="years of history per user")
    parser.add_argument("--rows", type=int, help="aim at about this many rows in all")
    args = parser.parse_args(argv)
    users = args.users or (users_for(args.rows, args.years) if args.rows else 20)
    started = time.monotonic()
    counts = load(args.database_url, users, args.years, say=lambda text: print(f"  {text}", flush=True))
    with psycopg.connect(libpq_url(args.database_url)) as conn:
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    empty = sorted(name for name, n in counts.items() if n == 0 and not name.endswith("drill.events"))
    print(f"loaded {sum(counts.values())} rows into {len(counts)} tables ({users} users,"
          f" {args.years} year(s) each, {size}) in {time.monotonic() - started:.0f}s")
    if empty:
        print(f"empty tables: {', '.join(empty)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
