WITH items AS (
    SELECT
        p.tenant_id,
        p.source_system,
        p.remote_id,
        p.voucher_type,
        unnest(p.payment_items) AS pi,
        generate_subscripts(p.payment_items, 1) AS item_number
    FROM {{ ref('stg_lexware__payments') }} AS p
),

typed AS (
    SELECT
        tenant_id,
        source_system,
        remote_id,
        item_number,
        voucher_type,
        pi.paymentItemType AS payment_type,
        {{ berlin_date('pi.postingDate') }} AS payment_date,
        TRY_CAST(pi.amount AS DECIMAL(18, 2)) AS amount,
        upper(coalesce(pi.currency, 'EUR')) AS currency_code,
        pi AS _pi
    FROM items
)

SELECT
    * EXCLUDE (_pi),
    {% call issue_list() %}
        {{ issue(
            "_pi.amount IS NOT NULL AND amount IS NULL",
            "paymentItems[].amount", "malformed number", "_pi.amount", "TRUE"
        ) }},
        {{ issue(
            "_pi.postingDate IS NOT NULL AND payment_date IS NULL",
            "paymentItems[].postingDate", "malformed date", "_pi.postingDate", "TRUE"
        ) }}
    {% endcall %} AS _issues
FROM typed
