-- Up Migration

-- The event log: the only source of truth. Read tables are derived from it.
CREATE TABLE event_streams (
  stream_id text PRIMARY KEY,
  -- version of the stream's last event; the first event of a stream has version 0
  version bigint NOT NULL
);

CREATE TABLE events (
  -- assigned at insert but visible at commit: never order or checkpoint on it alone
  position bigint GENERATED ALWAYS AS IDENTITY,
  -- the writing transaction; global order is (transaction_id, position)
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_id text NOT NULL,
  stream_version bigint NOT NULL,
  category text NOT NULL,
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX events_stream_version_idx ON events (stream_id, stream_version);
CREATE UNIQUE INDEX events_event_id_idx ON events (event_id);
CREATE INDEX events_global_order_idx ON events (transaction_id, position);

-- Consumers' checkpoints (projections, dispatcher, relay). Updated inside the consumer's own
-- transaction, compare-and-set on the previous position so a stale owner cannot move it.
CREATE TABLE subscription_checkpoints (
  subscription_id text PRIMARY KEY,
  position text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Appends a batch of independent appends in ONE transaction (group commit).
-- appends: [{"stream": text, "expected": bigint, "events": [{"id","type","data","metadata"}]}]
-- expected: n >= 0 exact version of the last event, -1 no stream, -2 any, -3 stream exists.
-- One row per append: outcome 'appended' | 'duplicate' | 'conflict' (expected version) | 'id_conflict'
-- (event ids already used by other events).
-- A conflict or a duplicate does not abort the other appends of the batch.
CREATE FUNCTION hatch_append_events(appends jsonb)
RETURNS TABLE (
  append_index int,
  outcome text,
  stream_version bigint,
  transaction_id xid8,
  last_position bigint
)
LANGUAGE plpgsql AS $fn$
DECLARE
  a jsonb;
  i int := -1;
  n int;
  s text;
  expected bigint;
  cur bigint;
  ids uuid[];
  dup record;
  ev_index int[] := '{}';
  ev_stream text[] := '{}';
  ev_version bigint[] := '{}';
  ev_id uuid[] := '{}';
  ev_type text[] := '{}';
  ev_data jsonb[] := '{}';
  ev_meta jsonb[] := '{}';
  e jsonb;
  k int;
BEGIN
  FOR a IN SELECT value FROM jsonb_array_elements(appends) LOOP
    i := i + 1;
    s := a->>'stream';
    expected := (a->>'expected')::bigint;
    n := jsonb_array_length(a->'events');
    SELECT array_agg((x->>'id')::uuid) INTO ids FROM jsonb_array_elements(a->'events') x;

    -- Idempotent re-append: the events are already in the log, answer with the original result.
    SELECT max(ev.stream_version) AS v, max(ev.position) AS p, max(ev.transaction_id) AS t,
           bool_and(ev.stream_id = s) AS same_stream, count(*) AS c
      INTO dup FROM events ev WHERE ev.event_id = ANY(ids);
    IF dup.c > 0 THEN
      IF dup.same_stream AND dup.c = n THEN
        append_index := i; outcome := 'duplicate'; stream_version := dup.v;
        transaction_id := dup.t; last_position := dup.p;
        RETURN NEXT;
      ELSE
        append_index := i; outcome := 'id_conflict'; stream_version := NULL;
        transaction_id := NULL; last_position := NULL;
        RETURN NEXT;
      END IF;
      CONTINUE;
    END IF;

    cur := NULL;
    IF expected = -1 THEN
      INSERT INTO event_streams AS es VALUES (s, n - 1) ON CONFLICT (stream_id) DO NOTHING;
      IF FOUND THEN cur := -1; END IF;
    ELSIF expected = -2 THEN
      INSERT INTO event_streams AS es VALUES (s, n - 1)
        ON CONFLICT (stream_id) DO UPDATE SET version = es.version + n
        RETURNING es.version - n INTO cur;
    ELSIF expected = -3 THEN
      UPDATE event_streams es SET version = es.version + n WHERE es.stream_id = s
        RETURNING es.version - n INTO cur;
    ELSE
      UPDATE event_streams es SET version = es.version + n WHERE es.stream_id = s AND es.version = expected;
      IF FOUND THEN cur := expected; END IF;
    END IF;

    IF cur IS NULL THEN
      append_index := i; outcome := 'conflict';
      SELECT es.version INTO stream_version FROM event_streams es WHERE es.stream_id = s;
      transaction_id := NULL; last_position := NULL;
      RETURN NEXT;
      CONTINUE;
    END IF;

    k := 0;
    FOR e IN SELECT value FROM jsonb_array_elements(a->'events') LOOP
      k := k + 1;
      ev_index := ev_index || i;
      ev_stream := ev_stream || s;
      ev_version := ev_version || (cur + k);
      ev_id := ev_id || (e->>'id')::uuid;
      ev_type := ev_type || (e->>'type');
      ev_data := ev_data || (e->'data');
      ev_meta := ev_meta || (e->'metadata');
    END LOOP;
  END LOOP;

  IF cardinality(ev_id) > 0 THEN
    RETURN QUERY
      WITH input AS (
        SELECT * FROM unnest(ev_index, ev_stream, ev_version, ev_id, ev_type, ev_data, ev_meta)
          WITH ORDINALITY AS t(idx, stream_id, stream_version, event_id, event_type, data, metadata, ord)
      ), inserted AS (
        INSERT INTO events (stream_id, stream_version, category, event_id, event_type, data, metadata)
        SELECT input.stream_id, input.stream_version, split_part(input.stream_id, '-', 1),
               input.event_id, input.event_type, input.data, input.metadata
          FROM input ORDER BY input.ord
        RETURNING events.event_id, events.position, events.transaction_id, events.stream_version
      )
      SELECT input.idx, 'appended'::text, max(inserted.stream_version), max(inserted.transaction_id),
             max(inserted.position)
        FROM inserted JOIN input USING (event_id)
       GROUP BY input.idx;
    PERFORM pg_notify('hatch_events', '');
  END IF;
END;
$fn$;

-- Down Migration
DROP FUNCTION hatch_append_events(jsonb);
DROP TABLE subscription_checkpoints;
DROP TABLE events;
DROP TABLE event_streams;
