% Same generation in SWI-Prolog with tabling; parent(Child, Parent) comes from parent.pl.
% The recursive call comes first so that one table, for sg(_, _), holds every answer
% (parent(X, A) with A bound then uses SWI's just-in-time index on the second argument).
:- table sg/2.
sg(X, Y) :- parent(X, P), parent(Y, P), X \== Y.
sg(X, Y) :- sg(A, B), parent(X, A), parent(Y, B).

main :- aggregate_all(count, sg(_, _), N), format("~d~n", [N]).
