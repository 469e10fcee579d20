-- mood_tracking's SQL functions, version 1 (migration 0005).
-- Logging a shift is one statement: the user's lock, the shift, its day's
-- derived records, the facts for pattern analysis and the outbox row.

CREATE OR REPLACE FUNCTION mood_tracking.severity(intensity integer) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    -- Intensity 1-10 as eMoods' mild / moderate / severe (1-3).
    SELECT CASE WHEN intensity <= 3 THEN 1 WHEN intensity <= 7 THEN 2 ELSE 3 END
$$;

CREATE OR REPLACE FUNCTION mood_tracking.refresh_day(p_user_id uuid, p_day date) RETURNS integer
LANGUAGE plpgsql AS $$
-- Recompute one day's baseline and rapid-cycling record from its shifts (the
-- caller holds the user's lock); return the day's polarity crossings: changes
-- between the depressed and the elevated side, in time order. Each shift counts
-- where it came from and where it went; euthymic (0) is on neither side, so
-- -2 -> 0 -> +1 is one crossing. Two or more make a rapid-cycling day: a pattern
-- flag, never a diagnosis.
DECLARE
    crossings integer := 0;
    side integer := 0;
    level_side integer;
    shift record;
BEGIN
    INSERT INTO mood_tracking.daily_baselines
        (user_id, day, peak_elevation, peak_depression, irritability, anxiety, mixed,
         sleep_hours, shift_count)
    SELECT p_user_id, p_day, GREATEST(0, max(current_level)), LEAST(0, min(current_level)),
           COALESCE(max(mood_tracking.severity(intensity))
                    FILTER (WHERE current_state IN ('irritable', 'agitated', 'angry')), 0),
           COALESCE(max(mood_tracking.severity(intensity))
                    FILTER (WHERE current_state IN ('anxious', 'restless', 'overwhelmed')), 0),
           bool_or(current_mixed),
           -- the latest report of the night's sleep
           (array_agg(sleep_hours ORDER BY occurred_at DESC)
                FILTER (WHERE sleep_hours IS NOT NULL))[1],
           count(*)
    FROM mood_tracking.mood_shifts
    WHERE user_id = p_user_id AND local_date = p_day
    HAVING count(*) > 0
    ON CONFLICT (user_id, day) DO UPDATE SET
        peak_elevation = excluded.peak_elevation, peak_depression = excluded.peak_depression,
        irritability = excluded.irritability, anxiety = excluded.anxiety,
        mixed = excluded.mixed, sleep_hours = excluded.sleep_hours,
        shift_count = excluded.shift_count, updated_at = now();
    IF NOT FOUND THEN  -- no shift left on that day
        DELETE FROM mood_tracking.daily_baselines WHERE user_id = p_user_id AND day = p_day;
        DELETE FROM mood_tracking.rapid_cycling_days WHERE user_id = p_user_id AND day = p_day;
        RETURN 0;
    END IF;

    FOR shift IN
        SELECT previous_level, current_level FROM mood_tracking.mood_shifts
        WHERE user_id = p_user_id AND local_date = p_day
        ORDER BY occurred_at, created_at
    LOOP
        FOREACH level_side IN ARRAY ARRAY[sign(shift.previous_level)::integer,
                                          sign(shift.current_level)::integer] LOOP
            IF level_side <> 0 AND level_side <> side THEN
                IF side <> 0 THEN
                    crossings := crossings + 1;
                END IF;
                side := level_side;
            END IF;
        END LOOP;
    END LOOP;

    IF crossings >= 2 THEN
        INSERT INTO mood_tracking.rapid_cycling_days (user_id, day, crossings)
        VALUES (p_user_id, p_day, crossings)
        ON CONFLICT (user_id, day) DO UPDATE SET crossings = excluded.crossings;
    ELSE
        DELETE FROM mood_tracking.rapid_cycling_days WHERE user_id = p_user_id AND day = p_day;
    END IF;
    RETURN crossings;
END
$$;

CREATE OR REPLACE FUNCTION mood_tracking.shift_facts(p_shift_id uuid, p_crossings integer) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
-- What pattern analysis needs to know of a shift, worked out where the data
-- is: the event carries facts, and pattern analysis never reads mood data.
-- drop_24h: how far the mood fell to this shift from its highest point in
-- the 24 hours before, this shift's own starting level included.
BEGIN
    RETURN (
        SELECT jsonb_build_object(
            'shift_id', s.shift_id, 'user_id', s.user_id, 'occurred_at', s.occurred_at,
            'local_date', s.local_date, 'previous_level', s.previous_level,
            'current_level', s.current_level, 'current_mixed', s.current_mixed,
            'drop_24h', GREATEST(0, GREATEST(s.previous_level, (
                SELECT max(e.current_level) FROM mood_tracking.mood_shifts e
                WHERE e.user_id = s.user_id AND e.shift_id <> s.shift_id
                  AND e.occurred_at BETWEEN s.occurred_at - interval '24 hours' AND s.occurred_at
            )) - s.current_level),
            'crossings_today', p_crossings,
            'rapid_cycling_today', p_crossings >= 2)
        FROM mood_tracking.mood_shifts s
        WHERE s.shift_id = p_shift_id);
END
$$;

CREATE OR REPLACE FUNCTION mood_tracking.log_shift(
    p_user_id uuid, p_request_id text, p_occurred_at timestamptz,
    p_previous_level smallint, p_previous_mixed boolean, p_previous_state text,
    p_current_level smallint, p_current_mixed boolean, p_current_state text,
    p_intensity smallint, p_triggers text[], p_note text, p_sleep_hours numeric,
    p_event jsonb, p_event_headers jsonb)
RETURNS TABLE (
    shift_id uuid, user_id uuid, occurred_at timestamptz, local_date date,
    previous_level smallint, previous_mixed boolean, previous_state text,
    current_level smallint, current_mixed boolean, current_state text,
    intensity smallint, triggers text[], note text, sleep_hours numeric,
    request_id text, created_at timestamptz, updated_at timestamptz, event jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
-- Log a shift: the user's lock, the shift, its day's derived records, and the
-- mood.shift.logged event (p_event, its data filled in here) in the outbox.
-- A request id seen before returns that shift and no event.
DECLARE
    shift mood_tracking.mood_shifts;
    payload jsonb;
BEGIN
    -- One user's writes one at a time: each recomputes days from the shifts it
    -- can see, and two at once would each miss the other's.
    PERFORM pg_advisory_xact_lock(hashtextextended(p_user_id::text, 0));
    INSERT INTO mood_tracking.mood_shifts
        (shift_id, user_id, request_id, occurred_at, local_date, previous_level,
         previous_mixed, previous_state, current_level, current_mixed, current_state,
         intensity, triggers, note, sleep_hours)
    VALUES (
        gen_random_uuid(), p_user_id, p_request_id, p_occurred_at,
        -- the calendar day in the user's time zone
        (p_occurred_at AT TIME ZONE COALESCE(
            (SELECT timezone FROM mood_tracking.user_settings WHERE user_id = p_user_id),
            'UTC'))::date,
        p_previous_level, p_previous_mixed, p_previous_state, p_current_level,
        p_current_mixed, p_current_state, p_intensity, p_triggers, p_note, p_sleep_hours)
    ON CONFLICT (user_id, request_id) DO NOTHING
    RETURNING * INTO shift;
    IF FOUND THEN
        payload := jsonb_set(p_event, '{data}', mood_tracking.shift_facts(
            shift.shift_id, mood_tracking.refresh_day(p_user_id, shift.local_date)));
        INSERT INTO mood_tracking.outbox (event_id, event_type, payload, headers, subject_id)
        VALUES ((p_event->>'event_id')::uuid, p_event->>'event_type', payload,
                p_event_headers, p_user_id);
    ELSE
        SELECT * INTO shift FROM mood_tracking.mood_shifts m
        WHERE m.user_id = p_user_id AND m.request_id = p_request_id;
    END IF;
    RETURN QUERY SELECT
        shift.shift_id, shift.user_id, shift.occurred_at, shift.local_date,
        shift.previous_level, shift.previous_mixed, shift.previous_state,
        shift.current_level, shift.current_mixed, shift.current_state,
        shift.intensity, shift.triggers, shift.note, shift.sleep_hours,
        shift.request_id, shift.created_at, shift.updated_at, payload;
END
$$;
