-- Steering groups, current domain tags with human corrections, versioned bundles with themes,
-- and decisions. 0001 stays as it was applied (its checksum is checked at every start).

-- Which feedback an organisation may read is looked up by its own signals.
CREATE INDEX signals_organisation ON signals (organisation);

-- Human corrections (CorrectionV1, or a classified event with source = 'correction'), kept as
-- history: who changed the tags of a signal, when, why, and to what.
CREATE TABLE signal_corrections (
    correction_id      uuid PRIMARY KEY,
    signal_id          uuid        NOT NULL REFERENCES signals (signal_id) ON DELETE CASCADE,
    domains            text[]      NOT NULL CHECK (cardinality(domains) >= 1),
    corrected_by_role  text        NOT NULL,
    corrected_at       timestamptz NOT NULL,
    reason             text,
    taxonomy_id        text,
    stored_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX signal_corrections_signal ON signal_corrections (signal_id, corrected_at DESC);

-- The tags a bundle uses, one row per signal. Maintained by an upsert that only replaces a row
-- with one that ranks higher: (is a correction, effective time, tie-break). The order in which
-- classifications and corrections arrive therefore does not matter, and a replay converges on
-- the same row.
CREATE TABLE signal_current_tags (
    signal_id           uuid PRIMARY KEY REFERENCES signals (signal_id) ON DELETE CASCADE,
    source              text        NOT NULL CHECK (source IN ('model', 'correction')),
    source_rank         smallint    NOT NULL,
    effective_at        timestamptz NOT NULL,
    tie_break           text        NOT NULL,
    classifier_version  text,
    correction_id       uuid,
    domains             text[]      NOT NULL,
    primary_domain      text,
    needs_review        boolean     NOT NULL
);

-- "What was, what is, who changed it" in one place.
CREATE VIEW signal_tag_history AS
SELECT c.signal_id, 'model'::text AS source, c.classified_at AS changed_at,
       c.classifier_version AS changed_by, NULL::text AS reason,
       coalesce(
           (SELECT array_agg(d.domain ORDER BY d.score DESC) FROM signal_domains d
            WHERE d.signal_id = c.signal_id AND d.classifier_version = c.classifier_version),
           '{}'
       ) AS domains
FROM signal_classifications c
UNION ALL
SELECT k.signal_id, 'correction', k.corrected_at, k.corrected_by_role, k.reason, k.domains
FROM signal_corrections k;

CREATE TABLE networks (
    network_id  text PRIMARY KEY,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE steering_groups (
    steering_group_id    text PRIMARY KEY,
    network_id           text REFERENCES networks (network_id),
    name                 text        NOT NULL,
    -- Municipality names as configured, and their keys (lower-case) for matching signals.
    municipalities       text[]      NOT NULL CHECK (cardinality(municipalities) >= 1),
    municipality_keys    text[]      NOT NULL,
    neighbourhoods       text[],     -- NULL: the whole municipalities
    domains_of_interest  text[],     -- NULL: every life domain
    cadence              text        NOT NULL CHECK (cadence IN ('monthly', 'quarterly', 'custom')),
    period_months        integer     NOT NULL CHECK (period_months BETWEEN 1 AND 36),
    min_group_size       integer     NOT NULL CHECK (min_group_size >= 2),
    -- The scheduler compiles periods that close on or after this day only, so adding a group
    -- does not trigger a backlog of bundles for years nobody asked about.
    active_from          date        NOT NULL DEFAULT current_date,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- Bundles per steering group and period are versioned: a recompilation is version n + 1.
ALTER TABLE bundles
    ADD COLUMN steering_group_id text REFERENCES steering_groups (steering_group_id),
    ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN trigger text NOT NULL DEFAULT 'on_demand' CHECK (trigger IN ('on_demand', 'scheduled')),
    ADD COLUMN html text;

CREATE UNIQUE INDEX bundles_group_period_version
    ON bundles (steering_group_id, period_start, period_end, version)
    WHERE steering_group_id IS NOT NULL;

CREATE INDEX bundles_unpublished ON bundles (compiled_at) WHERE published_at IS NULL;

-- Immutable once published: only the publication mark may be set, once; nothing is deleted.
CREATE FUNCTION bundles_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.published_at IS NOT NULL THEN
            RAISE EXCEPTION 'bundle % is published and cannot be deleted', OLD.bundle_id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.published_at IS NOT NULL
       OR (to_jsonb(NEW) - 'published_at') IS DISTINCT FROM (to_jsonb(OLD) - 'published_at') THEN
        RAISE EXCEPTION 'bundle % is immutable; compile a new version instead', OLD.bundle_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER bundles_immutable BEFORE UPDATE OR DELETE ON bundles
    FOR EACH ROW EXECUTE FUNCTION bundles_immutable();

CREATE TABLE bundle_themes (
    bundle_id     uuid    NOT NULL REFERENCES bundles (bundle_id),
    theme_id      text    NOT NULL,
    label         text    NOT NULL,
    domain        text,
    -- The theme's shared terms, so the next bundle can recognise it when it returns.
    terms         text[]  NOT NULL DEFAULT '{}',
    signal_count  integer NOT NULL,
    PRIMARY KEY (bundle_id, theme_id)
);

CREATE TABLE theme_signals (
    bundle_id  uuid NOT NULL,
    theme_id   text NOT NULL,
    signal_id  uuid NOT NULL,
    PRIMARY KEY (bundle_id, theme_id, signal_id),
    FOREIGN KEY (bundle_id, theme_id) REFERENCES bundle_themes (bundle_id, theme_id)
);

CREATE INDEX theme_signals_signal ON theme_signals (signal_id);

-- Decisions of a steering group on a theme, as events (DecisionV1): every one is kept.
CREATE TABLE decisions (
    decision_id        uuid PRIMARY KEY,
    steering_group_id  text        NOT NULL,
    theme_id           text        NOT NULL,
    bundle_id          uuid,
    status             text        NOT NULL,
    owner              text,
    note               text,
    decided_at         timestamptz NOT NULL,
    decided_by         text,
    stored_at          timestamptz NOT NULL DEFAULT now(),
    source_topic       text        NOT NULL,
    source_partition   integer     NOT NULL,
    source_offset      bigint      NOT NULL
);

CREATE INDEX decisions_theme ON decisions (steering_group_id, theme_id, decided_at DESC);

-- Signals stored before this migration get their current tags from their latest classification.
INSERT INTO signal_current_tags (
    signal_id, source, source_rank, effective_at, tie_break, classifier_version, correction_id,
    domains, primary_domain, needs_review
)
SELECT DISTINCT ON (c.signal_id)
       c.signal_id, 'model', 0, c.classified_at, c.classifier_version, c.classifier_version, NULL,
       coalesce(
           (SELECT array_agg(d.domain ORDER BY d.score DESC, d.domain) FROM signal_domains d
            WHERE d.signal_id = c.signal_id AND d.classifier_version = c.classifier_version),
           '{}'
       ),
       c.primary_domain, c.needs_review
FROM signal_classifications c
ORDER BY c.signal_id, c.classified_at DESC, c.classifier_version DESC;
