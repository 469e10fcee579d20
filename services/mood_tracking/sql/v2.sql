-- mood_tracking's SQL functions, version 2 (migration 0006): log_shift writes its
-- event through the kit's outbox_write, so no domain SQL names outbox columns.
-- The other functions are as version 1 left them.

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
        PERFORM mood_tracking.outbox_write(payload, p_event_headers, p_user_id);
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
