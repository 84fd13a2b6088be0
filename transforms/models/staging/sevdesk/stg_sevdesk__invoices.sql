WITH src AS (
    {{ sevdesk_document_source('invoices', {'invoice_type': 'invoiceType', 'source_status': 'status'}) }}
),

cancelled AS (
    SELECT DISTINCT tenant_id, {{ json_raw_text('raw', 'origin.id') }} AS remote_id
    FROM src
    WHERE invoice_type = 'SR' AND NOT is_deleted AND {{ json_raw_text('raw', 'origin.objectName') }} = 'Invoice'
),

typed AS (
    SELECT
        {{ sevdesk_document_keys('invoices') }},
        s.invoice_type AS source_type,
        'invoice' AS document_family,
        CASE s.invoice_type
            WHEN 'RE' THEN 'invoice' WHEN 'AR' THEN 'advance_invoice' WHEN 'TR' THEN 'partial_invoice'
            WHEN 'ER' THEN 'final_invoice' WHEN 'SR' THEN 'cancellation'
        END AS document_kind,
        {{ json_raw_text('s.raw', 'invoiceNumber') }} AS document_number,
        s.source_status,
        CASE
            WHEN s.invoice_type = 'SR' OR c.remote_id IS NOT NULL THEN 'voided'
            WHEN s.source_status = '100' THEN 'draft'
            WHEN s.source_status = '200' THEN 'open'
            WHEN s.source_status = '750' THEN 'partially_paid'
            WHEN s.source_status = '1000' THEN 'paid'
            ELSE 'unknown'
        END AS status,
        {{ berlin_date(json_raw_text('s.raw', 'invoiceDate')) }} AS issue_date,
        CAST({{ try_decimal(json_raw_text('s.raw', 'timeToPay'), '9, 0') }} AS INTEGER) AS payment_term_days,
        {{ berlin_date(json_raw_text('s.raw', 'deliveryDate')) }} AS service_date,
        {{ berlin_date(json_raw_text('s.raw', 'payDate')) }} AS paid_on,
        {{ json_raw_text('s.raw', 'contact.id') }} AS contact_remote_id,
        {{ json_raw_text('s.raw', 'addressName') }} AS contact_name,
        {{ sevdesk_currency_and_tax() }},
        CASE WHEN s.invoice_type = 'SR' THEN -1 ELSE 1 END AS sign,
        {{ try_decimal(json_raw_text('s.raw', 'sumNet')) }} AS source_net_amount,
        {{ try_decimal(json_raw_text('s.raw', 'sumTax')) }} AS source_tax_amount,
        {{ try_decimal(json_raw_text('s.raw', 'sumGross')) }} AS source_gross_amount,
        coalesce({{ try_decimal(json_raw_text('s.raw', 'sumDiscounts')) }}, 0) AS source_discount_amount,
        {{ try_decimal(json_raw_text('s.raw', 'paidAmount')) }} AS source_paid_amount,
        CASE WHEN s.invoice_type = 'SR' THEN {{ json_raw_text('s.raw', 'origin.id') }} END AS related_invoice_remote_id,
        {{ json_raw_text('s.raw', 'enshrined') }} IS NOT NULL AS is_enshrined,
        {{ json_raw_text('s.raw', 'header') }} AS title,
        {{ json_raw_text('s.raw', 'customerInternalNote') }} AS memo,
        s.raw AS _raw
    FROM src AS s
    LEFT JOIN cancelled AS c ON c.tenant_id = s.tenant_id AND c.remote_id = s.remote_id
)

SELECT
    tenant_id, source_system, remote_id, raw_table, remote_created_at, remote_updated_at, loaded_at, is_deleted,
    source_type, document_family, document_kind, document_number, source_status, status, issue_date,
    issue_date + payment_term_days AS due_date, service_date, paid_on, contact_remote_id, contact_name,
    currency_code, tax_rule_id, source_tax_type, is_net_priced,
    CAST(sign * source_net_amount AS DECIMAL(18, 2)) AS net_amount,
    CAST(sign * source_tax_amount AS DECIMAL(18, 2)) AS tax_amount,
    CAST(sign * source_gross_amount AS DECIMAL(18, 2)) AS gross_amount,
    CAST(sign * source_discount_amount AS DECIMAL(18, 2)) AS discount_amount,
    source_paid_amount, related_invoice_remote_id, payment_term_days, is_enshrined, title, memo,
    {% call issue_list() %}
        {{ issue(
            "source_type IN ('MA', 'WKR')",
            "invoiceType", "not a receivable (dunning letter or recurring template): left out", "source_type", "TRUE"
        ) }},
        {{ issue(
            "document_kind IS NULL AND coalesce(source_type, '') NOT IN ('MA', 'WKR')",
            "invoiceType", "unknown enum value", "source_type", "TRUE"
        ) }},
        {{ issue(
            json_raw_text('_raw', 'invoiceDate') ~ " IS NULL", "invoiceDate", "missing required field", "NULL", "TRUE"
        ) }},
        {{ issue(
            json_raw_text('_raw', 'invoiceDate') ~ " IS NOT NULL AND issue_date IS NULL",
            "invoiceDate", "malformed date", json_raw_text('_raw', 'invoiceDate'), "TRUE"
        ) }},
        {{ issue(
            "source_gross_amount IS NULL", "sumGross", "missing or malformed number",
            json_raw_text('_raw', 'sumGross'), "TRUE"
        ) }},
        {{ issue(
            "status = 'unknown'", "status", "unknown enum value", "source_status", "FALSE"
        ) }},
        {{ issue(
            json_raw_text('_raw', 'timeToPay') ~ " IS NOT NULL AND payment_term_days IS NULL",
            "timeToPay", "malformed number", json_raw_text('_raw', 'timeToPay'), "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM typed
