-- Line items of Lexware invoices and credit notes: one row per line item, in document order.
-- line_amount is Lexware's lineItemAmount: net for taxType net and the vat-free types, gross for taxType
-- gross. net/tax/gross are derived per line (tax rounded per line to cents); text lines have no amounts.
-- grain: tenant_id, remote_id, line_number
WITH lines AS (
    SELECT
        d.tenant_id,
        d.source_system,
        d.remote_id,
        d.document_type,
        d.tax_type,
        d.currency_code,
        unnest(d.line_items) AS li,
        generate_subscripts(d.line_items, 1) AS line_number
    FROM staging.stg_lexware__sales_vouchers AS d
),

typed AS (
    SELECT
        tenant_id,
        source_system,
        remote_id,
        line_number,
        document_type,
        tax_type,
        currency_code,
        li.type AS line_type,
        li.id AS article_remote_id,
        li.name AS name,
        li.description AS description,
        TRY_CAST(li.quantity AS DECIMAL(18, 4)) AS quantity,
        li.unitName AS unit_name,
        TRY_CAST(li.unitPrice.netAmount AS DECIMAL(18, 4)) AS unit_price_net,
        TRY_CAST(li.unitPrice.grossAmount AS DECIMAL(18, 4)) AS unit_price_gross,
        TRY_CAST(li.unitPrice.taxRatePercentage AS DECIMAL(5, 2)) AS tax_rate_percent,
        coalesce(TRY_CAST(li.discountPercentage AS DECIMAL(5, 2)), 0) AS discount_percent,
        TRY_CAST(li.lineItemAmount AS DECIMAL(18, 2)) AS line_amount
    FROM lines
),

amounts AS (
    SELECT
        *,
        CASE
            WHEN tax_type = 'gross'
                THEN round(line_amount / (1 + coalesce(tax_rate_percent, 0) / 100), 2)
            ELSE line_amount
        END::DECIMAL(18, 2) AS net_amount
    FROM typed
)

SELECT
    *,
    CASE
        WHEN tax_type = 'gross' THEN line_amount - net_amount
        ELSE round(net_amount * coalesce(tax_rate_percent, 0) / 100, 2)
    END::DECIMAL(18, 2) AS tax_amount,
    CASE
        WHEN tax_type = 'gross' THEN line_amount
        ELSE net_amount + round(net_amount * coalesce(tax_rate_percent, 0) / 100, 2)
    END::DECIMAL(18, 2) AS gross_amount
FROM amounts
