% Andersen-style points-to in SWI-Prolog with tabling; facts from addressOf.pl, assign.pl,
% load.pl, store.pl. The tabled predicates are called with both arguments open, so each has one
% table holding every answer.
:- table pointsTo/2, heapPointsTo/2.
pointsTo(Y, X) :- addressOf(Y, X).
pointsTo(Y, X) :- pointsTo(Z, X), assign(Y, Z).
pointsTo(Y, W) :- pointsTo(X, H), load(Y, X), heapPointsTo(H, W).
heapPointsTo(H, W) :- pointsTo(Y, H), store(Y, X), pointsTo(X, W).

main :- aggregate_all(count, pointsTo(_, _), N), format("~d~n", [N]).
