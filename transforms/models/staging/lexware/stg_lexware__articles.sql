WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, r.version AS raw_version, r.is_deleted,
        l.inserted_at AS loaded_at,
        {{ json_parse('r.raw', '{
            "version": "VARCHAR", "createdDate": "VARCHAR", "updatedDate": "VARCHAR", "archived": "BOOLEAN",
            "title": "VARCHAR", "description": "VARCHAR", "type": "VARCHAR", "articleNumber": "VARCHAR",
            "gtin": "VARCHAR", "note": "VARCHAR", "unitName": "VARCHAR",
            "price": {"netPrice": "VARCHAR", "grossPrice": "VARCHAR", "leadingPrice": "VARCHAR",
                      "taxRate": "VARCHAR"}
        }') }} AS j
    FROM {{ source('raw_lexware', 'articles') }} AS r
    LEFT JOIN {{ source('raw_lexware', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
)

SELECT
    tenant_id,
    source_system,
    remote_id,
    coalesce({{ try_cast(json_text('j', 'version'), 'BIGINT') }}, raw_version) AS remote_version,
    {{ try_cast(json_text('j', 'createdDate'), 'TIMESTAMPTZ') }} AS remote_created_at,
    {{ try_cast(json_text('j', 'updatedDate'), 'TIMESTAMPTZ') }} AS remote_updated_at,
    loaded_at,
    coalesce(is_deleted, FALSE) AS is_deleted,
    {{ json_text('j', 'title') }} AS name,
    {{ json_text('j', 'description') }} AS description,
    CASE upper({{ json_text('j', 'type') }}) WHEN 'PRODUCT' THEN 'product' WHEN 'SERVICE' THEN 'service' ELSE 'unknown' END
        AS item_type,
    {{ json_text('j', 'articleNumber') }} AS item_number,
    {{ json_text('j', 'gtin') }} AS gtin,
    {{ json_text('j', 'unitName') }} AS unit_name,
    {{ try_cast(json_text('j', 'price.netPrice'), 'DECIMAL(18, 4)') }} AS net_price,
    {{ try_cast(json_text('j', 'price.grossPrice'), 'DECIMAL(18, 4)') }} AS gross_price,
    lower({{ json_text('j', 'price.leadingPrice') }}) AS price_basis,
    {{ try_cast(json_text('j', 'price.taxRate'), 'DECIMAL(5, 2)') }} AS tax_rate_percent,
    {{ json_text('j', 'note') }} AS note,
    coalesce({{ json_bool('j', 'archived') }}, FALSE) AS is_archived
FROM src
