-- Aggregates over sales in SQLite: GROUP BY, then a join with the per-store maximum.
-- Prints |top| and the sum of its totals (a checksum).
CREATE TABLE sale(id INTEGER NOT NULL, s INTEGER NOT NULL, i INTEGER NOT NULL, q INTEGER NOT NULL);
.import --csv sale.csv sale
WITH total AS (SELECT s, i, sum(q) AS t FROM sale GROUP BY s, i),
     best AS (SELECT s, max(t) AS m FROM total GROUP BY s)
SELECT count(*), sum(total.t) FROM total JOIN best ON total.s = best.s WHERE 2 * total.t >= best.m;
