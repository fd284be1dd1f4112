% Non-linear transitive closure in SWI-Prolog with tabling; edge/2 from edge.pl.
:- table path/2.
path(X, Y) :- edge(X, Y).
path(X, Z) :- path(X, Y), path(Y, Z).

main :- aggregate_all(count, path(_, _), N), format("~d~n", [N]).
