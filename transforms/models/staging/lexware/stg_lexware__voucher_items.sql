WITH items AS (
    SELECT
        v.tenant_id,
        v.source_system,
        v.remote_id,
        v.tax_type,
        {{ unnest_with_position('v.voucher_items', 'vi', 'line_number') }}
    FROM {{ ref('stg_lexware__vouchers') }} AS v
),

typed AS (
    SELECT
        tenant_id,
        source_system,
        remote_id,
        line_number,
        tax_type,
        {{ try_cast(json_text('vi', 'amount'), 'DECIMAL(18, 2)') }} AS line_amount,
        {{ try_cast(json_text('vi', 'taxAmount'), 'DECIMAL(18, 2)') }} AS tax_amount,
        {{ try_cast(json_text('vi', 'taxRatePercent'), 'DECIMAL(5, 2)') }} AS tax_rate_percent,
        {{ json_text('vi', 'categoryId') }} AS posting_category_remote_id,
        vi AS _vi
    FROM items
)

SELECT
    tenant_id,
    source_system,
    remote_id,
    line_number,
    tax_type,
    line_amount,
    tax_amount,
    tax_rate_percent,
    posting_category_remote_id,
    CASE WHEN tax_type = 'gross' THEN line_amount - tax_amount ELSE line_amount END::DECIMAL(18, 2)
        AS net_amount,
    CASE WHEN tax_type = 'gross' THEN line_amount ELSE line_amount + tax_amount END::DECIMAL(18, 2)
        AS gross_amount,
    {% call issue_list() %}
        {{ issue(
            json_text('_vi', 'amount') ~ " IS NOT NULL AND line_amount IS NULL",
            "voucherItems[].amount", "malformed number", json_text('_vi', 'amount'), "TRUE"
        ) }},
        {{ issue(
            json_text('_vi', 'taxAmount') ~ " IS NOT NULL AND tax_amount IS NULL",
            "voucherItems[].taxAmount", "malformed number", json_text('_vi', 'taxAmount'), "TRUE"
        ) }},
        {{ issue(
            json_text('_vi', 'taxRatePercent') ~ " IS NOT NULL AND tax_rate_percent IS NULL",
            "voucherItems[].taxRatePercent", "malformed number", json_text('_vi', 'taxRatePercent'), "TRUE"
        ) }}
    {% endcall %} AS _issues
FROM typed
