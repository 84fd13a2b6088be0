SELECT
    r.tenant_id,
    r.source_system,
    r.id AS remote_id,
    coalesce(r.is_deleted, FALSE) AS is_deleted,
    {{ json_text('j', 'name') }} AS name,
    {{ json_text('j', 'type') }} AS category_type,
    {{ json_text('j', 'groupName') }} AS group_name,
    coalesce({{ json_bool('j', 'contactRequired') }}, FALSE) AS contact_required,
    coalesce({{ json_bool('j', 'splitAllowed') }}, FALSE) AS split_allowed
FROM (
    SELECT
        *,
        {{ json_parse('raw', '{"name": "VARCHAR", "type": "VARCHAR", "groupName": "VARCHAR",
                         "contactRequired": "BOOLEAN", "splitAllowed": "BOOLEAN"}') }} AS j
    FROM {{ source('raw_lexware', 'posting_categories') }}
) AS r
