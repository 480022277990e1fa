-- What intake answered for each signal_id: the idempotency record.
-- No text is kept: only a SHA-256 over the canonical submission (salted by its signal_id), so a
-- retry can be recognised as "same" or "different" without storing what the reporter wrote.
CREATE TABLE intake_submissions (
    signal_id     uuid        PRIMARY KEY,
    content_hash  bytea       NOT NULL,
    organisation  text        NOT NULL,
    received_at   timestamptz NOT NULL,
    redactions    jsonb       NOT NULL DEFAULT '[]',
    -- false: reserved, and perhaps published (the process may have stopped between Kafka's
    -- acknowledgement and this flag); a retry with the same content publishes again, which
    -- the consumers absorb because they are idempotent on signal_id.
    published     boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);
