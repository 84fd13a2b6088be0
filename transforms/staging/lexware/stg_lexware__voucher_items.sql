-- Positions of Lexware bookkeeping vouchers (voucherItems, grouped by tax rate and posting category),
-- one row per position. `amount` is net or gross depending on the voucher's taxType; net/gross derived.
-- _issues (line-level, in quarantine.issues under "<voucher remote id>:<line_number>"): a malformed amount,
-- taxAmount or taxRatePercent is blocking: the position's net/gross (and revenue by rate) cannot be
-- derived, so the whole voucher is rejected (stg_lexware__documents.is_rejected) rather than kept with
-- positions that no longer add up to its totals.
-- grain: tenant_id, remote_id, line_number
WITH items AS (
    SELECT
        v.tenant_id,
        v.source_system,
        v.remote_id,
        v.tax_type,
        unnest(v.voucher_items) AS vi,
        generate_subscripts(v.voucher_items, 1) AS line_number
    FROM staging.stg_lexware__vouchers AS v
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
    list_filter([
        CASE WHEN _vi.amount IS NOT NULL AND line_amount IS NULL THEN {
            'field': 'voucherItems[].amount', 'reason': 'malformed number',
            'source_value': _vi.amount, 'blocking': TRUE
        } END,
        CASE WHEN _vi.taxAmount IS NOT NULL AND tax_amount IS NULL THEN {
            'field': 'voucherItems[].taxAmount', 'reason': 'malformed number',
            'source_value': _vi.taxAmount, 'blocking': TRUE
        } END,
        CASE WHEN _vi.taxRatePercent IS NOT NULL AND tax_rate_percent IS NULL THEN {
            'field': 'voucherItems[].taxRatePercent', 'reason': 'malformed number',
            'source_value': _vi.taxRatePercent, 'blocking': TRUE
        } END
    ], lambda i: i IS NOT NULL) AS _issues
FROM typed
