-- Every stored signal paid for the partial index signals_text_kept (0004): one more index
-- entry per row, about a tenth of the WAL of a signal's insert. Only the retention purge reads
-- it, once a day, and one sequential scan of the signals table serves that purge as well.
-- 0001-0005 stay as they were applied.
DROP INDEX IF EXISTS signals_text_kept;
