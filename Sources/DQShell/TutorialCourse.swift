/// The tutorial's lessons, over the built-in relations dataset.
extension Tutorial {
  public static let course: [Lesson] = [
    Lesson(
      title: "Facts and queries",
      text: """
        dq holds facts: a relation name and constants, such as actor(japan, "Japan", state).
        A query asks which facts match: ?- actor(X, Name, state). Names starting with an
        uppercase letter (X, Name) are variables; dq answers with every value that fits.
        '_' means "any value, not shown". Type .relations to see every relation, and
        .schema actor to see one.
        """,
      exercises: [
        Exercise(
          task: "List the id of every state in the dataset.",
          solution: "?- actor(S, _, state).",
          hint: "actor(Id, Name, Kind): put the constant state third and a variable first."),
        Exercise(
          task: "Is Japan recorded as an ally of the United States? (a yes/no query)",
          solution: "?- ally(japan, united_states).",
          hint: "ally(State, Of); a query with no variables answers true or false."),
      ]),
    Lesson(
      title: "Joins",
      text: """
        A query may have several parts separated by ','. A variable that occurs twice must
        take the same value in both places: that joins two relations.
        """,
      exercises: [
        Exercise(
          task: "Who leads Japan? (relation leader_of(Person, State))",
          solution: "?- leader_of(P, japan).",
          hint: "?- leader_of(P, japan)."),
        Exercise(
          task: "For every ally of the United States, find its leader: the state and the person.",
          solution: "?- ally(S, united_states), leader_of(P, S).",
          hint: "Join ally(S, united_states) with leader_of(P, S): the shared S links them."),
      ]),
    Lesson(
      title: "Rules",
      text: """
        A rule defines a relation from others: head :- body. The head holds whenever the body
        does, for the same values of the variables. Type a rule, then query its relation.
        """,
      exercises: [
        Exercise(
          task: "Define putin_contact(P) for everyone who talked with Putin (talked(A, B, First, Last)), then query it.",
          solution: "putin_contact(P) :- talked(P, putin, _, _).\n?- putin_contact(P).",
          hint: "putin_contact(P) :- talked(P, putin, _, _).  then  ?- putin_contact(P).")
      ]),
    Lesson(
      title: "Recursion",
      text: """
        A rule may use its own relation: linked(A, C) :- linked(A, B), talked(B, C, _, _).
        dq repeats the rules until nothing new appears, so chains of any length are found.
        Add a first rule for chains of length one.
        """,
      exercises: [
        Exercise(
          task: "Who is linked to Erdogan by a chain of talks? (Erdogan counts too if a chain leads back to him.)",
          solution: """
            linked(A, B) :- talked(A, B, _, _).
            linked(A, C) :- linked(A, B), talked(B, C, _, _).
            ?- linked(erdogan, X).
            """,
          hint: "linked(A, B) :- talked(A, B, _, _).  linked(A, C) :- linked(A, B), talked(B, C, _, _).  then ?- linked(erdogan, X).")
      ]),
    Lesson(
      title: "Negation",
      text: """
        'not p(...)' holds when no such fact can be derived. Every variable under 'not' must
        also occur in a positive part of the body, so dq knows which values to check.
        """,
      exercises: [
        Exercise(
          task: "Which leaders of U.S. allies have not met Putin face to face (met(A, B, Place, First, Last))?",
          solution: "?- ally(S, united_states), leader_of(P, S), not met(P, putin, _, _, _).",
          hint: "Start from the previous join and add: not met(P, putin, _, _, _).")
      ]),
    Lesson(
      title: "Aggregates",
      text: """
        N = count : { body } counts the ways the body holds; sum V, min V and max V work the
        same way. A variable inside the braces that also occurs outside groups the count.
        """,
      exercises: [
        Exercise(
          task: "How many events does the dataset record? (event has seven columns; the first is its id)",
          solution: "?- N = count : { event(E, _, _, _, _, _, _) }.",
          hint: "?- N = count : { event(E, _, _, _, _, _, _) }."),
        Exercise(
          task: "For each actor that is the source of an event, how many events does it start?",
          solution: "?- event(_, A, _, _, _, _, _), N = count : { event(E, A, _, _, _, _, _) }.",
          hint: "Bind A outside the braces with event(_, A, _, _, _, _, _), then count event(E, A, ...) inside."),
      ]),
    Lesson(
      title: "Dates and comparisons",
      text: """
        Dates are written bare, 2016-08-09, and compare in time order with < <= > >=.
        Events carry the first and last day the text allows. When you are done, try
        .why met(putin, abe, P, F, L): it shows the facts behind an answer and the sentences
        they come from.
        """,
      exercises: [
        Exercise(
          task: "Who met Putin in a meeting whose first possible day is in August 2016?",
          solution: "?- met(P, putin, _, F, _), F >= 2016-08-01, F <= 2016-08-31.",
          hint: "met(P, putin, _, F, _), then compare F with 2016-08-01 and 2016-08-31.")
      ]),
  ]
}
