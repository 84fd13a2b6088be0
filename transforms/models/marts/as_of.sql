-- The date the marts are computed as of (yyyy-mm-dd): KONTOR_AS_OF (`python -m transforms --as-of`, Dagster's
-- run config), else the dbt var `as_of` (`dbt build --vars '{as_of: 2025-12-31}'`), else today (macros/as_of.sql).
SELECT {{ as_of_date() }} AS as_of_date
