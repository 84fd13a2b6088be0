{#- The engine-specific SQL of the models, one macro per construct, with a DuckDB (default) and a
    PostgreSQL implementation picked by adapter.dispatch. Everything else in the models is plain SQL.

    Quarantine issues travel with each staging row as a list `_issues` of
    {field, reason, source_value, blocking}; these macros build, test and explode that list. -#}

{#- The marts' as-of date: the `as_of` var (yyyy-mm-dd) or today. -#}
{% macro as_of_date() -%}
    {%- if var('as_of', none) -%} CAST('{{ var("as_of") }}' AS DATE) {%- else -%} current_date {%- endif -%}
{%- endmacro %}

{#- One issue (NULL when `condition` is false): field and reason are literals, source_value an expression. -#}
{% macro issue(condition, field, reason, source_value='NULL', blocking='FALSE') -%}
    {{ return(adapter.dispatch('issue', 'kontor')(condition, field, reason, source_value, blocking)) }}
{%- endmacro %}

{% macro default__issue(condition, field, reason, source_value, blocking) -%}
    CASE WHEN {{ condition }} THEN {
        'field': '{{ field }}', 'reason': '{{ reason }}',
        'source_value': CAST({{ source_value }} AS VARCHAR), 'blocking': {{ blocking }}
    } END
{%- endmacro %}

{% macro postgres__issue(condition, field, reason, source_value, blocking) -%}
    CASE WHEN {{ condition }} THEN jsonb_build_object(
        'field', '{{ field }}', 'reason', '{{ reason }}',
        'source_value', CAST({{ source_value }} AS VARCHAR), 'blocking', {{ blocking }}
    ) END
{%- endmacro %}

{#- The list of the issues in the call block (comma-separated issue() calls), NULLs dropped. -#}
{% macro issue_list() -%}
    {{ return(adapter.dispatch('issue_list', 'kontor')(caller())) }}
{%- endmacro %}

{% macro default__issue_list(items) -%}
    list_filter([{{ items }}], lambda i: i IS NOT NULL)
{%- endmacro %}

{% macro postgres__issue_list(items) -%}
    jsonb_path_query_array(jsonb_build_array({{ items }}), '$[*] ? (@ != null)')
{%- endmacro %}

{#- TRUE when an issue list holds a blocking issue (the row is rejected). -#}
{% macro has_blocking_issue(issues) -%}
    {{ return(adapter.dispatch('has_blocking_issue', 'kontor')(issues)) }}
{%- endmacro %}

{% macro default__has_blocking_issue(issues) -%}
    (len(list_filter({{ issues }}, lambda i: i.blocking)) > 0)
{%- endmacro %}

{% macro postgres__has_blocking_issue(issues) -%}
    jsonb_path_exists({{ issues }}, '$[*] ? (@.blocking == true)')
{%- endmacro %}

{#- FROM-clause item: one row per issue of `issues`, the issue as `alias` (use issue_attr to read it). -#}
{% macro explode_issues(issues, alias) -%}
    {{ return(adapter.dispatch('explode_issues', 'kontor')(issues, alias)) }}
{%- endmacro %}

{% macro default__explode_issues(issues, alias) -%}
    unnest({{ issues }}) AS u ({{ alias }})
{%- endmacro %}

{% macro postgres__explode_issues(issues, alias) -%}
    jsonb_array_elements({{ issues }}) AS u ({{ alias }})
{%- endmacro %}

{#- One attribute of an exploded issue: field, reason, source_value (text) or blocking (boolean). -#}
{% macro issue_attr(alias, name) -%}
    {{ return(adapter.dispatch('issue_attr', 'kontor')(alias, name)) }}
{%- endmacro %}

{% macro default__issue_attr(alias, name) -%}
    {{ alias }}.{{ name }}
{%- endmacro %}

{% macro postgres__issue_attr(alias, name) -%}
    {%- if name == 'blocking' -%} ({{ alias }} ->> 'blocking')::BOOLEAN {%- else -%} ({{ alias }} ->> '{{ name }}') {%- endif -%}
{%- endmacro %}

{#- Number of issues in a list. -#}
{% macro issue_count(issues) -%}
    {{ return(adapter.dispatch('issue_count', 'kontor')(issues)) }}
{%- endmacro %}

{% macro default__issue_count(issues) -%}
    len({{ issues }})
{%- endmacro %}

{% macro postgres__issue_count(issues) -%}
    jsonb_array_length({{ issues }})
{%- endmacro %}

{#- The calendar date in Europe/Berlin of a Lexware dateTime string (whatever offset it carries); NULL
    when it is not a timestamp. Lexware renders dates in Berlin time, so cutting the string would move a
    date sent with another offset. -#}
{% macro berlin_date(expr) -%}
    {{ return(adapter.dispatch('berlin_date', 'kontor')(expr)) }}
{%- endmacro %}

{% macro default__berlin_date(expr) -%}
    CAST(timezone('Europe/Berlin', TRY_CAST({{ expr }} AS TIMESTAMPTZ)) AS DATE)
{%- endmacro %}

{% macro postgres__berlin_date(expr) -%}
    CAST(CAST({{ expr }} AS TIMESTAMPTZ) AT TIME ZONE 'Europe/Berlin' AS DATE)
{%- endmacro %}

{#- Text at a dotted path of a JSON value (`'contact.id'`): NULL when absent; numbers come back as text. -#}
{% macro json_text(expr, path) -%}
    {{ return(adapter.dispatch('json_text', 'kontor')(expr, path)) }}
{%- endmacro %}

{% macro default__json_text(expr, path) -%}
    json_extract_string({{ expr }}, '$.{{ path }}')
{%- endmacro %}

{% macro postgres__json_text(expr, path) -%}
    ({{ expr }} #>> '{ {{- path.split('.') | join(',') -}} }')
{%- endmacro %}

{#- A decimal (precision `spec`) from text, NULL when the text is no number. -#}
{% macro try_decimal(expr, spec='18, 2') -%}
    {{ return(adapter.dispatch('try_decimal', 'kontor')(expr, spec)) }}
{%- endmacro %}

{% macro default__try_decimal(expr, spec) -%}
    TRY_CAST({{ expr }} AS DECIMAL({{ spec }}))
{%- endmacro %}

{% macro postgres__try_decimal(expr, spec) -%}
    CASE WHEN trim({{ expr }}) ~ '^[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$' THEN CAST(trim({{ expr }}) AS NUMERIC({{ spec }})) END
{%- endmacro %}

{#- A timestamp with time zone from ISO text, NULL when the text is no timestamp. -#}
{% macro try_timestamptz(expr) -%}
    {{ return(adapter.dispatch('try_timestamptz', 'kontor')(expr)) }}
{%- endmacro %}

{% macro default__try_timestamptz(expr) -%}
    TRY_CAST({{ expr }} AS TIMESTAMPTZ)
{%- endmacro %}

{% macro postgres__try_timestamptz(expr) -%}
    CASE WHEN {{ expr }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9:.]+([+-][0-9:]+|Z)?)?$' THEN CAST({{ expr }} AS TIMESTAMPTZ) END
{%- endmacro %}

{#- An empty list of text (the type of the contacts' email_addresses / phone_numbers). -#}
{% macro empty_text_list() -%}
    {{ return(adapter.dispatch('empty_text_list', 'kontor')()) }}
{%- endmacro %}

{% macro default__empty_text_list() -%}
    CAST([] AS VARCHAR[])
{%- endmacro %}

{% macro postgres__empty_text_list() -%}
    CAST(ARRAY[] AS VARCHAR[])
{%- endmacro %}

{#- The column type dlt gives a `json` column (the raw payload). -#}
{% macro json_type() -%}
    {{ return(adapter.dispatch('json_type', 'kontor')()) }}
{%- endmacro %}

{% macro default__json_type() -%} JSON {%- endmacro %}

{% macro postgres__json_type() -%} JSONB {%- endmacro %}
