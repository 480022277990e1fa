-- Who may talk to Seinpost: reporting organisations and the API tokens of their devices and
-- systems, and the tokens of steering groups. Only a SHA-256 of each token is kept: the secret
-- itself is shown once, when it is created.

CREATE TABLE organisations (
    organisation_id text        PRIMARY KEY CHECK (organisation_id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- municipality keys (trimmed, case-folded): the area the organisation may report for
    municipalities  text[]      NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
    token_id     uuid        PRIMARY KEY,
    token_hash   bytea       NOT NULL UNIQUE,
    kind         text        NOT NULL CHECK (kind IN ('organisation', 'steering_group')),
    subject      text        NOT NULL,
    label        text        NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    scopes       text[]      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
);

CREATE INDEX api_tokens_subject ON api_tokens (kind, subject);
