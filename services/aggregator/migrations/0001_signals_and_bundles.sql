-- Signals as intake accepted them (text already scrubbed), one row per signal_id.
CREATE TABLE signals (
    signal_id         uuid PRIMARY KEY,
    schema_version    text        NOT NULL,
    observed_on       date        NOT NULL,
    submitted_at      timestamptz NOT NULL,
    received_at       timestamptz NOT NULL,
    stored_at         timestamptz NOT NULL DEFAULT now(),
    text              text        NOT NULL,
    municipality      text        NOT NULL,
    neighbourhood     text,
    vindplaats        text        NOT NULL,
    reporter_role     text        NOT NULL,
    knowledge_type    text        NOT NULL,
    target_group      jsonb       NOT NULL,
    families_count    integer,
    organisation      text        NOT NULL,
    redactions        jsonb       NOT NULL,
    -- Where the row came from, so a replay or an audit can find the record again.
    source_topic      text        NOT NULL,
    source_partition  integer     NOT NULL,
    source_offset     bigint      NOT NULL
);

CREATE INDEX signals_area_period ON signals (lower(municipality), observed_on);

-- Every classification a signal received, kept as history: a new classifier version adds a
-- row instead of overwriting what the previous one said.
CREATE TABLE signal_classifications (
    signal_id           uuid        NOT NULL REFERENCES signals (signal_id) ON DELETE CASCADE,
    classifier_version  text        NOT NULL,
    taxonomy_version    text        NOT NULL,
    classified_at       timestamptz NOT NULL,
    stored_at           timestamptz NOT NULL DEFAULT now(),
    primary_domain      text,
    needs_review        boolean     NOT NULL,
    scores              jsonb       NOT NULL,
    PRIMARY KEY (signal_id, classifier_version)
);

CREATE INDEX signal_classifications_latest
    ON signal_classifications (signal_id, classified_at DESC);

CREATE TABLE signal_domains (
    signal_id           uuid    NOT NULL,
    classifier_version  text    NOT NULL,
    domain              text    NOT NULL,
    score               real    NOT NULL CHECK (score BETWEEN 0 AND 1),
    evidence            jsonb   NOT NULL,
    PRIMARY KEY (signal_id, classifier_version, domain),
    FOREIGN KEY (signal_id, classifier_version)
        REFERENCES signal_classifications (signal_id, classifier_version) ON DELETE CASCADE
);

-- Compiled bundles are immutable: a recompilation is a new bundle, never an update.
CREATE TABLE bundles (
    bundle_id       uuid PRIMARY KEY,
    municipality    text        NOT NULL,
    period_start    date        NOT NULL,
    period_end      date        NOT NULL,
    compiled_at     timestamptz NOT NULL,
    min_group_size  integer     NOT NULL,
    body            jsonb       NOT NULL,
    published_at    timestamptz,
    CHECK (period_end >= period_start)
);

CREATE INDEX bundles_area_period ON bundles (lower(municipality), period_start, period_end);
