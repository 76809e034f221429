"""Tables made by create_all before migrations: compare their shape with the baseline revision's."""

from __future__ import annotations

from sqlalchemy import Connection, inspect

from app.store.tables import metadata

Shape = dict[str, dict[str, object]]


def relay_tables_present(conn: Connection) -> set[str]:
    """The relay's own tables in the database's default schema (other tables are not ours)."""
    return set(inspect(conn).get_table_names()) & set(metadata.tables)


def table_shapes(conn: Connection, names: set[str]) -> Shape:
    """Names, nullability and keys of each table: what a migration relies on, on any dialect."""
    inspector = inspect(conn)
    shapes: Shape = {}
    for name in sorted(set(inspector.get_table_names()) & names):
        shapes[name] = {
            "columns": {
                c["name"]: "null" if c["nullable"] else "not null"
                for c in inspector.get_columns(name)
            },
            "primary key": tuple(inspector.get_pk_constraint(name)["constrained_columns"]),
            "indexes": {
                index["name"]: (tuple(index["column_names"]), bool(index["unique"]))
                for index in inspector.get_indexes(name)
                # PostgreSQL lists the index behind each unique constraint too.
                if not index.get("duplicates_constraint")
            },
            "unique constraints": sorted(
                tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(name)
            ),
            "foreign keys": sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                )
                for fk in inspector.get_foreign_keys(name)
            ),
        }
    return shapes


def describe_difference(expected: Shape, actual: Shape) -> str:
    """What differs, in a few words per table; empty when the shapes are the same."""
    problems = [f"unexpected table {name}" for name in sorted(set(actual) - set(expected))]
    for name, want in expected.items():
        got = actual.get(name)
        if got is None:
            problems.append(f"table {name} missing")
            continue
        for aspect, wanted in want.items():
            if got[aspect] != wanted:
                problems.append(f"{name} {aspect}: {_delta(wanted, got[aspect])}")
    return "; ".join(problems)


def _delta(wanted: object, got: object) -> str:
    if not (isinstance(wanted, dict) and isinstance(got, dict)):
        return f"expected {wanted}, found {got}"
    parts = [f"missing {key}" for key in wanted if key not in got]
    parts += [f"unexpected {key}" for key in got if key not in wanted]
    parts += [
        f"{key} is {got[key]}, expected {wanted[key]}"
        for key in wanted
        if key in got and got[key] != wanted[key]
    ]
    return ", ".join(parts)
