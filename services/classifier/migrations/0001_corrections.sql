-- Corrections people made to a signal's life domains: the classifier's training data.
-- Kept per taxonomy: a classifier learns only from rows of its own taxonomy_id.
CREATE TABLE classifier_corrections (
    correction_id      uuid        PRIMARY KEY,
    signal_id          uuid        NOT NULL,
    taxonomy_id        text        NOT NULL,
    domains            text[]      NOT NULL CHECK (cardinality(domains) >= 1),
    text               text        NOT NULL,
    municipality       text        NOT NULL,
    corrected_by_role  text        NOT NULL,
    corrected_at       timestamptz NOT NULL,
    reason             text,
    stored_at          timestamptz NOT NULL DEFAULT now()
);

-- The training query takes the latest correction per signal of one taxonomy.
CREATE INDEX classifier_corrections_latest
    ON classifier_corrections (taxonomy_id, signal_id, corrected_at DESC, correction_id DESC);
