WITH sales_positions AS (
    SELECT p.*, 'raw_sevdesk.invoices' AS raw_table, d.is_net_priced
    FROM {{ ref('stg_sevdesk__invoice_positions') }} AS p
    JOIN {{ ref('stg_sevdesk__invoices') }} AS d ON d.tenant_id = p.tenant_id AND d.remote_id = p.remote_id
    WHERE NOT p.is_deleted
    UNION ALL
    SELECT p.*, 'raw_sevdesk.credit_notes', d.is_net_priced
    FROM {{ ref('stg_sevdesk__credit_note_positions') }} AS p
    JOIN {{ ref('stg_sevdesk__credit_notes') }} AS d ON d.tenant_id = p.tenant_id AND d.remote_id = p.remote_id
    WHERE NOT p.is_deleted
),

lines AS (
    SELECT
        tenant_id, source_system, raw_table, remote_id, line_number,
        CASE WHEN article_remote_id IS NOT NULL THEN 'article' ELSE 'custom' END AS line_type,
        article_remote_id, name, description, quantity, unit_name, unit_price_net, unit_price_gross,
        discount_percent, tax_rate_percent,
        CASE WHEN is_net_priced THEN net_amount ELSE gross_amount END AS line_amount,
        net_amount, tax_amount, gross_amount,
        CAST(NULL AS VARCHAR) AS posting_category_remote_id, CAST(NULL AS VARCHAR) AS posting_category_name
    FROM sales_positions
    UNION ALL
    SELECT
        tenant_id, source_system, 'raw_sevdesk.vouchers', remote_id, line_number, 'voucher_item',
        NULL, NULL, description, NULL, NULL, NULL, NULL, 0, tax_rate_percent,
        CASE WHEN is_net THEN net_amount ELSE gross_amount END,
        net_amount, tax_amount, gross_amount, posting_category_remote_id, posting_category_name
    FROM {{ ref('stg_sevdesk__voucher_positions') }}
    WHERE NOT is_deleted
)

SELECT
    *,
    CASE WHEN article_remote_id IS NOT NULL THEN source_system || ':' || tenant_id || ':' || article_remote_id END
        AS article_id,
    CASE
        WHEN posting_category_remote_id IS NOT NULL
            THEN source_system || ':' || tenant_id || ':' || posting_category_remote_id
    END AS posting_category_id
FROM lines
