-- Unreachable pairs in SQLite: the closure into a table (recursive CTE, UNION), then the anti-join.
CREATE TABLE edge(x INTEGER NOT NULL, y INTEGER NOT NULL);
.import --csv edge.csv edge
CREATE INDEX edge_xy ON edge(x, y);
CREATE TABLE reach AS WITH RECURSIVE r(x, y) AS (
  SELECT x, y FROM edge
  UNION
  SELECT r.x, edge.y FROM r JOIN edge ON r.y = edge.x
) SELECT x, y FROM r;
CREATE UNIQUE INDEX reach_xy ON reach(x, y);
CREATE TABLE node AS SELECT x AS n FROM edge UNION SELECT y FROM edge;
SELECT count(*) FROM node a, node b
WHERE NOT EXISTS (SELECT 1 FROM reach WHERE reach.x = a.n AND reach.y = b.n);
