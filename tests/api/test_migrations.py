"""Models and migrations agree (alembic check), on both backends."""

from ciimap.core.migrate import check


def test_alembic_check(database):
    check(database.url)
