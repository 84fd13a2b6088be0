-- Individual payments booked against a Lexware voucher (paymentItems of /v1/payments), one row each.
-- Amounts are positive; the direction follows the voucher type (see cdm.payments).
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
)

SELECT
    tenant_id,
    source_system,
    remote_id,
    item_number,
    voucher_type,
    pi.paymentItemType AS payment_type,
    TRY_CAST(left(pi.postingDate, 10) AS DATE) AS payment_date,
    TRY_CAST(pi.amount AS DECIMAL(18, 2)) AS amount,
    upper(coalesce(pi.currency, 'EUR')) AS currency_code
FROM items
