-- Version 3 of the shift's facts: the named state and intensity join the levels,
-- for session memory and the assistant (which read no mood data either).
-- Migration 0015 installs it; log_shift (v2.sql) is unchanged.

CREATE OR REPLACE FUNCTION mood_tracking.shift_facts(p_shift_id uuid, p_crossings integer) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
-- What other services need to know of a shift, worked out where the data
-- is: the event carries facts, and no other service reads mood data.
-- drop_24h: how far the mood fell to this shift from its highest point in
-- the 24 hours before, this shift's own starting level included.
BEGIN
    RETURN (
        SELECT jsonb_build_object(
            'shift_id', s.shift_id, 'user_id', s.user_id, 'occurred_at', s.occurred_at,
            'local_date', s.local_date, 'previous_level', s.previous_level,
            'current_level', s.current_level, 'current_mixed', s.current_mixed,
            'current_state', s.current_state, 'intensity', s.intensity,
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
