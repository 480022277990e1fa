-- Theme terms (domain.text.theme_terms of the text) computed at ingest, so compiling a
-- region-wide bundle does not lemmatise a quarter of a million texts again. NULL for rows
-- stored before this migration: the compiler computes those itself.
ALTER TABLE signals ADD COLUMN terms text;

-- Every stored classification paid for this index, and nothing reads it: lookups by signal
-- use the primary key (signal_id, classifier_version), whose prefix serves them as well.
DROP INDEX IF EXISTS signal_classifications_latest;
