% Aggregates over sales in SWI-Prolog; sale(Id, Store, Item, Qty) from sale.pl. total/3 and
% best/2 are tabled so each is computed once; aggregate/3 groups by the free variables.
:- table total/3, best/2.
total(S, I, T) :- aggregate(sum(Q), Id^sale(Id, S, I, Q), T).
best(S, M) :- aggregate(max(T), I^total(S, I, T), M).
top(S, I, T) :- total(S, I, T), best(S, M), 2 * T >= M.

main :-
    findall(T, top(_, _, T), Ts),
    length(Ts, N),
    sum_list(Ts, C),
    format("~d ~d~n", [N, C]).
