WITH src AS (
    {{ sevdesk_document_source('vouchers', {
        'credit_debit': 'creditDebit', 'voucher_type': 'voucherType', 'source_status': 'status'}) }}
),

typed AS (
    SELECT
        {{ sevdesk_document_keys('vouchers') }},
        s.credit_debit || ':' || coalesce(s.voucher_type, '?') AS source_type,
        CASE WHEN s.voucher_type = 'VOU' THEN
            CASE s.credit_debit WHEN 'C' THEN 'bill' WHEN 'D' THEN 'invoice' END
        END AS document_family,
        CASE WHEN s.voucher_type = 'VOU' THEN
            CASE s.credit_debit WHEN 'C' THEN 'purchase_invoice' WHEN 'D' THEN 'sales_voucher' END
        END AS document_kind,
        {{ json_raw_text('s.raw', 'description') }} AS document_number,
        s.source_status,
        CASE s.source_status
            WHEN '50' THEN 'draft' WHEN '100' THEN 'open' WHEN '150' THEN 'open'
            WHEN '750' THEN 'partially_paid' WHEN '1000' THEN 'paid'
            ELSE 'unknown'
        END AS status,
        {{ berlin_date(json_raw_text('s.raw', 'voucherDate')) }} AS issue_date,
        {{ berlin_date(json_raw_text('s.raw', 'paymentDeadline')) }} AS due_date,
        {{ berlin_date(json_raw_text('s.raw', 'deliveryDate')) }} AS service_date,
        {{ berlin_date(json_raw_text('s.raw', 'payDate')) }} AS paid_on,
        {{ json_raw_text('s.raw', 'supplier.id') }} AS contact_remote_id,
        {{ json_raw_text('s.raw', 'supplierName') }} AS contact_name,
        {{ sevdesk_currency_and_tax() }},
        {{ try_decimal(json_raw_text('s.raw', 'sumNet')) }} AS net_amount,
        {{ try_decimal(json_raw_text('s.raw', 'sumTax')) }} AS tax_amount,
        {{ try_decimal(json_raw_text('s.raw', 'sumGross')) }} AS gross_amount,
        {{ try_decimal(json_raw_text('s.raw', 'paidAmount')) }} AS source_paid_amount,
        {{ json_raw_text('s.raw', 'enshrined') }} IS NOT NULL AS is_enshrined,
        {{ json_raw_text('s.raw', 'description') }} AS title,
        {{ json_raw_text('s.raw', 'voucherType') }} AS voucher_type,
        s.raw AS _raw
    FROM src AS s
)

SELECT
    tenant_id, source_system, remote_id, raw_table, remote_created_at, remote_updated_at, loaded_at, is_deleted,
    source_type, document_family, document_kind, document_number, source_status, status, issue_date,
    due_date, service_date, paid_on, contact_remote_id, contact_name,
    currency_code, tax_rule_id, source_tax_type, is_net_priced, net_amount, tax_amount, gross_amount,
    CAST(0 AS DECIMAL(18, 2)) AS discount_amount, source_paid_amount,
    CAST(NULL AS VARCHAR) AS related_invoice_remote_id, CAST(NULL AS INTEGER) AS payment_term_days,
    is_enshrined, CAST(NULL AS VARCHAR) AS title, CAST(NULL AS VARCHAR) AS memo,
    {% call issue_list() %}
        {{ issue(
            "voucher_type = 'RV'",
            "voucherType", "recurring voucher template, not a booked document: left out", "voucher_type", "TRUE"
        ) }},
        {{ issue(
            "document_kind IS NULL AND coalesce(voucher_type, '') <> 'RV'",
            "creditDebit|voucherType", "unknown enum value", "source_type", "TRUE"
        ) }},
        {{ issue(
            json_raw_text('_raw', 'voucherDate') ~ " IS NULL AND status <> 'draft'",
            "voucherDate", "missing required field", "NULL", "TRUE"
        ) }},
        {{ issue(
            json_raw_text('_raw', 'voucherDate') ~ " IS NOT NULL AND issue_date IS NULL",
            "voucherDate", "malformed date", json_raw_text('_raw', 'voucherDate'), "TRUE"
        ) }},
        {{ issue(
            "gross_amount IS NULL", "sumGross", "missing or malformed number", json_raw_text('_raw', 'sumGross'), "TRUE"
        ) }},
        {{ issue("status = 'unknown'", "status", "unknown enum value", "source_status", "FALSE") }}
    {% endcall %} AS _issues
FROM typed
