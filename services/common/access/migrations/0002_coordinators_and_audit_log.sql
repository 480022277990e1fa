-- Network coordinators get tokens of their own (subject = network id), and every act that
-- matters for accountability is written to an append-only audit log. 0001 stays as applied.

ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_kind_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_kind_check
    CHECK (kind IN ('organisation', 'steering_group', 'coordinator'));

-- Who did what, when. `actor_*` is who acted (a token's kind and subject, or the operator at
-- the command line); `subject_*` is the tenant the act concerns (the organisation, steering
-- group or network), which is how a coordinator's view is filtered to their own network.
-- `event_id` makes a retried request (same decision or correction id) one entry, not two.
CREATE TABLE audit_log (
    entry_id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    action          text        NOT NULL,
    actor_role      text        NOT NULL,
    actor_subject   text,
    actor_token_id  uuid,
    subject_kind    text        NOT NULL
        CHECK (subject_kind IN ('organisation', 'steering_group', 'coordinator', 'system')),
    subject         text,
    target          text,
    details         jsonb       NOT NULL DEFAULT '{}',
    event_id        uuid        UNIQUE
);

CREATE INDEX audit_log_subject ON audit_log (subject_kind, subject, occurred_at);

-- Append-only, enforced by the database itself: no role that can reach this table through
-- Seinpost's code can rewrite history, and neither can a careless psql session.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
