-- A view: it only reshapes stg_lexware__sales_voucher_lines and stg_lexware__voucher_items, so its 5 M rows
-- are written once, in the cdm line tables, not a second time here (issue 10: CPU of the build).
{{ config(materialized='view') }}

WITH lines AS (
    SELECT
        tenant_id, source_system, remote_id, line_number, line_type, article_remote_id, name, description,
        quantity, unit_name, unit_price_net, unit_price_gross, discount_percent, tax_rate_percent, line_amount,
        net_amount, tax_amount, gross_amount, NULL::VARCHAR AS posting_category_remote_id
    FROM {{ ref('stg_lexware__sales_voucher_lines') }}
    UNION ALL
    SELECT
        tenant_id, source_system, remote_id, line_number, 'voucher_item' AS line_type,
        NULL AS article_remote_id, NULL AS name, NULL AS description, NULL AS quantity, NULL AS unit_name,
        NULL AS unit_price_net, NULL AS unit_price_gross, 0 AS discount_percent, tax_rate_percent,
        line_amount, net_amount, tax_amount, gross_amount, posting_category_remote_id
    FROM {{ ref('stg_lexware__voucher_items') }}
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
