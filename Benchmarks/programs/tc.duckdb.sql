-- Transitive closure in DuckDB: one thread, load the CSV, recursive CTE with UNION (set semantics).
SET threads = 1;
CREATE TABLE edge AS SELECT * FROM read_csv('edge.csv', header = false, columns = {'x': 'INTEGER', 'y': 'INTEGER'});
WITH RECURSIVE path(x, y) AS (
  SELECT x, y FROM edge
  UNION
  SELECT path.x, edge.y FROM path JOIN edge ON path.y = edge.x
)
SELECT count(*) FROM path;
