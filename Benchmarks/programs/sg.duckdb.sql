-- Same generation in DuckDB: one thread, load the CSV, recursive CTE with UNION.
SET threads = 1;
CREATE TABLE parent AS SELECT * FROM read_csv('parent.csv', header = false, columns = {'c': 'INTEGER', 'p': 'INTEGER'});
WITH RECURSIVE sg(x, y) AS (
  SELECT p1.c, p2.c FROM parent p1 JOIN parent p2 ON p1.p = p2.p WHERE p1.c <> p2.c
  UNION
  SELECT p1.c, p2.c FROM sg JOIN parent p1 ON p1.p = sg.x JOIN parent p2 ON p2.p = sg.y
)
SELECT count(*) FROM sg;
