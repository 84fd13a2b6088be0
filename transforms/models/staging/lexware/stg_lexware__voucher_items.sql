WITH items AS (
    SELECT
        v.tenant_id,
        v.source_system,
        v.remote_id,
        v.tax_type,
        unnest(v.voucher_items) AS vi,
        generate_subscripts(v.voucher_items, 1) AS line_number
    FROM {{ ref('stg_lexware__vouchers') }} AS v
),

typed AS (
    SELECT
        tenant_id,
        source_system,
        remote_id,
        line_number,
        tax_type,
        TRY_CAST(vi.amount AS DECIMAL(18, 2)) AS line_amount,
        TRY_CAST(vi.taxAmount AS DECIMAL(18, 2)) AS tax_amount,
        TRY_CAST(vi.taxRatePercent AS DECIMAL(5, 2)) AS tax_rate_percent,
        vi.categoryId AS posting_category_remote_id,
        vi AS _vi
    FROM items
)

SELECT
    * EXCLUDE (_vi),
    CASE WHEN tax_type = 'gross' THEN line_amount - tax_amount ELSE line_amount END::DECIMAL(18, 2)
        AS net_amount,
    CASE WHEN tax_type = 'gross' THEN line_amount ELSE line_amount + tax_amount END::DECIMAL(18, 2)
        AS gross_amount,
    {% call issue_list() %}
        {{ issue(
            "_vi.amount IS NOT NULL AND line_amount IS NULL",
            "voucherItems[].amount", "malformed number", "_vi.amount", "TRUE"
        ) }},
        {{ issue(
            "_vi.taxAmount IS NOT NULL AND tax_amount IS NULL",
            "voucherItems[].taxAmount", "malformed number", "_vi.taxAmount", "TRUE"
        ) }},
        {{ issue(
            "_vi.taxRatePercent IS NOT NULL AND tax_rate_percent IS NULL",
            "voucherItems[].taxRatePercent", "malformed number", "_vi.taxRatePercent", "TRUE"
        ) }}
    {% endcall %} AS _issues
FROM typed
