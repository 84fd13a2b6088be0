{#- The grain of a model: the columns together are unique and none of them is NULL.
    Returns one row per duplicated key and one per row with a NULL key column. -#}
{% test unique_key(model, columns) %}
SELECT 'duplicate key' AS problem, count(*) AS row_count
FROM {{ model }}
GROUP BY {{ columns | join(', ') }}
HAVING count(*) > 1
UNION ALL
SELECT 'null key column', 1
FROM {{ model }}
WHERE {% for c in columns %}{{ c }} IS NULL{% if not loop.last %} OR {% endif %}{% endfor %}
{% endtest %}
