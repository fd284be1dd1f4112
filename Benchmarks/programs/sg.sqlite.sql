-- Same generation in SQLite: load the CSV, index parents, recursive CTE with UNION.
CREATE TABLE parent(c INTEGER NOT NULL, p INTEGER NOT NULL);
.import --csv parent.csv parent
CREATE INDEX parent_pc ON parent(p, c);
WITH RECURSIVE sg(x, y) AS (
  SELECT p1.c, p2.c FROM parent p1 JOIN parent p2 ON p1.p = p2.p WHERE p1.c <> p2.c
  UNION
  SELECT p1.c, p2.c FROM sg JOIN parent p1 ON p1.p = sg.x JOIN parent p2 ON p2.p = sg.y
)
SELECT count(*) FROM sg;
