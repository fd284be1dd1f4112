-- The grouped 3-way join in DuckDB: one thread, load the CSVs, GROUP BY.
-- Prints the number of groups and the sum of the counts (a checksum).
SET threads = 1;
CREATE TABLE r AS SELECT * FROM read_csv('r.csv', header = false, columns = {'a': 'INTEGER', 'b': 'INTEGER'});
CREATE TABLE s AS SELECT * FROM read_csv('s.csv', header = false, columns = {'b': 'INTEGER', 'c': 'INTEGER'});
CREATE TABLE t AS SELECT * FROM read_csv('t.csv', header = false, columns = {'c': 'INTEGER', 'd': 'INTEGER'});
SELECT count(*), sum(n) FROM (
  SELECT t.d, count(*) AS n FROM r JOIN s ON r.b = s.b JOIN t ON s.c = t.c GROUP BY t.d
);
