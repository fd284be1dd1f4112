-- Loading a CSV in SQLite: a declared table (so the first row is data, not a header), the
-- shell's .import, then a count.
CREATE TABLE rows(id INTEGER, amount REAL, day TEXT, code TEXT, n INTEGER, word TEXT, country TEXT, tone REAL);
.import --csv rows.csv rows
SELECT count(*) FROM rows;
