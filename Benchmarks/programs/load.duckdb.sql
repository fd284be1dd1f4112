-- Loading a CSV in DuckDB: one thread, read_csv with the column types given (codes stay text,
-- keeping their leading zeros), then a count.
SET threads = 1;
CREATE TABLE rows AS SELECT * FROM read_csv('rows.csv', header = false, columns = {'id': 'BIGINT', 'amount': 'DOUBLE', 'day': 'DATE', 'code': 'VARCHAR', 'n': 'INTEGER', 'word': 'VARCHAR', 'country': 'VARCHAR', 'tone': 'DOUBLE'});
SELECT count(*) FROM rows;
