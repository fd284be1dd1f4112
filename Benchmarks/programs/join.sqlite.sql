-- The grouped 3-way join in SQLite: load the CSVs, index the join columns, GROUP BY.
-- Prints the number of groups and the sum of the counts (a checksum).
CREATE TABLE r(a INTEGER NOT NULL, b INTEGER NOT NULL);
CREATE TABLE s(b INTEGER NOT NULL, c INTEGER NOT NULL);
CREATE TABLE t(c INTEGER NOT NULL, d INTEGER NOT NULL);
.import --csv r.csv r
.import --csv s.csv s
.import --csv t.csv t
CREATE INDEX s_bc ON s(b, c);
CREATE INDEX t_cd ON t(c, d);
SELECT count(*), sum(n) FROM (
  SELECT t.d, count(*) AS n FROM r JOIN s ON r.b = s.b JOIN t ON s.c = t.c GROUP BY t.d
);
