"""Lint-time stand-ins for the dbt cross-database macros the models call (`dbt.bool_or(...)`,
`dbt.listagg(...)`): SQLFluff's jinja templater adds this module to its context as `dbt`
(library_path in .sqlfluff). They render the Postgres/DuckDB form the duckdb dialect parses."""


def bool_or(expression):
    return f"bool_or({expression})"


def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
    order_by = f" {order_by_clause}" if order_by_clause else ""
    return f"string_agg({measure}, {delimiter_text}{order_by})"


def escape_single_quotes(expression):
    return expression.replace("'", "''")
