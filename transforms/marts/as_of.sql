-- The date the marts are computed as of: the session variable kontor_as_of when set
-- (SET VARIABLE kontor_as_of = DATE '2025-12-31'; the runner's --as-of), else today.
-- grain: as_of_date
SELECT coalesce(getvariable('kontor_as_of')::DATE, current_date) AS as_of_date
