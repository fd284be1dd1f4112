-- The grouped 3-way join, hand-written for PostgreSQL: load the CSVs, index, GROUP BY.
-- Prints the number of groups and the sum of the counts (a checksum).
CREATE TEMP TABLE r(a bigint NOT NULL, b bigint NOT NULL);
CREATE TEMP TABLE s(b bigint NOT NULL, c bigint NOT NULL);
CREATE TEMP TABLE t(c bigint NOT NULL, d bigint NOT NULL);
\copy r FROM 'r.csv' CSV
\copy s FROM 's.csv' CSV
\copy t FROM 't.csv' CSV
CREATE INDEX s_bc ON s(b, c);
CREATE INDEX t_cd ON t(c, d);
ANALYZE r; ANALYZE s; ANALYZE t;
SELECT count(*) || ' ' || sum(n) FROM (
  SELECT t.d, count(*) AS n FROM r JOIN s ON r.b = s.b JOIN t ON s.c = t.c GROUP BY t.d
) AS g;
