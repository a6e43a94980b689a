"""职称系列分布查询 from a maintained aggregate: persons per employer unit, title series, title level and status

Revision ID: 0020
Revises: 0014
Create Date: 2026-12-01 18:50:00

``stat_unit_title`` holds, per employer unit, title series (0: none), title level (0: none) and status, the
number of persons (every status: the page filters by status). It is kept by triggers on ``person`` of its own,
beside those of 0014 and in the same way: on PostgreSQL statement-level triggers over transition tables (one
grouped upsert per statement, so set-based UPDATEs, batch approvals and a COPY of a million persons add one
delta each), on SQLite row-level triggers. The distribution page sums its rows by the units' organisation path
(some 100,000 rows for the province of 1,000,000 persons instead of the persons' index entries). The SQL is
written out here so this revision stays what it was when later code changes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0014'
branch_labels = None
depends_on = None

TRIGGERS = ("stat_title_insert", "stat_title_delete", "stat_title_update")
KEYS = "org_id, series_id, level_id, status"
UPSERT = (f"ON CONFLICT ({KEYS}) DO UPDATE SET persons = stat_unit_title.persons + excluded.persons")


def _grouped(table: str, sign: str) -> str:
    """One grouped delta of the persons of a transition table (in key order: concurrent writers lock alike)."""
    return (f"INSERT INTO stat_unit_title ({KEYS}, persons) "
            f"SELECT employer_id, COALESCE(title_series_id, 0), COALESCE(title_level_id, 0), status, {sign}COUNT(*) "
            f"FROM {table} GROUP BY employer_id, COALESCE(title_series_id, 0), COALESCE(title_level_id, 0), status "
            f"ORDER BY 1, 2, 3, 4 {UPSERT}")


CHANGED = ("o.status IS DISTINCT FROM n.status OR o.employer_id IS DISTINCT FROM n.employer_id "
           "OR o.title_series_id IS DISTINCT FROM n.title_series_id "
           "OR o.title_level_id IS DISTINCT FROM n.title_level_id")


def _postgresql():
    op.execute(f"""
CREATE FUNCTION stat_title_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_grouped('new_rows', '')};
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE FUNCTION stat_title_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_grouped('old_rows', '-')};
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE FUNCTION stat_title_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {CHANGED}) THEN
    RETURN NULL;
  END IF;
  WITH changed AS (SELECT o.employer_id AS old_org, COALESCE(o.title_series_id, 0) AS old_series,
                          COALESCE(o.title_level_id, 0) AS old_level, o.status AS old_status,
                          n.employer_id AS new_org, COALESCE(n.title_series_id, 0) AS new_series,
                          COALESCE(n.title_level_id, 0) AS new_level, n.status AS new_status
                   FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {CHANGED}),
  d AS (SELECT old_org AS org_id, old_series AS series_id, old_level AS level_id, old_status AS status, -1 AS n
        FROM changed
        UNION ALL SELECT new_org, new_series, new_level, new_status, 1 FROM changed)
  INSERT INTO stat_unit_title ({KEYS}, persons)
  SELECT org_id, series_id, level_id, status, SUM(n) FROM d GROUP BY org_id, series_id, level_id, status
  HAVING SUM(n) <> 0 ORDER BY 1, 2, 3, 4
  {UPSERT};
  RETURN NULL;
END $$""")
    op.execute("CREATE TRIGGER stat_title_insert AFTER INSERT ON person REFERENCING NEW TABLE AS new_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION stat_title_insert()")
    op.execute("CREATE TRIGGER stat_title_delete AFTER DELETE ON person REFERENCING OLD TABLE AS old_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION stat_title_delete()")
    op.execute("CREATE TRIGGER stat_title_update AFTER UPDATE ON person "
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION stat_title_update()")


def _key(row: str) -> str:
    return (f"org_id = {row}.employer_id AND series_id = COALESCE({row}.title_series_id, 0) "
            f"AND level_id = COALESCE({row}.title_level_id, 0) AND status = {row}.status")


def _sqlite():
    inc = (f"INSERT INTO stat_unit_title ({KEYS}, persons) VALUES (NEW.employer_id, COALESCE(NEW.title_series_id, 0), "
           f"COALESCE(NEW.title_level_id, 0), NEW.status, 1) {UPSERT}")
    dec = f"UPDATE stat_unit_title SET persons = persons - 1 WHERE {_key('OLD')}"
    changed = CHANGED.replace("IS DISTINCT FROM", "IS NOT").replace("o.", "OLD.").replace("n.", "NEW.")
    op.execute(f"CREATE TRIGGER stat_title_insert AFTER INSERT ON person BEGIN {inc}; END")
    op.execute(f"CREATE TRIGGER stat_title_delete AFTER DELETE ON person BEGIN {dec}; END")
    op.execute(f"CREATE TRIGGER stat_title_update AFTER UPDATE ON person WHEN {changed} BEGIN {dec}; {inc}; END")


def upgrade():
    op.create_table(
        'stat_unit_title',
        sa.Column('org_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('series_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('level_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('persons', sa.Integer(), nullable=False),
        # unit first: a subtree's units (organisation path index) find their rows by this key
        sa.PrimaryKeyConstraint('org_id', 'series_id', 'level_id', 'status'),
    )
    if op.get_bind().dialect.name == "postgresql":
        # room on every page, so the counters are updated in place (HOT: no index entry per update)
        op.execute("ALTER TABLE stat_unit_title SET (fillfactor = 70)")
        _postgresql()
    else:
        _sqlite()
    # existing persons: counted once, set-based, written in key order (a unit's rows on neighbouring pages)
    op.execute(f"INSERT INTO stat_unit_title ({KEYS}, persons) "
               "SELECT employer_id, COALESCE(title_series_id, 0), COALESCE(title_level_id, 0), status, COUNT(*) "
               "FROM person GROUP BY employer_id, COALESCE(title_series_id, 0), COALESCE(title_level_id, 0), status "
               "ORDER BY 1, 2, 3, 4")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON person" if postgres else f"DROP TRIGGER IF EXISTS {name}")
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table('stat_unit_title')
