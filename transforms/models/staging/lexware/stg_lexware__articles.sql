WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, r.version AS raw_version, r.is_deleted,
        l.inserted_at AS loaded_at,
        from_json(r.raw, '{
            "version": "VARCHAR", "createdDate": "VARCHAR", "updatedDate": "VARCHAR", "archived": "BOOLEAN",
            "title": "VARCHAR", "description": "VARCHAR", "type": "VARCHAR", "articleNumber": "VARCHAR",
            "gtin": "VARCHAR", "note": "VARCHAR", "unitName": "VARCHAR",
            "price": {"netPrice": "VARCHAR", "grossPrice": "VARCHAR", "leadingPrice": "VARCHAR",
                      "taxRate": "VARCHAR"}
        }') AS j
    FROM {{ source('raw_lexware', 'articles') }} AS r
    LEFT JOIN {{ source('raw_lexware', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
)

SELECT
    tenant_id,
    source_system,
    remote_id,
    coalesce(TRY_CAST(j.version AS BIGINT), raw_version) AS remote_version,
    TRY_CAST(j.createdDate AS TIMESTAMPTZ) AS remote_created_at,
    TRY_CAST(j.updatedDate AS TIMESTAMPTZ) AS remote_updated_at,
    loaded_at,
    coalesce(is_deleted, FALSE) AS is_deleted,
    j.title AS name,
    j.description AS description,
    CASE upper(j.type) WHEN 'PRODUCT' THEN 'product' WHEN 'SERVICE' THEN 'service' ELSE 'unknown' END
        AS item_type,
    j.articleNumber AS item_number,
    j.gtin AS gtin,
    j.unitName AS unit_name,
    TRY_CAST(j.price.netPrice AS DECIMAL(18, 4)) AS net_price,
    TRY_CAST(j.price.grossPrice AS DECIMAL(18, 4)) AS gross_price,
    lower(j.price.leadingPrice) AS price_basis,
    TRY_CAST(j.price.taxRate AS DECIMAL(5, 2)) AS tax_rate_percent,
    j.note AS note,
    coalesce(j.archived, FALSE) AS is_archived
FROM src
