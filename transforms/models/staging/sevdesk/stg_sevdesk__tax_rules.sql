SELECT
    r.tenant_id,
    r.source_system,
    r.id AS remote_id,
    coalesce(r.is_deleted, FALSE) AS is_deleted,
    l.inserted_at AS loaded_at,
    {{ json_raw_text('r.raw', 'code') }} AS code,
    {{ json_raw_text('r.raw', 'name') }} AS name,
    coalesce(t.tax_type, 'unknown') AS tax_type,
    {% call issue_list() %}
        {{ issue("t.tax_type IS NULL", "TaxRule.id", "unknown enum value", "r.id", "FALSE") }}
    {% endcall %} AS _issues
FROM {{ source('raw_sevdesk', 'tax_rules') }} AS r
LEFT JOIN {{ source('raw_sevdesk', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
LEFT JOIN {{ ref('stg_sevdesk__tax_types') }} AS t ON t.scheme = 'taxRule' AND t.source_value = r.id
