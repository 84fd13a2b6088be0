{#- The engine-specific SQL of the models, one macro per construct, with a DuckDB (default) and a
    PostgreSQL implementation picked by adapter.dispatch. Everything else in the models is plain SQL.

    Quarantine issues travel with each staging row as a list `_issues` of
    {field, reason, source_value, blocking}; these macros build, test and explode that list. -#}

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
    CAST({{ kontor.postgres__try_cast(expr, 'TIMESTAMPTZ') }} AT TIME ZONE 'Europe/Berlin' AS DATE)
{%- endmacro %}

{#- ---- JSON documents of the raw layer ----
    dlt loads each payload as `raw`: JSON on DuckDB, JSONB on PostgreSQL. json_parse reads it once per row
    (DuckDB: from_json into a typed struct, `schema` its JSON structure; PostgreSQL: the JSONB as is); the
    other macros read the parsed document or a part of it. `path` is dotted ("totalPrice.currency";
    a numeric segment is a 0-based array index, "addresses.billing.0"). Values read as text are the JSON
    text (strings as they are, numbers as written); the models cast them with try_cast. -#}
{% macro json_parse(expr, schema) -%}
    {{ return(adapter.dispatch('json_parse', 'kontor')(expr, schema)) }}
{%- endmacro %}

{% macro default__json_parse(expr, schema) -%}
    from_json({{ expr }}, '{{ schema }}')
{%- endmacro %}

{% macro postgres__json_parse(expr, schema) -%}
    CAST({{ expr }} AS JSONB)
{%- endmacro %}

{#- A part of a parsed document (object or array; DuckDB: struct or list), NULL when absent. -#}
{% macro json_get(expr, path) -%}
    {{ return(adapter.dispatch('json_get', 'kontor')(expr, path)) }}
{%- endmacro %}

{% macro default__json_get(expr, path) -%}
    {{ kontor._duckdb_path(expr, path) }}
{%- endmacro %}

{% macro postgres__json_get(expr, path) -%}
    ({{ expr }} #> '{{ kontor._pg_path(path) }}')
{%- endmacro %}

{#- A scalar of a parsed document as text (NULL when absent or JSON null; DuckDB: the struct's VARCHAR
    field). Also tells whether an object is present: json_text(j, 'company') IS NOT NULL. -#}
{% macro json_text(expr, path) -%}
    {{ return(adapter.dispatch('json_text', 'kontor')(expr, path)) }}
{%- endmacro %}

{% macro default__json_text(expr, path) -%}
    {{ kontor._duckdb_path(expr, path) }}
{%- endmacro %}

{% macro postgres__json_text(expr, path) -%}
    ({{ expr }} #>> '{{ kontor._pg_path(path) }}')
{%- endmacro %}

{#- A JSON boolean of a parsed document. -#}
{% macro json_bool(expr, path) -%}
    {{ return(adapter.dispatch('json_bool', 'kontor')(expr, path)) }}
{%- endmacro %}

{% macro default__json_bool(expr, path) -%}
    {{ kontor._duckdb_path(expr, path) }}
{%- endmacro %}

{% macro postgres__json_bool(expr, path) -%}
    CAST({{ expr }} #>> '{{ kontor._pg_path(path) }}' AS BOOLEAN)
{%- endmacro %}

{#- The number of elements of an array (NULL when it is absent). -#}
{% macro json_array_length(expr) -%}
    {{ return(adapter.dispatch('json_array_length', 'kontor')(expr)) }}
{%- endmacro %}

{% macro default__json_array_length(expr) -%}
    len({{ expr }})
{%- endmacro %}

{% macro postgres__json_array_length(expr) -%}
    jsonb_array_length({{ kontor._pg_array(expr) }})
{%- endmacro %}

{#- A part of a document as JSON text (for a quarantine issue's source_value). -#}
{% macro json_to_text(expr) -%}
    {{ return(adapter.dispatch('json_to_text', 'kontor')(expr)) }}
{%- endmacro %}

{% macro default__json_to_text(expr) -%}
    CAST(to_json({{ expr }}) AS VARCHAR)
{%- endmacro %}

{% macro postgres__json_to_text(expr) -%}
    CAST({{ expr }} AS TEXT)
{%- endmacro %}

{#- The first element of an array for which `condition` (SQL on the element `alias`) holds, in array order. -#}
{% macro json_find(expr, alias, condition) -%}
    {{ return(adapter.dispatch('json_find', 'kontor')(expr, alias, condition)) }}
{%- endmacro %}

{% macro default__json_find(expr, alias, condition) -%}
    list_filter({{ expr }}, lambda {{ alias }}: {{ condition }})[1]
{%- endmacro %}

{% macro postgres__json_find(expr, alias, condition) -%}
    (SELECT {{ alias }} FROM jsonb_array_elements({{ kontor._pg_array(expr) }}) WITH ORDINALITY AS _e ({{ alias }}, _n)
        WHERE {{ condition }} ORDER BY _n LIMIT 1)
{%- endmacro %}

{#- The strings of several arrays of a document, concatenated in order, as a list of text (empty, not
    NULL, when there are none; index it from 1). -#}
{% macro json_text_list(expr, paths) -%}
    {{ return(adapter.dispatch('json_text_list', 'kontor')(expr, paths)) }}
{%- endmacro %}

{% macro default__json_text_list(expr, paths) -%}
    coalesce(list_concat(
        {%- for p in paths %}{{ kontor._duckdb_path(expr, p) }}{% if not loop.last %}, {% endif %}{% endfor -%}
    ), [])
{%- endmacro %}

{% macro postgres__json_text_list(expr, paths) -%}
    ARRAY(SELECT _s FROM jsonb_array_elements_text(
        {%- for p in paths %}coalesce({{ kontor._pg_array(expr ~ " #> '" ~ kontor._pg_path(p) ~ "'") }}, '[]'){% if not loop.last %} || {% endif %}{% endfor -%}
    ) WITH ORDINALITY AS _e (_s, _n) ORDER BY _n)
{%- endmacro %}

{#- Select-list items exploding an array: one row per element (as `alias`) with its 1-based position
    (as `position`, when given); no rows for an absent or empty array. -#}
{% macro unnest_with_position(expr, alias, position=none) -%}
    {{ return(adapter.dispatch('unnest_with_position', 'kontor')(expr, alias, position)) }}
{%- endmacro %}

{% macro default__unnest_with_position(expr, alias, position) -%}
    unnest({{ expr }}) AS {{ alias }}
    {%- if position %},
    generate_subscripts({{ expr }}, 1) AS {{ position }}{% endif %}
{%- endmacro %}

{% macro postgres__unnest_with_position(expr, alias, position) -%}
    jsonb_array_elements({{ kontor._pg_array(expr) }}) AS {{ alias }}
    {%- if position %},
    generate_series(CAST(1 AS BIGINT), jsonb_array_length({{ kontor._pg_array(expr) }})) AS {{ position }}{% endif %}
{%- endmacro %}

{#- The value converted to `type`, NULL when it does not convert (DuckDB's TRY_CAST). PostgreSQL has no
    such cast: its functions kontor_try_<type> come from create_engine_functions (on-run-start). -#}
{% macro try_cast(expr, type) -%}
    {{ return(adapter.dispatch('try_cast', 'kontor')(expr, type)) }}
{%- endmacro %}

{% macro default__try_cast(expr, type) -%}
    TRY_CAST({{ expr }} AS {{ type }})
{%- endmacro %}

{% macro postgres__try_cast(expr, type) -%}
    {%- if type not in kontor._pg_try_types() -%}
        {{ exceptions.raise_compiler_error("try_cast: no PostgreSQL function for type " ~ type) }}
    {%- endif -%}
    {{ target.schema }}.{{ kontor._pg_try_function(type) }}(CAST({{ expr }} AS TEXT))
{%- endmacro %}

{#- Run before every dbt build (on-run-start): the PostgreSQL functions try_cast calls; nothing on DuckDB. -#}
{% macro create_engine_functions() -%}
    {{ return(adapter.dispatch('create_engine_functions', 'kontor')()) }}
{%- endmacro %}

{% macro default__create_engine_functions() -%}
    SELECT 1
{%- endmacro %}

{% macro postgres__create_engine_functions() -%}
    {%- for type in kontor._pg_try_types() %}
    CREATE OR REPLACE FUNCTION {{ target.schema }}.{{ kontor._pg_try_function(type) }}(v TEXT) RETURNS {{ type }}
    LANGUAGE plpgsql IMMUTABLE AS $$
    DECLARE r {{ type }};
    BEGIN
        {%- if type == 'TIMESTAMPTZ' %}
        {#- ISO text only, as DuckDB's TRY_CAST: PostgreSQL would read '03.12.2025' as March 12th #}
        IF v !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9:.]+([+-][0-9:]+|Z)?)?$' THEN RETURN NULL; END IF;
        {%- endif %}
        r := CAST(v AS {{ type }});
        {%- if type.startswith('DECIMAL') %}
        IF r = 'NaN' THEN RETURN NULL; END IF;
        {%- endif %}
        RETURN r;
    EXCEPTION WHEN others THEN RETURN NULL;
    END $$;
    {%- endfor %}
{%- endmacro %}

{% macro _pg_try_types() -%}
    {{ return(['BIGINT', 'INTEGER', 'TIMESTAMPTZ', 'DECIMAL(18, 2)', 'DECIMAL(18, 4)', 'DECIMAL(5, 2)']) }}
{%- endmacro %}

{% macro _pg_try_function(type) -%}
    {{- return('kontor_try_' ~ modules.re.sub('[^a-z0-9]+', '_', type | lower).strip('_')) -}}
{%- endmacro %}

{#- DuckDB struct/list path: j.a.b, numeric segments as 1-based list indexes. -#}
{% macro _duckdb_path(expr, path) -%}
    {{- expr -}}
    {%- for seg in path.split('.') -%}
        {%- if seg.isdigit() -%} [{{ seg | int + 1 }}] {%- else -%} .{{ seg }} {%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- PostgreSQL text[] path of #> and #>>: '{a,b,0}'. -#}
{% macro _pg_path(path) -%}
    {{- '{' ~ path.split('.') | join(',') ~ '}' -}}
{%- endmacro %}

{#- A JSONB value when it is an array, else NULL (JSON null, scalars and absent values explode to nothing). -#}
{% macro _pg_array(expr) -%}
    CASE WHEN jsonb_typeof({{ expr }}) = 'array' THEN {{ expr }} END
{%- endmacro %}

{#- Text at a dotted path of a JSON value (`'contact.id'`): NULL when absent; numbers come back as text. -#}
{% macro json_raw_text(expr, path) -%}
    {{ return(adapter.dispatch('json_raw_text', 'kontor')(expr, path)) }}
{%- endmacro %}

{% macro default__json_raw_text(expr, path) -%}
    json_extract_string({{ expr }}, '$.{{ path }}')
{%- endmacro %}

{% macro postgres__json_raw_text(expr, path) -%}
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
