-- Transitive closure, hand-written for PostgreSQL: load the CSV, index it, WITH RECURSIVE ... UNION.
CREATE TEMP TABLE edge(x bigint NOT NULL, y bigint NOT NULL);
\copy edge FROM 'edge.csv' CSV
CREATE INDEX edge_xy ON edge(x, y);
ANALYZE edge;
WITH RECURSIVE path(x, y) AS (
  SELECT x, y FROM edge
  UNION
  SELECT path.x, edge.y FROM path JOIN edge ON path.y = edge.x
)
SELECT count(*) FROM path;
