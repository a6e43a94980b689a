"""statistics: per-unit aggregates of persons and learners, kept by person triggers and the summary hook

Revision ID: 0014
Revises: 0019
Create Date: 2026-12-01 17:50:00

The triggers keep ``stat_unit_person`` (active persons per employer unit and title series) right for every
path that changes a person, and move a person's ``stat_unit_credit`` contribution when the person changes
unit or title series. The SQL is written out here (not imported from the app) so this revision stays what it
was when later code changes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0019'
branch_labels = None
depends_on = None

COUNTERS = {
    "learners": "s.public_online_records + s.public_offline_records + s.professional_online_records"
                " + s.professional_offline_records > 0",
    "online_learners": "s.public_online_records + s.professional_online_records > 0",
    "offline_learners": "s.public_offline_records + s.professional_offline_records > 0",
    "public_learners": "s.public_online_records + s.public_offline_records > 0",
    "public_online_learners": "s.public_online_records > 0",
    "public_offline_learners": "s.public_offline_records > 0",
    "professional_learners": "s.professional_online_records + s.professional_offline_records > 0",
    "professional_online_learners": "s.professional_online_records > 0",
    "professional_offline_learners": "s.professional_offline_records > 0",
    "approved_learners": "s.approved_records > 0",
    "approved_records": None,
    "qualified": "s.qualified",
}


def _value(column):
    condition = COUNTERS[column]
    return f"s.{column}" if condition is None else f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _move_sql(old, new, all_series=False):
    """Statements moving a person's credit contribution from (old unit, old series) to (new unit, new series);
    ``all_series``: the units' all-series rows (series_id -1) instead."""
    old_series = "-1" if all_series else f"COALESCE({old}.title_series_id, 0)"
    new_series = "-1" if all_series else f"COALESCE({new}.title_series_id, 0)"
    cols = list(COUNTERS)
    contributions = ", ".join(f"{_value(c)} AS {c}" for c in cols)
    subtract = ", ".join(f"{c} = stat_unit_credit.{c} - c.{c}" for c in cols)
    add = ", ".join(f"{c} = stat_unit_credit.{c} + excluded.{c}" for c in cols)
    return [
        f"UPDATE stat_unit_credit SET {subtract} "
        f"FROM (SELECT s.year, {contributions} FROM credit_summary s WHERE s.person_id = {old}.id) AS c "
        f"WHERE stat_unit_credit.org_id = {old}.employer_id "
        f"AND stat_unit_credit.series_id = {old_series} AND stat_unit_credit.year = c.year",
        f"INSERT INTO stat_unit_credit (org_id, year, series_id, {', '.join(cols)}) "
        f"SELECT {new}.employer_id, s.year, {new_series}, "
        f"{', '.join(_value(c) for c in cols)} FROM credit_summary s WHERE s.person_id = {new}.id "
        f"ON CONFLICT (year, org_id, series_id) DO UPDATE SET {add}",
    ]


def _dec(series="COALESCE(OLD.title_series_id, 0)"):
    return ("UPDATE stat_unit_person SET persons = persons - 1 "
            f"WHERE org_id = OLD.employer_id AND series_id = {series}")


def _inc(series="COALESCE(NEW.title_series_id, 0)", when=None):
    source = (f"VALUES (NEW.employer_id, {series}, 1)" if when is None
              else f"SELECT NEW.employer_id, {series}, 1 WHERE {when}")
    return (f"INSERT INTO stat_unit_person (org_id, series_id, persons) {source} "
            "ON CONFLICT (org_id, series_id) DO UPDATE SET persons = stat_unit_person.persons + 1")


MOVED = "(OLD.employer_id <> NEW.employer_id OR OLD.title_series_id IS DISTINCT FROM NEW.title_series_id)"
CHANGED = ("OLD.status IS DISTINCT FROM NEW.status OR OLD.employer_id IS DISTINCT FROM NEW.employer_id "
           "OR OLD.title_series_id IS DISTINCT FROM NEW.title_series_id")

#: one row per unit and series, and one more per unit for all its series (series_id -1)
WHOLE = "(SELECT 0 AS whole UNION ALL SELECT 1)"

TRIGGERS = ("stat_person_insert", "stat_person_delete", "stat_person_update", "stat_person_delete_credit")


def _recompute_units(units):
    """Statements recomputing the learner rows of some units (``units``: SQL giving their ids) from the summaries:
    after persons are deleted, whatever of their learning the rows still hold goes (their summaries went first)."""
    cols = list(COUNTERS)
    sums = ", ".join(f"SUM({_value(c)})" for c in cols)
    inserts = [
        f"INSERT INTO stat_unit_credit (org_id, year, series_id, {', '.join(cols)}) "
        f"SELECT p.employer_id, s.year, {series}, {sums} FROM credit_summary s JOIN person p ON p.id = s.person_id "
        f"WHERE p.employer_id IN ({units}) "
        f"GROUP BY p.employer_id, s.year{'' if series == '-1' else ', ' + series}"
        for series in ("COALESCE(p.title_series_id, 0)", "-1")]
    return [f"DELETE FROM stat_unit_credit WHERE org_id IN ({units})"] + inserts


def _postgresql():
    """Statement-level triggers over transition tables: one set-based delta per statement, so a COPY of a
    million persons or a batch approval adds one grouped upsert (row-level upserts of the same few counter rows
    would pile up row versions within the transaction)."""
    cols = list(COUNTERS)
    add = ", ".join(f"{c} = stat_unit_credit.{c} + excluded.{c}" for c in cols)
    persons_delta = (
        "INSERT INTO stat_unit_person (org_id, series_id, persons) "
        "SELECT org_id, series_id, SUM(n) FROM (SELECT org_id, series_id, n FROM ({rows}) r0 "
        "UNION ALL SELECT org_id, -1, n FROM ({rows}) r1) d GROUP BY org_id, series_id HAVING SUM(n) <> 0 "
        "ON CONFLICT (org_id, series_id) DO UPDATE SET persons = stat_unit_person.persons + excluded.persons"
    )
    new_active = ("SELECT employer_id AS org_id, COALESCE(title_series_id, 0) AS series_id, 1 AS n "
                  "FROM new_rows WHERE status = 'active'")
    old_active = ("SELECT employer_id AS org_id, COALESCE(title_series_id, 0) AS series_id, -1 AS n "
                  "FROM old_rows WHERE status = 'active'")
    changed = ("SELECT o.id, o.employer_id AS old_org, COALESCE(o.title_series_id, 0) AS old_series, "
               "n.employer_id AS new_org, COALESCE(n.title_series_id, 0) AS new_series, "
               "o.status AS old_status, n.status AS new_status "
               "FROM old_rows o JOIN new_rows n ON n.id = o.id "
               "WHERE o.status IS DISTINCT FROM n.status OR o.employer_id IS DISTINCT FROM n.employer_id "
               "OR o.title_series_id IS DISTINCT FROM n.title_series_id")
    update_rows = ("SELECT old_org AS org_id, old_series AS series_id, -1 AS n FROM changed "
                   "WHERE old_status = 'active' UNION ALL "
                   "SELECT new_org, new_series, 1 FROM changed WHERE new_status = 'active'")
    moved = "(SELECT * FROM changed WHERE old_org <> new_org OR old_series <> new_series)"
    forget = ";\n  ".join(_recompute_units("SELECT DISTINCT employer_id FROM old_rows"))
    op.execute(f"""
CREATE FUNCTION stat_person_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {persons_delta.format(rows=new_active)};
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE FUNCTION stat_person_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {persons_delta.format(rows=old_active)};
  -- the units lose what learning of the deleted persons their rows still hold (a refresh may have run first)
  PERFORM pg_advisory_xact_lock(u.org_id, u.year) FROM (SELECT DISTINCT org_id, year FROM stat_unit_credit
    WHERE org_id IN (SELECT employer_id FROM old_rows) ORDER BY org_id, year) u;
  {forget};
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE FUNCTION stat_person_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                 WHERE o.status IS DISTINCT FROM n.status OR o.employer_id IS DISTINCT FROM n.employer_id
                    OR o.title_series_id IS DISTINCT FROM n.title_series_id) THEN
    RETURN NULL;
  END IF;
  WITH changed AS ({changed})
  {persons_delta.format(rows=update_rows)};
  -- persons who changed unit or title series take their learning with them: one grouped delta (minus at the old
  -- keys, plus at the new) in one upsert; their summaries are read by index (the transition tables carry no
  -- statistics, so a join could pick a scan of every summary)
  WITH changed AS ({changed}),
  d AS (SELECT m.id, m.old_org AS org_id, m.old_series AS series_id, -1 AS sign FROM {moved} m
        UNION ALL SELECT m.id, m.new_org, m.new_series, 1 FROM {moved} m)
  INSERT INTO stat_unit_credit (org_id, year, series_id, {', '.join(cols)})
  SELECT d.org_id, s.year, CASE WHEN x.whole = 1 THEN -1 ELSE d.series_id END,
         {', '.join(f'SUM(d.sign * {_value(c)})' for c in cols)}
  FROM d CROSS JOIN LATERAL (SELECT * FROM credit_summary cs WHERE cs.person_id = d.id) s
  CROSS JOIN {WHOLE} x
  GROUP BY d.org_id, s.year, CASE WHEN x.whole = 1 THEN -1 ELSE d.series_id END
  HAVING {' OR '.join(f'SUM(d.sign * {_value(c)}) <> 0' for c in cols)}
  ON CONFLICT (year, org_id, series_id) DO UPDATE SET {add};
  RETURN NULL;
END $$""")
    op.execute("CREATE TRIGGER stat_person_insert AFTER INSERT ON person REFERENCING NEW TABLE AS new_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION stat_person_insert()")
    op.execute("CREATE TRIGGER stat_person_delete AFTER DELETE ON person REFERENCING OLD TABLE AS old_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION stat_person_delete()")
    op.execute("CREATE TRIGGER stat_person_update AFTER UPDATE ON person "
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION stat_person_update()")


def _sqlite():
    moved = MOVED.replace('IS DISTINCT FROM', 'IS NOT')
    move = ";\n  ".join(s.replace(" FROM credit_summary s WHERE", f" FROM credit_summary s WHERE {moved} AND", 1)
                        for whole in (False, True) for s in _move_sql("OLD", "NEW", all_series=whole))
    op.execute(f"CREATE TRIGGER stat_person_insert AFTER INSERT ON person WHEN NEW.status = 'active' "
               f"BEGIN {_inc()}; {_inc('-1')}; END")
    op.execute(f"CREATE TRIGGER stat_person_delete AFTER DELETE ON person WHEN OLD.status = 'active' "
               f"BEGIN {_dec()}; {_dec('-1')}; END")
    recompute = ";\n  ".join(_recompute_units("OLD.employer_id"))
    op.execute(f"""CREATE TRIGGER stat_person_delete_credit AFTER DELETE ON person
BEGIN
  {recompute};
END""")
    changed = CHANGED.replace("IS DISTINCT FROM", "IS NOT")
    op.execute(f"""CREATE TRIGGER stat_person_update AFTER UPDATE ON person WHEN {changed}
BEGIN
  {_dec()} AND OLD.status = 'active';
  {_dec('-1')} AND OLD.status = 'active';
  {_inc(when="NEW.status = 'active'")};
  {_inc('-1', when="NEW.status = 'active'")};
  {move};
END""")


def upgrade():
    op.create_table(
        'stat_unit_person',
        sa.Column('org_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('series_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('persons', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('org_id', 'series_id'),
    )
    op.create_table(
        'stat_unit_credit',
        sa.Column('org_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('series_id', sa.Integer(), autoincrement=False, nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS],
        # year first: the tables read one year (a range of this index) and the upserts find their row here
        sa.PrimaryKeyConstraint('year', 'org_id', 'series_id'),
    )
    if op.get_bind().dialect.name == "postgresql":
        # room on every page, so the counters are updated in place (HOT: no index entry per update)
        op.execute("ALTER TABLE stat_unit_person SET (fillfactor = 70)")
        op.execute("ALTER TABLE stat_unit_credit SET (fillfactor = 70)")
        _postgresql()
    else:
        _sqlite()
    # existing data: counted once, set-based (per series, and per unit for all series)
    for series in ("COALESCE(title_series_id, 0)", "-1"):
        op.execute("INSERT INTO stat_unit_person (org_id, series_id, persons) "
                   f"SELECT employer_id, {series}, COUNT(*) FROM person WHERE status = 'active' "
                   f"GROUP BY employer_id{'' if series == '-1' else ', ' + series}")
    cols = list(COUNTERS)
    for series in ("COALESCE(p.title_series_id, 0)", "-1"):
        op.execute(f"INSERT INTO stat_unit_credit (org_id, year, series_id, {', '.join(cols)}) "
                   f"SELECT p.employer_id, s.year, {series}, "
                   f"{', '.join(f'SUM({_value(c)})' for c in cols)} "
                   f"FROM credit_summary s JOIN person p ON p.id = s.person_id "
                   f"GROUP BY p.employer_id, s.year{'' if series == '-1' else ', ' + series}")


def downgrade():
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON person" if op.get_bind().dialect.name == "postgresql"
                   else f"DROP TRIGGER IF EXISTS {name}")
    if op.get_bind().dialect.name == "postgresql":
        for name in TRIGGERS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table('stat_unit_credit')
    op.drop_table('stat_unit_person')
