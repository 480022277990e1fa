-- Retention: free text is removed after the retention period, counts stay. 0001-0003 stay as
-- they were applied.

-- When a signal's text (and its theme terms, a lemmatised copy of the text) were removed.
ALTER TABLE signals ADD COLUMN text_purged_at timestamptz;
CREATE INDEX signals_text_kept ON signals (observed_on) WHERE text_purged_at IS NULL;

-- When a bundle's example texts and decision notes were removed.
ALTER TABLE bundles ADD COLUMN examples_purged_at timestamptz;

-- Published bundles stay immutable, with one exception: the retention purge may, once, replace
-- a bundle's body and HTML (example texts and notes removed, every count the same) and set
-- examples_purged_at. It announces itself with a transaction-local setting, so an ordinary
-- UPDATE still fails exactly as before.
CREATE OR REPLACE FUNCTION bundles_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.published_at IS NOT NULL THEN
            RAISE EXCEPTION 'bundle % is published and cannot be deleted', OLD.bundle_id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF current_setting('seinpost.retention_purge', true) = 'on'
       AND OLD.examples_purged_at IS NULL AND NEW.examples_purged_at IS NOT NULL
       AND (to_jsonb(NEW) - '{body,html,examples_purged_at}'::text[])
           IS NOT DISTINCT FROM (to_jsonb(OLD) - '{body,html,examples_purged_at}'::text[]) THEN
        RETURN NEW;
    END IF;
    IF OLD.published_at IS NOT NULL
       OR (to_jsonb(NEW) - 'published_at') IS DISTINCT FROM (to_jsonb(OLD) - 'published_at') THEN
        RAISE EXCEPTION 'bundle % is immutable; compile a new version instead', OLD.bundle_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;
