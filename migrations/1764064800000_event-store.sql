-- Up Migration

-- The event log: the only source of truth. Read tables are derived from it.
CREATE TABLE events (
  -- assigned at insert but visible at commit: never order or checkpoint on it alone
  position bigint GENERATED ALWAYS AS IDENTITY,
  -- the writing transaction; global order is (transaction_id, position)
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_id text NOT NULL,
  -- 0 for a stream's first event; the unique index is the optimistic-concurrency check
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
-- expected: n >= 0 version of the stream's last event, -1 no stream, -2 any, -3 stream exists.
-- The optimistic check is the unique (stream_id, stream_version) index: each append's first event is
-- inserted at the version after the expected one with ON CONFLICT DO NOTHING (which waits for a
-- concurrent writer of the same version and then yields), so the whole batch costs one INSERT on the
-- hot path. The rest of an append's events follow only if its first event won. A stream appears at most
-- once per batch (the client batches that way).
-- One row per append: outcome 'appended' | 'duplicate' (its event ids are already in that stream: the
-- original result) | 'conflict' (expected version) | 'id_conflict' (event ids used by other events).
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
  ok_idx int[];
  ok_stream text[];
  ok_version bigint[];
  ok_position bigint[];
  ok_tx xid8;
  multi_event boolean;
BEGIN
  WITH a AS (
    SELECT (t.ord - 1)::int AS idx, t.value->>'stream' AS stream, (t.value->>'expected')::bigint AS expected,
           t.value->'events'->0 AS first, jsonb_array_length(t.value->'events') > 1 AS multi
      FROM jsonb_array_elements(appends) WITH ORDINALITY AS t(value, ord)
  ), v AS (
    SELECT a.idx, a.stream, a.first, a.multi,
           CASE
             WHEN a.expected = -1 THEN 0
             WHEN a.expected >= 0 THEN
               CASE WHEN EXISTS (SELECT 1 FROM events x WHERE x.stream_id = a.stream AND x.stream_version = a.expected)
                    THEN a.expected + 1 END
             WHEN a.expected = -2 THEN
               coalesce((SELECT max(x.stream_version) FROM events x WHERE x.stream_id = a.stream) + 1, 0)
             ELSE (SELECT max(x.stream_version) FROM events x WHERE x.stream_id = a.stream) + 1
           END AS version
      FROM a
  ), inserted AS (
    INSERT INTO events (stream_id, stream_version, category, event_id, event_type, data, metadata)
    SELECT v.stream, v.version, split_part(v.stream, '-', 1), (v.first->>'id')::uuid, v.first->>'type',
           v.first->'data', v.first->'metadata'
      FROM v WHERE v.version IS NOT NULL
     ORDER BY v.idx
    ON CONFLICT DO NOTHING
    RETURNING events.stream_id, events.stream_version, events.position, events.transaction_id
  )
  SELECT array_agg(v.idx), array_agg(v.stream), array_agg(inserted.stream_version), array_agg(inserted.position),
         max(inserted.transaction_id), bool_or(v.multi)
    INTO ok_idx, ok_stream, ok_version, ok_position, ok_tx, multi_event
    FROM inserted JOIN v ON v.stream = inserted.stream_id;
  ok_idx := coalesce(ok_idx, '{}');

  IF cardinality(ok_idx) > 0 AND NOT multi_event THEN
    RETURN QUERY
      SELECT o.idx, 'appended'::text, o.version, ok_tx, o.position
        FROM unnest(ok_idx, ok_version, ok_position) AS o(idx, version, position);
    PERFORM pg_notify('hatch_events', '');
  ELSIF cardinality(ok_idx) > 0 THEN
    -- The remaining events of the appends whose first event won.
    RETURN QUERY
      WITH ok AS (
        SELECT * FROM unnest(ok_idx, ok_stream, ok_version, ok_position) AS o(idx, stream, version, position)
      ), rest AS (
        INSERT INTO events (stream_id, stream_version, category, event_id, event_type, data, metadata)
        SELECT ok.stream, ok.version + e.ord - 1, split_part(ok.stream, '-', 1), (e.value->>'id')::uuid,
               e.value->>'type', e.value->'data', e.value->'metadata'
          FROM ok,
               jsonb_array_elements(appends->ok.idx->'events') WITH ORDINALITY AS e(value, ord)
         WHERE e.ord > 1
         ORDER BY ok.idx, e.ord
        RETURNING events.stream_id, events.stream_version, events.position
      ), last AS (
        SELECT rest.stream_id, max(rest.stream_version) AS version, max(rest.position) AS position
          FROM rest GROUP BY rest.stream_id
      )
      SELECT ok.idx, 'appended'::text, coalesce(last.version, ok.version), ok_tx, coalesce(last.position, ok.position)
        FROM ok LEFT JOIN last ON last.stream_id = ok.stream;
    PERFORM pg_notify('hatch_events', '');
  END IF;

  IF cardinality(ok_idx) < jsonb_array_length(appends) THEN
    -- Appends that did not go in: a retry of events already in the log, or a lost version check.
    RETURN QUERY
      WITH lost AS (
        SELECT (t.ord - 1)::int AS idx, t.value->>'stream' AS stream, t.value->'events' AS events
          FROM jsonb_array_elements(appends) WITH ORDINALITY AS t(value, ord)
         WHERE (t.ord - 1)::int <> ALL (ok_idx)
      ), known AS (
        SELECT lost.idx, count(x.event_id) AS found, bool_and(x.stream_id = lost.stream) AS same_stream,
               jsonb_array_length(lost.events) AS n, max(x.stream_version) AS version,
               max(x.transaction_id) AS tx, max(x.position) AS position
          FROM lost
          CROSS JOIN LATERAL jsonb_array_elements(lost.events) AS e(value)
          LEFT JOIN events x ON x.event_id = (e.value->>'id')::uuid
         GROUP BY lost.idx, lost.events
      )
      SELECT lost.idx,
             CASE WHEN known.found = 0 THEN 'conflict'
                  WHEN known.same_stream AND known.found = known.n THEN 'duplicate'
                  ELSE 'id_conflict' END,
             CASE WHEN known.found = 0
                  THEN (SELECT max(x.stream_version) FROM events x WHERE x.stream_id = lost.stream)
                  ELSE known.version END,
             CASE WHEN known.found = 0 THEN NULL ELSE known.tx END,
             CASE WHEN known.found = 0 THEN NULL ELSE known.position END
        FROM lost JOIN known ON known.idx = lost.idx;
  END IF;
END;
$fn$;

-- Down Migration
DROP FUNCTION hatch_append_events(jsonb);
DROP TABLE subscription_checkpoints;
DROP TABLE events;
