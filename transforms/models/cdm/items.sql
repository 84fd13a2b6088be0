SELECT
    source_system || ':' || tenant_id || ':' || remote_id AS id,
    tenant_id,
    source_system,
    remote_id,
    remote_version,
    remote_created_at,
    remote_updated_at,
    loaded_at,
    is_deleted,
    'raw_lexware.articles' AS raw_table,
    name,
    description,
    item_type,
    item_number,
    gtin,
    unit_name,
    'EUR' AS currency_code,
    net_price,
    gross_price,
    price_basis,
    tax_rate_percent,
    note,
    CASE WHEN is_archived THEN 'archived' ELSE 'active' END AS status,
    is_archived,
    NOT is_deleted AS changeable_at_source
FROM {{ ref('stg_lexware__articles') }}
UNION ALL
SELECT
    source_system || ':' || tenant_id || ':' || remote_id,
    tenant_id, source_system, remote_id, NULL::BIGINT, remote_created_at, remote_updated_at, loaded_at,
    is_deleted, 'raw_sevdesk.parts', name, description, NULL::VARCHAR, item_number, NULL::VARCHAR, unit_name,
    'EUR', net_price, gross_price, 'net', tax_rate_percent, note,
    CASE WHEN is_archived THEN 'archived' ELSE 'active' END, is_archived, NOT is_deleted
FROM {{ ref('stg_sevdesk__parts') }}
