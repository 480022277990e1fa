-- The hot path (storing classified signals) paid a per-row foreign-key check on three tables:
-- each one a lookup of the parent row that also locks it (FOR KEY SHARE), i.e. writes to the
-- signals page just written. Together they cost PostgreSQL more than the inserts themselves.
-- The storage guarantees what they checked: every batch inserts a signal before (and in the
-- same transaction as) its classifications, domains and current tags, and nothing updates a
-- signal_id. What they still did — remove a signal's rows with the signal — a statement-level
-- trigger does below, once per DELETE instead of once per inserted row.
-- signal_corrections keeps its key: corrections are rare and come from people.
ALTER TABLE signal_classifications DROP CONSTRAINT IF EXISTS signal_classifications_signal_id_fkey;
ALTER TABLE signal_domains
    DROP CONSTRAINT IF EXISTS signal_domains_signal_id_classifier_version_fkey;
ALTER TABLE signal_current_tags DROP CONSTRAINT IF EXISTS signal_current_tags_signal_id_fkey;

CREATE FUNCTION signals_delete_dependents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM signal_current_tags AS t USING gone WHERE t.signal_id = gone.signal_id;
    DELETE FROM signal_domains AS d USING gone WHERE d.signal_id = gone.signal_id;
    DELETE FROM signal_classifications AS c USING gone WHERE c.signal_id = gone.signal_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER signals_delete_dependents AFTER DELETE ON signals
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION signals_delete_dependents();

-- Likewise when a classification alone is removed (no code does today; a manual clean-up of
-- a withdrawn classifier version might).
CREATE FUNCTION signal_classifications_delete_domains() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM signal_domains AS d USING gone
    WHERE d.signal_id = gone.signal_id AND d.classifier_version = gone.classifier_version;
    RETURN NULL;
END;
$$;

CREATE TRIGGER signal_classifications_delete_domains AFTER DELETE ON signal_classifications
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION signal_classifications_delete_domains();
