-- Net, tax and gross per document and tax rate, for every document of cdm.invoices, cdm.credit_notes and
-- cdm.bills. amount_source "tax_amounts": the source's own tax groups (Lexware taxAmounts of invoices and
-- credit notes: after document-level discounts, tax rounded per document and rate); "lines": the
-- document's lines summed per rate (bookkeeping vouchers, whose positions are already per rate, and any
-- invoice or credit note whose taxAmounts are missing or malformed; line tax is rounded per line and
-- document-level discounts are not in it). remote_id is the document's remote id plus ":" and the rate.
WITH source_groups AS (
    SELECT tenant_id, remote_id, tax_rate_percent, net_amount, tax_amount, gross_amount
    FROM (
        SELECT
            tenant_id, remote_id, tax_rate_percent, net_amount, tax_amount, gross_amount,
            bool_and(tax_rate_percent IS NOT NULL AND net_amount IS NOT NULL AND tax_amount IS NOT NULL)
                OVER (PARTITION BY tenant_id, remote_id) AS is_complete
        FROM {{ ref('stg_lexware__sales_voucher_tax_amounts') }}
    ) AS t
    WHERE is_complete
),

line_groups AS (
    SELECT l.tenant_id, l.remote_id, l.tax_rate_percent, sum(l.net_amount) AS net_amount,
        sum(l.tax_amount) AS tax_amount, sum(l.gross_amount) AS gross_amount
    FROM {{ ref('stg_lexware__document_lines') }} AS l
    WHERE l.net_amount IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM source_groups AS s WHERE s.tenant_id = l.tenant_id AND s.remote_id = l.remote_id)
    GROUP BY l.tenant_id, l.remote_id, l.tax_rate_percent
),

groups AS (
    SELECT *, 'tax_amounts' AS amount_source FROM source_groups
    UNION ALL
    SELECT *, 'lines' FROM line_groups
)

SELECT
    d.id || ':' || coalesce(g.tax_rate_percent::VARCHAR, '?') AS id,
    d.tenant_id, d.source_system, g.remote_id || ':' || coalesce(g.tax_rate_percent::VARCHAR, '?') AS remote_id,
    d.remote_version, d.remote_created_at, d.remote_updated_at, d.loaded_at, d.is_deleted, d.raw_table,
    d.id AS document_id,
    CASE d.document_family
        WHEN 'invoice' THEN 'invoices' WHEN 'credit_note' THEN 'credit_notes' WHEN 'bill' THEN 'bills'
    END AS document_table,
    d.document_kind,
    g.tax_rate_percent,
    d.currency_code,
    g.net_amount::DECIMAL(18, 2) AS net_amount,
    g.tax_amount::DECIMAL(18, 2) AS tax_amount,
    g.gross_amount::DECIMAL(18, 2) AS gross_amount,
    g.amount_source
FROM groups AS g
JOIN {{ ref('stg_lexware__documents') }} AS d
    ON d.tenant_id = g.tenant_id AND d.remote_id = g.remote_id AND NOT d.is_rejected
