WITH groups AS (
    SELECT
        d.tenant_id,
        d.source_system,
        d.remote_id,
        d.document_type,
        d.tax_type,
        {{ unnest_with_position('d.tax_amounts', 'ta') }}
    FROM {{ ref('stg_lexware__sales_vouchers') }} AS d
),

typed AS (
    SELECT
        tenant_id,
        source_system,
        remote_id,
        document_type,
        tax_type,
        {{ try_cast(json_text('ta', 'taxRatePercentage'), 'DECIMAL(5, 2)') }} AS tax_rate_percent,
        {{ try_cast(json_text('ta', 'netAmount'), 'DECIMAL(18, 2)') }} AS net_amount,
        {{ try_cast(json_text('ta', 'taxAmount'), 'DECIMAL(18, 2)') }} AS tax_amount
    FROM groups
)

SELECT *, (net_amount + tax_amount)::DECIMAL(18, 2) AS gross_amount
FROM typed
