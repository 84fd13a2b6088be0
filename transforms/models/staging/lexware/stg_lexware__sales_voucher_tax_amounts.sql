WITH groups AS (
    SELECT
        d.tenant_id,
        d.source_system,
        d.remote_id,
        d.document_type,
        d.tax_type,
        unnest(d.tax_amounts) AS ta
    FROM {{ ref('stg_lexware__sales_vouchers') }} AS d
),

typed AS (
    SELECT
        tenant_id,
        source_system,
        remote_id,
        document_type,
        tax_type,
        TRY_CAST(ta.taxRatePercentage AS DECIMAL(5, 2)) AS tax_rate_percent,
        TRY_CAST(ta.netAmount AS DECIMAL(18, 2)) AS net_amount,
        TRY_CAST(ta.taxAmount AS DECIMAL(18, 2)) AS tax_amount
    FROM groups
)

SELECT *, (net_amount + tax_amount)::DECIMAL(18, 2) AS gross_amount
FROM typed
