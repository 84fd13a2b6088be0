-- Lexware payment information (/v1/payments/{voucherId}), one row per voucher: open amount, payment
-- status, last payment date; the individual payments stay as a list in `payment_items`.
-- grain: tenant_id, remote_id
WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, r.is_deleted, l.inserted_at AS loaded_at,
        from_json(r.raw, '{
            "openAmount": "VARCHAR", "currency": "VARCHAR", "paymentStatus": "VARCHAR",
            "voucherType": "VARCHAR", "voucherStatus": "VARCHAR", "paidDate": "VARCHAR",
            "paymentItems": [{"paymentItemType": "VARCHAR", "postingDate": "VARCHAR", "amount": "VARCHAR",
                              "currency": "VARCHAR"}]
        }') AS j
    FROM raw_lexware.payments AS r
    LEFT JOIN raw_lexware._dlt_loads AS l ON l.load_id = r._dlt_load_id
)

SELECT
    tenant_id,
    source_system,
    remote_id,
    coalesce(is_deleted, FALSE) AS is_deleted,
    loaded_at,
    TRY_CAST(j.openAmount AS DECIMAL(18, 2)) AS open_amount,
    upper(coalesce(j.currency, 'EUR')) AS currency_code,
    j.paymentStatus AS payment_status,
    lower(j.voucherType) AS voucher_type,
    lower(j.voucherStatus) AS source_status,
    timezone('Europe/Berlin', TRY_CAST(j.paidDate AS TIMESTAMPTZ))::DATE AS paid_on,
    j.paymentItems AS payment_items,
    list_filter([
        CASE WHEN j.openAmount IS NOT NULL AND TRY_CAST(j.openAmount AS DECIMAL(18, 2)) IS NULL THEN {
            'field': 'openAmount', 'reason': 'malformed number', 'source_value': j.openAmount, 'blocking': TRUE
        } END,
        CASE WHEN j.paidDate IS NOT NULL AND TRY_CAST(j.paidDate AS TIMESTAMPTZ) IS NULL THEN {
            'field': 'paidDate', 'reason': 'malformed date', 'source_value': j.paidDate, 'blocking': TRUE
        } END,
        CASE WHEN coalesce(j.paymentStatus, '') NOT IN ('balanced', 'openRevenue', 'openExpense') THEN {
            'field': 'paymentStatus', 'reason': 'unknown enum value',
            'source_value': j.paymentStatus, 'blocking': FALSE
        } END
    ], lambda i: i IS NOT NULL) AS _issues
FROM src
