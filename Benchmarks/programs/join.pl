% The grouped 3-way join in SWI-Prolog: aggregate/3 groups by the free variable D
% (first-argument indexing serves s(B, _) and t(C, _)). Facts from r.pl, s.pl, t.pl.
% Prints the number of groups and the sum of the counts (a checksum).
q(D, N) :- aggregate(count, A^B^C^(r(A, B), s(B, C), t(C, D)), N).

main :-
    findall(N, q(_, N), Ns),
    length(Ns, G),
    sum_list(Ns, S),
    format("~d ~d~n", [G, S]).
