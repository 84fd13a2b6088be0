-- Products and services a business sells (Lexware articles): one row per item. Invoice and credit-note
-- lines that reference one carry its id in item_id.
-- grain: id
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
    is_archived
FROM staging.stg_lexware__articles
