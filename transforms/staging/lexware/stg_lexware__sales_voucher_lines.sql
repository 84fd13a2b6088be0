-- Line items of Lexware invoices and credit notes: one row per line item, in document order.
-- line_amount is Lexware's lineItemAmount: net for taxType net and the vat-free types, gross for taxType
-- gross. net/tax/gross are derived per line (tax rounded per line to cents); text lines have no amounts.
-- _issues (line-level, in quarantine.issues under "<document remote id>:<line_number>"): a missing or
-- malformed lineItemAmount or unitPrice.taxRatePercentage on a priced (non-text) line is blocking: the line's
-- net/tax/gross cannot be derived, so the whole document is rejected (stg_lexware__documents.is_rejected)
-- rather than kept with lines that no longer add up to its totals. A malformed quantity, unit price or
-- discountPercentage is descriptive only: flagged, the value left NULL (a missing discount stays 0).
-- grain: tenant_id, remote_id, line_number
WITH lines AS (
    SELECT
        d.tenant_id,
        d.source_system,
        d.remote_id,
        d.raw_table,
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
        raw_table,
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
        CASE
            WHEN li.discountPercentage IS NULL THEN 0
            ELSE TRY_CAST(li.discountPercentage AS DECIMAL(5, 2))
        END AS discount_percent,
        TRY_CAST(li.lineItemAmount AS DECIMAL(18, 2)) AS line_amount,
        li AS _li
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
    * EXCLUDE (_li),
    CASE
        WHEN tax_type = 'gross' THEN line_amount - net_amount
        ELSE round(net_amount * coalesce(tax_rate_percent, 0) / 100, 2)
    END::DECIMAL(18, 2) AS tax_amount,
    CASE
        WHEN tax_type = 'gross' THEN line_amount
        ELSE net_amount + round(net_amount * coalesce(tax_rate_percent, 0) / 100, 2)
    END::DECIMAL(18, 2) AS gross_amount,
    list_filter([
        CASE WHEN _li.lineItemAmount IS NULL AND line_type IS DISTINCT FROM 'text' THEN {
            'field': 'lineItems[].lineItemAmount', 'reason': 'missing required field',
            'source_value': NULL::VARCHAR, 'blocking': TRUE
        } WHEN _li.lineItemAmount IS NOT NULL AND line_amount IS NULL THEN {
            'field': 'lineItems[].lineItemAmount', 'reason': 'malformed number',
            'source_value': _li.lineItemAmount, 'blocking': line_type IS DISTINCT FROM 'text'
        } END,
        CASE WHEN _li.unitPrice.taxRatePercentage IS NULL AND line_type IS DISTINCT FROM 'text' THEN {
            'field': 'lineItems[].unitPrice.taxRatePercentage', 'reason': 'missing required field',
            'source_value': NULL::VARCHAR, 'blocking': TRUE
        } WHEN _li.unitPrice.taxRatePercentage IS NOT NULL AND tax_rate_percent IS NULL THEN {
            'field': 'lineItems[].unitPrice.taxRatePercentage', 'reason': 'malformed number',
            'source_value': _li.unitPrice.taxRatePercentage, 'blocking': line_type IS DISTINCT FROM 'text'
        } END,
        CASE WHEN _li.quantity IS NOT NULL AND quantity IS NULL THEN {
            'field': 'lineItems[].quantity', 'reason': 'malformed number',
            'source_value': _li.quantity, 'blocking': FALSE
        } END,
        CASE WHEN _li.unitPrice.netAmount IS NOT NULL AND unit_price_net IS NULL THEN {
            'field': 'lineItems[].unitPrice.netAmount', 'reason': 'malformed number',
            'source_value': _li.unitPrice.netAmount, 'blocking': FALSE
        } END,
        CASE WHEN _li.unitPrice.grossAmount IS NOT NULL AND unit_price_gross IS NULL THEN {
            'field': 'lineItems[].unitPrice.grossAmount', 'reason': 'malformed number',
            'source_value': _li.unitPrice.grossAmount, 'blocking': FALSE
        } END,
        CASE WHEN _li.discountPercentage IS NOT NULL AND discount_percent IS NULL THEN {
            'field': 'lineItems[].discountPercentage', 'reason': 'malformed number',
            'source_value': _li.discountPercentage, 'blocking': FALSE
        } END
    ], lambda i: i IS NOT NULL) AS _issues
FROM amounts
