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
    FROM {{ ref('stg_lexware__sales_vouchers') }} AS d
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
    {% call issue_list() %}
        {{ issue(
            "_li.lineItemAmount IS NULL AND line_type IS DISTINCT FROM 'text'",
            "lineItems[].lineItemAmount", "missing required field", "NULL", "TRUE"
        ) }},
        {{ issue(
            "_li.lineItemAmount IS NOT NULL AND line_amount IS NULL",
            "lineItems[].lineItemAmount", "malformed number", "_li.lineItemAmount", "line_type IS DISTINCT FROM 'text'"
        ) }},
        {{ issue(
            "_li.unitPrice.taxRatePercentage IS NULL AND line_type IS DISTINCT FROM 'text'",
            "lineItems[].unitPrice.taxRatePercentage", "missing required field", "NULL", "TRUE"
        ) }},
        {{ issue(
            "_li.unitPrice.taxRatePercentage IS NOT NULL AND tax_rate_percent IS NULL",
            "lineItems[].unitPrice.taxRatePercentage", "malformed number", "_li.unitPrice.taxRatePercentage", "line_type IS DISTINCT FROM 'text'"
        ) }},
        {{ issue(
            "_li.quantity IS NOT NULL AND quantity IS NULL",
            "lineItems[].quantity", "malformed number", "_li.quantity", "FALSE"
        ) }},
        {{ issue(
            "_li.unitPrice.netAmount IS NOT NULL AND unit_price_net IS NULL",
            "lineItems[].unitPrice.netAmount", "malformed number", "_li.unitPrice.netAmount", "FALSE"
        ) }},
        {{ issue(
            "_li.unitPrice.grossAmount IS NOT NULL AND unit_price_gross IS NULL",
            "lineItems[].unitPrice.grossAmount", "malformed number", "_li.unitPrice.grossAmount", "FALSE"
        ) }},
        {{ issue(
            "_li.discountPercentage IS NOT NULL AND discount_percent IS NULL",
            "lineItems[].discountPercentage", "malformed number", "_li.discountPercentage", "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM amounts
