-- The date the marts are computed as of: the dbt var `as_of` (yyyy-mm-dd) when set
-- (`dbt build --vars '{as_of: 2025-12-31}'`, `python -m transforms --as-of`), else today.
SELECT {{ as_of_date() }} AS as_of_date
