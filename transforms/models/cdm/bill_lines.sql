-- Lines of cdm.bills (bookkeeping voucher positions, one per tax rate and posting category): one row per
-- line in document order. line_amount is the source amount (net or gross as
-- the document's tax_type says); net_amount, tax_amount and gross_amount are always filled for priced
-- lines (text lines have none). remote_id is the document's remote id plus ":" and the line number.
SELECT
    d.id || ':' || l.line_number AS id,
    d.tenant_id, d.source_system, l.remote_id || ':' || l.line_number AS remote_id, d.remote_version,
    d.remote_created_at, d.remote_updated_at, d.loaded_at, d.is_deleted, d.raw_table,
    d.id AS bill_id,
    l.line_number, l.line_type, l.name, l.description, l.article_id AS item_id, l.quantity, l.unit_name, l.unit_price_net,
    l.unit_price_gross, l.discount_percent, l.tax_rate_percent, d.currency_code,
    l.line_amount, l.net_amount, l.tax_amount, l.gross_amount, l.posting_category_id, pc.name AS posting_category_name,
    d.changeable_at_source
FROM {{ ref('stg_lexware__document_lines') }} AS l
JOIN {{ ref('bills') }} AS d ON d.tenant_id = l.tenant_id AND d.remote_id = l.remote_id
LEFT JOIN {{ ref('stg_lexware__posting_categories') }} AS pc
    ON pc.tenant_id = l.tenant_id AND pc.remote_id = l.posting_category_remote_id
UNION ALL
SELECT
    d.id || ':' || l.line_number AS id,
    d.tenant_id, d.source_system, l.remote_id || ':' || l.line_number AS remote_id, d.remote_version,
    d.remote_created_at, d.remote_updated_at, d.loaded_at, d.is_deleted, d.raw_table,
    d.id AS bill_id,
    l.line_number, l.line_type, l.name, l.description, l.article_id AS item_id, l.quantity, l.unit_name, l.unit_price_net,
    l.unit_price_gross, l.discount_percent, l.tax_rate_percent, d.currency_code,
    l.line_amount, l.net_amount, l.tax_amount, l.gross_amount, l.posting_category_id, l.posting_category_name,
    d.changeable_at_source
FROM {{ ref('stg_sevdesk__document_lines') }} AS l
JOIN {{ ref('bills') }} AS d
    ON d.tenant_id = l.tenant_id AND d.raw_table = l.raw_table AND d.remote_id = l.remote_id
