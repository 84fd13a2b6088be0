SELECT
    r.tenant_id,
    r.source_system,
    r.id AS remote_id,
    {{ try_timestamptz(json_raw_text('r.raw', 'create')) }} AS remote_created_at,
    {{ try_timestamptz(json_raw_text('r.raw', 'update')) }} AS remote_updated_at,
    l.inserted_at AS loaded_at,
    coalesce(r.is_deleted, FALSE) AS is_deleted,
    {{ json_raw_text('r.raw', 'name') }} AS name,
    {{ json_raw_text('r.raw', 'text') }} AS description,
    {{ json_raw_text('r.raw', 'partNumber') }} AS item_number,
    {{ json_raw_text('u.raw', 'name') }} AS unit_name,
    coalesce(
        {{ try_decimal(json_raw_text('r.raw', 'priceNet'), '18, 4') }},
        {{ try_decimal(json_raw_text('r.raw', 'price'), '18, 4') }}
    ) AS net_price,
    {{ try_decimal(json_raw_text('r.raw', 'priceGross'), '18, 4') }} AS gross_price,
    {{ try_decimal(json_raw_text('r.raw', 'taxRate'), '5, 2') }} AS tax_rate_percent,
    {{ json_raw_text('r.raw', 'internalComment') }} AS note,
    {{ json_raw_text('r.raw', 'status') }} AS source_status,
    {{ json_raw_text('r.raw', 'status') }} = '50' AS is_archived
FROM {{ source('raw_sevdesk', 'parts') }} AS r
LEFT JOIN {{ source('raw_sevdesk', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
LEFT JOIN {{ source('raw_sevdesk', 'unities') }} AS u
    ON u.tenant_id = r.tenant_id AND u.id = {{ json_raw_text('r.raw', 'unity.id') }}
