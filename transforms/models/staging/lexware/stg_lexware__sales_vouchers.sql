WITH raw_documents AS (
    SELECT tenant_id, source_system, id, version, is_deleted, _dlt_load_id, raw,
        'invoice' AS document_type, 'raw_lexware.invoices' AS raw_table
    FROM {{ source('raw_lexware', 'invoices') }}
    UNION ALL
    SELECT tenant_id, source_system, id, version, is_deleted, _dlt_load_id, raw,
        'creditnote' AS document_type, 'raw_lexware.credit_notes' AS raw_table
    FROM {{ source('raw_lexware', 'credit_notes') }}
),

src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, r.version AS raw_version, r.is_deleted,
        l.inserted_at AS loaded_at, r.document_type, r.raw_table,
        {{ json_parse('r.raw', '{
            "version": "VARCHAR", "createdDate": "VARCHAR", "updatedDate": "VARCHAR",
            "archived": "BOOLEAN", "voucherStatus": "VARCHAR", "voucherNumber": "VARCHAR",
            "voucherDate": "VARCHAR", "dueDate": "VARCHAR",
            "address": {"contactId": "VARCHAR", "name": "VARCHAR"},
            "lineItems": [{"id": "VARCHAR", "type": "VARCHAR", "name": "VARCHAR", "description": "VARCHAR",
                           "quantity": "VARCHAR", "unitName": "VARCHAR",
                           "unitPrice": {"netAmount": "VARCHAR", "grossAmount": "VARCHAR",
                                         "taxRatePercentage": "VARCHAR"},
                           "discountPercentage": "VARCHAR", "lineItemAmount": "VARCHAR"}],
            "totalPrice": {"currency": "VARCHAR", "totalNetAmount": "VARCHAR", "totalGrossAmount": "VARCHAR",
                           "totalTaxAmount": "VARCHAR", "totalDiscountAbsolute": "VARCHAR"},
            "taxAmounts": [{"taxRatePercentage": "VARCHAR", "taxAmount": "VARCHAR", "netAmount": "VARCHAR"}],
            "taxConditions": {"taxType": "VARCHAR"},
            "paymentConditions": {"paymentTermDuration": "VARCHAR"},
            "shippingConditions": {"shippingDate": "VARCHAR"},
            "relatedVouchers": [{"id": "VARCHAR", "voucherType": "VARCHAR"}],
            "title": "VARCHAR", "remark": "VARCHAR"
        }') }} AS j
    FROM raw_documents AS r
    LEFT JOIN {{ source('raw_lexware', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
),

typed AS (
    SELECT
        src.tenant_id,
        src.source_system,
        src.remote_id,
        src.document_type,
        src.raw_table,
        coalesce({{ try_cast(json_text('j', 'version'), 'BIGINT') }}, src.raw_version) AS remote_version,
        {{ try_cast(json_text('j', 'createdDate'), 'TIMESTAMPTZ') }} AS remote_created_at,
        {{ try_cast(json_text('j', 'updatedDate'), 'TIMESTAMPTZ') }} AS remote_updated_at,
        src.loaded_at,
        coalesce(src.is_deleted, FALSE) AS is_deleted,
        {{ json_text('j', 'voucherNumber') }} AS document_number,
        lower({{ json_text('j', 'voucherStatus') }}) AS source_status,
        coalesce(s.status, 'unknown') AS status,
        {{ berlin_date(json_text('j', 'voucherDate')) }} AS issue_date,
        {{ berlin_date(json_text('j', 'dueDate')) }} AS due_date,
        {{ berlin_date(json_text('j', 'shippingConditions.shippingDate')) }} AS service_date,
        {{ json_text('j', 'address.contactId') }} AS contact_remote_id,
        {{ json_text('j', 'address.name') }} AS contact_name,
        upper(coalesce({{ json_text('j', 'totalPrice.currency') }}, 'EUR')) AS currency_code,
        {{ json_text('j', 'taxConditions.taxType') }} AS tax_type,
        {{ try_cast(json_text('j', 'totalPrice.totalNetAmount'), 'DECIMAL(18, 2)') }} AS net_amount,
        {{ try_cast(json_text('j', 'totalPrice.totalTaxAmount'), 'DECIMAL(18, 2)') }} AS tax_amount,
        {{ try_cast(json_text('j', 'totalPrice.totalGrossAmount'), 'DECIMAL(18, 2)') }} AS gross_amount,
        coalesce({{ try_cast(json_text('j', 'totalPrice.totalDiscountAbsolute'), 'DECIMAL(18, 2)') }}, 0) AS discount_amount,
        {{ try_cast(json_text('j', 'paymentConditions.paymentTermDuration'), 'INTEGER') }} AS payment_term_days,
        {{ json_text(json_find(json_get('j', 'relatedVouchers'), 'v', json_text('v', 'voucherType') ~ " = 'invoice'"), 'id') }}
            AS related_invoice_remote_id,
        coalesce({{ json_bool('j', 'archived') }}, FALSE) AS is_archived,
        {{ json_text('j', 'title') }} AS title,
        {{ json_text('j', 'remark') }} AS memo,
        {{ json_get('j', 'lineItems') }} AS line_items,
        {{ json_get('j', 'taxAmounts') }} AS tax_amounts,
        j AS _j
    FROM src
    LEFT JOIN {{ ref('stg_lexware__voucher_statuses') }} AS s ON s.source_status = lower({{ json_text('j', 'voucherStatus') }})
)

SELECT
    tenant_id, source_system, remote_id, document_type, raw_table, remote_version, remote_created_at,
    remote_updated_at, loaded_at, is_deleted, document_number, source_status, status, issue_date, due_date,
    service_date, contact_remote_id, contact_name, currency_code, tax_type, net_amount, tax_amount, gross_amount,
    discount_amount, payment_term_days, related_invoice_remote_id, is_archived, title, memo, line_items,
    tax_amounts,
    {% call issue_list() %}
        {{ issue(json_text('_j', 'voucherDate') ~ " IS NULL", "voucherDate", "missing required field", "NULL", "TRUE") }},
        {{ issue(
            json_text('_j', 'voucherDate') ~ " IS NOT NULL AND issue_date IS NULL",
            "voucherDate", "malformed date", json_text('_j', 'voucherDate'), "TRUE"
        ) }},
        {{ issue(
            json_text('_j', 'dueDate') ~ " IS NOT NULL AND due_date IS NULL",
            "dueDate", "malformed date", json_text('_j', 'dueDate'), "TRUE"
        ) }},
        {{ issue(
            json_text('_j', 'totalPrice.totalGrossAmount') ~ " IS NULL",
            "totalPrice.totalGrossAmount", "missing required field", "NULL", "TRUE"
        ) }},
        {{ issue(
            json_text('_j', 'totalPrice.totalGrossAmount') ~ " IS NOT NULL AND gross_amount IS NULL",
            "totalPrice.totalGrossAmount", "malformed number", json_text('_j', 'totalPrice.totalGrossAmount'), "TRUE"
        ) }},
        {{ issue(
            "status = 'unknown'",
            "voucherStatus", "unknown enum value", json_text('_j', 'voucherStatus'), "FALSE"
        ) }},
        {{ issue(
            json_text('_j', 'updatedDate') ~ " IS NOT NULL AND remote_updated_at IS NULL",
            "updatedDate", "malformed date", json_text('_j', 'updatedDate'), "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM typed
