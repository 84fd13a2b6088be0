{#- The grain of a model: the columns together are unique and none of them is NULL.
    Returns one row per duplicated key and one per row with a NULL key column. -#}
{% test unique_key(model, columns) %}
    {{ adapter.dispatch('test_unique_key', 'kontor')(model, columns) }}
{% endtest %}

{#- DuckDB: group the keys' 64-bit hashes first (one number per row instead of the key's strings: half
    the time on the 5 M-row line tables), then group by the key itself only where a hash repeats, so a
    hash collision is never reported as a duplicate. -#}
{% macro default__test_unique_key(model, columns) %}
{%- set key = columns | join(', ') -%}
WITH repeated_hashes AS (
    SELECT hash({{ key }}) AS key_hash
    FROM {{ model }}
    GROUP BY 1
    HAVING count(*) > 1
)
SELECT 'duplicate key' AS problem, count(*) AS row_count
FROM {{ model }}
WHERE hash({{ key }}) IN (SELECT key_hash FROM repeated_hashes)
GROUP BY {{ key }}
HAVING count(*) > 1
UNION ALL
{{ kontor._null_key_rows(model, columns) }}
{% endmacro %}

{% macro postgres__test_unique_key(model, columns) %}
SELECT 'duplicate key' AS problem, count(*) AS row_count
FROM {{ model }}
GROUP BY {{ columns | join(', ') }}
HAVING count(*) > 1
UNION ALL
{{ kontor._null_key_rows(model, columns) }}
{% endmacro %}

{% macro _null_key_rows(model, columns) %}
SELECT 'null key column', 1
FROM {{ model }}
WHERE {% for c in columns %}{{ c }} IS NULL{% if not loop.last %} OR {% endif %}{% endfor %}
{% endmacro %}
