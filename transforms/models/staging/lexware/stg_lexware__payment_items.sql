WITH items AS (
    SELECT
        p.tenant_id,
        p.source_system,
        p.remote_id,
        p.voucher_type,
        {{ unnest_with_position('p.payment_items', 'pi', 'item_number') }}
    FROM {{ ref('stg_lexware__payments') }} AS p
),

typed AS (
    SELECT
        tenant_id,
        source_system,
        remote_id,
        item_number,
        voucher_type,
        {{ json_text('pi', 'paymentItemType') }} AS payment_type,
        {{ berlin_date(json_text('pi', 'postingDate')) }} AS payment_date,
        {{ try_cast(json_text('pi', 'amount'), 'DECIMAL(18, 2)') }} AS amount,
        upper(coalesce({{ json_text('pi', 'currency') }}, 'EUR')) AS currency_code,
        pi AS _pi
    FROM items
)

SELECT
    tenant_id,
    source_system,
    remote_id,
    item_number,
    voucher_type,
    payment_type,
    payment_date,
    amount,
    currency_code,
    {% call issue_list() %}
        {{ issue(
            json_text('_pi', 'amount') ~ " IS NOT NULL AND amount IS NULL",
            "paymentItems[].amount", "malformed number", json_text('_pi', 'amount'), "TRUE"
        ) }},
        {{ issue(
            json_text('_pi', 'postingDate') ~ " IS NOT NULL AND payment_date IS NULL",
            "paymentItems[].postingDate", "malformed date", json_text('_pi', 'postingDate'), "TRUE"
        ) }}
    {% endcall %} AS _issues
FROM typed
