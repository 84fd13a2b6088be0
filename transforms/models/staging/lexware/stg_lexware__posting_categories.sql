SELECT
    r.tenant_id,
    r.source_system,
    r.id AS remote_id,
    coalesce(r.is_deleted, FALSE) AS is_deleted,
    j.name AS name,
    j.type AS category_type,
    j.groupName AS group_name,
    coalesce(j.contactRequired, FALSE) AS contact_required,
    coalesce(j.splitAllowed, FALSE) AS split_allowed
FROM (
    SELECT
        *,
        from_json(raw, '{"name": "VARCHAR", "type": "VARCHAR", "groupName": "VARCHAR",
                         "contactRequired": "BOOLEAN", "splitAllowed": "BOOLEAN"}') AS j
    FROM {{ source('raw_lexware', 'posting_categories') }}
) AS r
