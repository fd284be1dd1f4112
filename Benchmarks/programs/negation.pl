% Unreachable pairs in SWI-Prolog: reach/2 tabled (one table, for the open call), then the
% anti-join counted with \+ (the table is complete before the first negated call).
:- table reach/2.
reach(X, Y) :- edge(X, Y).
reach(X, Z) :- reach(X, Y), edge(Y, Z).
node(X) :- edge(X, _).
node(Y) :- edge(_, Y).
nodes(Ns) :- setof(N, node(N), Ns).

main :-
    aggregate_all(count, reach(_, _), _),
    nodes(Ns),
    aggregate_all(count, (member(X, Ns), member(Y, Ns), \+ reach(X, Y)), N),
    format("~d~n", [N]).
