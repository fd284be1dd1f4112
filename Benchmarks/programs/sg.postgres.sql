-- Same generation, hand-written for PostgreSQL: load the CSV, index parents, WITH RECURSIVE ... UNION.
CREATE TEMP TABLE parent(c bigint NOT NULL, p bigint NOT NULL);
\copy parent FROM 'parent.csv' CSV
CREATE INDEX parent_pc ON parent(p, c);
ANALYZE parent;
WITH RECURSIVE sg(x, y) AS (
  SELECT p1.c, p2.c FROM parent p1 JOIN parent p2 ON p1.p = p2.p WHERE p1.c <> p2.c
  UNION
  SELECT p1.c, p2.c FROM sg JOIN parent p1 ON p1.p = sg.x JOIN parent p2 ON p2.p = sg.y
)
SELECT count(*) FROM sg;
