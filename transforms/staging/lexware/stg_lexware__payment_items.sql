-- Individual payments booked against a Lexware voucher (paymentItems of /v1/payments), one row each.
-- Amounts are positive; the direction follows the voucher type (see cdm.payments).
-- _issues (item-level, in quarantine.issues under "<voucher remote id>:<item_number>"): a malformed amount
-- or postingDate is blocking: the payment is left out of cdm.payments (its document stays, with the open
-- amount Lexware reports).
-- grain: tenant_id, remote_id, item_number
WITH items AS (
    SELECT
        p.tenant_id,
        p.source_system,
        p.remote_id,
        p.voucher_type,
        unnest(p.payment_items) AS pi,
        generate_subscripts(p.payment_items, 1) AS item_number
    FROM staging.stg_lexware__payments AS p
),

typed AS (
    SELECT
        tenant_id,
        source_system,
        remote_id,
        item_number,
        voucher_type,
        pi.paymentItemType AS payment_type,
        timezone('Europe/Berlin', TRY_CAST(pi.postingDate AS TIMESTAMPTZ))::DATE AS payment_date,
        TRY_CAST(pi.amount AS DECIMAL(18, 2)) AS amount,
        upper(coalesce(pi.currency, 'EUR')) AS currency_code,
        pi AS _pi
    FROM items
)

SELECT
    * EXCLUDE (_pi),
    list_filter([
        CASE WHEN _pi.amount IS NOT NULL AND amount IS NULL THEN {
            'field': 'paymentItems[].amount', 'reason': 'malformed number',
            'source_value': _pi.amount, 'blocking': TRUE
        } END,
        CASE WHEN _pi.postingDate IS NOT NULL AND payment_date IS NULL THEN {
            'field': 'paymentItems[].postingDate', 'reason': 'malformed date',
            'source_value': _pi.postingDate, 'blocking': TRUE
        } END
    ], lambda i: i IS NOT NULL) AS _issues
FROM typed
