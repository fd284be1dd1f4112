-- Aggregates over sales in DuckDB: one thread, GROUP BY, then a join with the per-store maximum.
-- Prints |top| and the sum of its totals (a checksum).
SET threads = 1;
CREATE TABLE sale AS SELECT * FROM read_csv('sale.csv', header = false, columns = {'id': 'INTEGER', 's': 'INTEGER', 'i': 'INTEGER', 'q': 'INTEGER'});
WITH total AS (SELECT s, i, sum(q) AS t FROM sale GROUP BY s, i),
     best AS (SELECT s, max(t) AS m FROM total GROUP BY s)
SELECT count(*), sum(total.t) FROM total JOIN best ON total.s = best.s WHERE 2 * total.t >= best.m;
