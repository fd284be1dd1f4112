-- Unreachable pairs in DuckDB: one thread, the closure into a table (recursive CTE, UNION), then the anti-join.
SET threads = 1;
CREATE TABLE edge AS SELECT * FROM read_csv('edge.csv', header = false, columns = {'x': 'INTEGER', 'y': 'INTEGER'});
CREATE TABLE reach AS WITH RECURSIVE r(x, y) AS (
  SELECT x, y FROM edge
  UNION
  SELECT r.x, edge.y FROM r JOIN edge ON r.y = edge.x
) SELECT x, y FROM r;

CREATE TABLE node AS SELECT x AS n FROM edge UNION SELECT y FROM edge;
SELECT count(*) FROM node a, node b
WHERE NOT EXISTS (SELECT 1 FROM reach WHERE reach.x = a.n AND reach.y = b.n);
