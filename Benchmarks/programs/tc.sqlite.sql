-- Transitive closure in SQLite: load the CSV, index it, recursive CTE with UNION (set semantics).
CREATE TABLE edge(x INTEGER NOT NULL, y INTEGER NOT NULL);
.import --csv edge.csv edge
CREATE INDEX edge_xy ON edge(x, y);
WITH RECURSIVE path(x, y) AS (
  SELECT x, y FROM edge
  UNION
  SELECT path.x, edge.y FROM path JOIN edge ON path.y = edge.x
)
SELECT count(*) FROM path;
