#!/usr/bin/env python3
"""Checks the dq relations dataset against its seed articles.

Usage: python3 Dataset/check_quotes.py [--seeds DIR] [--dataset FILE] [--questions FILE]

What it checks (stdlib only, exit status 1 on any error):
  * every `.source "FILE" "QUOTE"` names a seed file and QUOTE (after unescaping \\" and \\\\)
    is a verbatim substring of it; quotes outside 4-25 words are reported as notes;
  * every fact is covered by a citation, except vocabulary relations under a bare `.source`;
  * every relation is declared by `.decl` before its first use, with the same arity;
  * every clause parses and ends with `.`; facts are ground; rules are safe;
  * said/3 quotes and alias/name_used names occur verbatim in the cited file;
  * ids are consistent: every referenced actor and event exists, every event has one status,
    label and article (the file it is cited from), every code has a CAMEO label, dates are
    valid and First <= Last;
  * every query in QUESTIONS.md gives exactly the expected rows, computed by a small
    reference evaluator (bottom-up, stratified negation, count/sum/min/max aggregates) and
    printed as `dq --format tsv` would print them.
"""

import argparse
import datetime
import os
import re
import sys
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

VOCABULARY = {"cameo", "meeting_code", "future_status", "head_role", "research_kind", "country_code"}
# Relations that `.import` fills (declared, empty in the dataset itself).
IMPORTED = {"gdelt_event", "icews_event"}
# Sources that are reference works, not seed files: `.source "NAME" "DESCRIPTION"` with NAME
# here cites that work; only the listed vocabulary relations may stand under it, and the
# description is not looked up in any seed.
CODEBOOKS = {"CAMEO codebook": {"cameo"}}
EVENT_STATUSES = {"happened", "ongoing", "planned", "expected", "proposed"}
KINDS = {
    "state", "person", "group", "region", "territory", "island", "island_group", "city",
    "sea", "ocean", "institution", "academy", "university", "think_tank", "government",
    "organisation", "media", "military", "forum", "policy", "project", "programme",
    "conflict", "system",
}

# Columns that must hold an actor id (`unknown` allowed where listed in ALLOW_UNKNOWN).
ACTOR_COLUMNS = {
    "alias": [0], "name_used": [0, 2], "role": [0, 2], "former_role": [0, 2],
    "expertise": [0], "author_of": [0], "father_of": [0, 1], "influenced_by": [0, 1],
    "duty": [1], "appointment": [0, 1, 3], "dismissal": [0, 1, 3], "served": [0, 1],
    "located_in": [0, 1], "part_of": [0, 1], "belongs_to": [0, 1], "borders": [0, 1],
    "forum": [0, 1], "event": [1, 2, 4], "event_reported_by": [1], "reported_on": [1],
    "sideline_of": [1], "predicted_topic": [2], "claims": [0, 1], "controls": [0, 1],
    "annexed": [0, 1], "seized": [0, 1], "former_owner": [0, 1], "settled_by": [0, 1],
    "symbolizes": [0, 2], "prevents_peace_treaty": [0, 1, 2], "gives_access": [0, 1, 2],
    "bolt_hole_for": [0, 1], "vulnerable_if_occupied": [0, 1, 2], "invaded": [0, 1],
    "arrived_in": [0, 1], "ally": [0, 1], "reaching_out": [0, 1], "effort": [0, 2],
    "effort_reason": [0, 2], "foments": [0, 1], "sanctions": [0, 1],
    "backs_sanctions": [0, 1], "not_joined_sanctions": [0, 1],
    "wants_sanctions_from": [0, 1, 2], "not_recognized": [0], "undercuts": [1],
    "opposes": [0, 1, 3], "approach": [0, 1], "wants": [0], "attitude": [0],
    "concern": [0, 1, 4], "perceives": [0, 1], "hedges_against": [0, 1],
    "relations": [0, 1], "cooperates_in": [0, 1], "scope_for_cooperation": [0, 1, 2],
    "route": [0, 1, 2], "outlook": [2], "trend": [0], "policy": [0, 1],
    "parallels": [0, 1], "priority": [0, 1], "deployment": [0, 1, 2], "dissolved": [0, 1],
    "proposal": [0, 2], "said": [0, 1], "cites": [0, 1], "country_code": [0],
    "event_participant": [1], "relayed_by": [0, 2],
}
ALLOW_UNKNOWN = {("event", 4), ("role", 2), ("deployment", 0)}
# Columns that must hold an event id.
EVENT_COLUMNS = {
    "event_status": [0], "event_label": [0], "event_article": [0], "event_reported_by": [0],
    "reported_on": [0], "event_topic": [0], "predicted_topic": [0], "event_purpose": [0],
    "event_result": [0], "agreement": [0], "sideline_of": [0], "not_recognized": [1],
    "undercuts": [0], "joint_act": [0], "event_participant": [0], "event_evidence": [0],
}
# Columns that hold an event id or an actor id.
EVENT_OR_ACTOR_COLUMNS = {"effort_reason": [3]}
# (relation, first column, last column) date pairs.
DATE_PAIRS = [("event", 5, 6), ("appointment", 4, 5), ("dismissal", 4, 5), ("forum", 2, 3)]


class CheckError(Exception):
    pass


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------

def sym(s):
    return ("s", s)


def num(x):
    return ("n", Fraction(x))


def date_value(text):
    return ("d", datetime.date.fromisoformat(text))


def order_key(v):
    kind, x = v
    return ({"n": 0, "d": 1, "s": 2}[kind], x)


def show(v):
    kind, x = v
    if kind == "s":
        return x.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    if kind == "d":
        return x.isoformat()
    if x.denominator == 1:
        return str(x.numerator)
    return str(x.numerator / x.denominator)


# ---------------------------------------------------------------------------
# Lexer
# ---------------------------------------------------------------------------

TOKEN_RE = re.compile(r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>%[^\n]*)
  | (?P<block>/\*.*?\*/)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<date>\d{4}-\d{2}-\d{2}(?![0-9]))
  | (?P<decimal>\d+\.\d+)
  | (?P<int>\d+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>:-|\?-|!=|<=|>=|[=<>(),.:{}+\-*/?])
""", re.VERBOSE | re.DOTALL)

ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


def unescape(body, where):
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            if i + 1 >= len(body) or body[i + 1] not in ESCAPES:
                raise CheckError(f"{where}: bad escape in string")
            out.append(ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokenize(text, name, first_line=1):
    """Returns tokens (kind, value, line) of dq text without directives."""
    tokens, pos, line = [], 0, first_line
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise CheckError(f"{name}:{line}: cannot read {text[pos:pos + 20]!r}")
        kind, lexeme = m.lastgroup, m.group(0)
        if kind == "string":
            tokens.append(("string", unescape(lexeme[1:-1], f"{name}:{line}"), line))
        elif kind not in ("ws", "comment", "block"):
            tokens.append((kind, lexeme, line))
        line += lexeme.count("\n")
        pos = m.end()
    return tokens


# ---------------------------------------------------------------------------
# Parser: clauses are (kind, head, body, line); literals are tuples
#   ("atom", name, args) ("not", name, args) ("cmp", op, left, right)
#   ("agg", var, fn, target, body)
# Terms: ("var", name) ("val", value) ("op", op, left, right)
# ---------------------------------------------------------------------------

class Parser:
    def __init__(self, tokens, name):
        self.toks, self.i, self.name, self.fresh = tokens, 0, name, 0

    def peek(self, k=0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("eof", "", self.toks[-1][2] if self.toks else 0)

    def advance(self):
        t = self.peek()
        self.i += 1
        return t

    def check(self, value):
        t = self.peek()
        return t[0] in ("punct", "ident") and t[1] == value

    def expect(self, value):
        t = self.advance()
        if t[1] != value or t[0] == "string":
            raise CheckError(f"{self.name}:{t[2]}: expected '{value}' at {t[1]!r}")
        return t

    def at_end(self):
        return self.i >= len(self.toks)

    def clause(self):
        line = self.peek()[2]
        if self.check("?-"):
            self.advance()
            body = self.body()
            self.expect(".")
            return ("query", None, body, line)
        head = self.atom()
        if self.check(":-"):
            self.advance()
            body = self.body()
            self.expect(".")
            return ("rule", head, body, line)
        if self.check("?"):
            self.advance()
            return ("query", None, [head], line)
        self.expect(".")
        return ("fact", head, [], line)

    def body(self):
        lits = [self.literal()]
        while self.check(","):
            self.advance()
            lits.append(self.literal())
        return lits

    def literal(self):
        t = self.peek()
        if t[0] == "ident" and t[1] == "not" and self.peek(1)[0] == "ident":
            self.advance()
            a = self.atom()
            return ("not", a[1], a[2])
        if t[0] == "ident" and t[1][0].islower():
            nxt = self.peek(1)
            if nxt[1] == "(" or nxt[1] in (",", ".", "}") or nxt[0] == "eof":
                return self.atom()
        left = self.term()
        op = self.advance()
        if op[1] not in ("=", "!=", "<", "<=", ">", ">="):
            raise CheckError(f"{self.name}:{op[2]}: expected a comparison at {op[1]!r}")
        nxt, after = self.peek(), self.peek(1)
        is_agg = (op[1] == "=" and left[0] == "var" and nxt[0] == "ident" and (
            (nxt[1] == "count" and after[1] == ":") or
            (nxt[1] in ("sum", "min", "max") and after[1] not in (",", ".", ")", "}", ":"))))
        if is_agg:
            fn = self.advance()[1]
            target = None
            if fn != "count":
                target = self.term()
            self.expect(":")
            self.expect("{")
            body = self.body()
            self.expect("}")
            return ("agg", left[1], fn, target, body)
        right = self.term()
        return ("cmp", op[1], left, right)

    def atom(self):
        t = self.advance()
        if t[0] != "ident" or not t[1][0].islower():
            raise CheckError(f"{self.name}:{t[2]}: expected a relation name at {t[1]!r}")
        args = []
        if self.check("("):
            self.advance()
            args.append(self.term())
            while self.check(","):
                self.advance()
                args.append(self.term())
            self.expect(")")
        return ("atom", t[1], args)

    def term(self):
        left = self.product()
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "punct":
            op = self.advance()[1]
            left = ("op", op, left, self.product())
        return left

    def product(self):
        left = self.unary()
        while (self.peek()[0] == "punct" and self.peek()[1] in ("*", "/")) or self.check("mod"):
            op = self.advance()[1]
            left = ("op", op, left, self.unary())
        return left

    def unary(self):
        t = self.advance()
        kind, lexeme = t[0], t[1]
        if kind == "punct" and lexeme == "-":
            inner = self.unary()
            if inner[0] == "val" and inner[1][0] == "n":
                return ("val", ("n", -inner[1][1]))
            return ("op", "-", ("val", num(0)), inner)
        if kind == "punct" and lexeme == "(":
            e = self.term()
            self.expect(")")
            return e
        if kind == "string":
            return ("val", sym(lexeme))
        if kind == "date":
            try:
                return ("val", date_value(lexeme))
            except ValueError:
                raise CheckError(f"{self.name}:{t[2]}: invalid date {lexeme}")
        if kind in ("int", "decimal"):
            return ("val", num(lexeme))
        if kind == "ident":
            if lexeme == "_":
                self.fresh += 1
                return ("var", f"_#{self.fresh}")
            if lexeme[0].isupper() or lexeme[0] == "_":
                return ("var", lexeme)
            return ("val", sym(lexeme))
        raise CheckError(f"{self.name}:{t[2]}: expected a term at {lexeme!r}")


# ---------------------------------------------------------------------------
# Variables and safety
# ---------------------------------------------------------------------------

def term_vars(t, out):
    if t is None:
        return out
    if t[0] == "var":
        out.append(t[1])
    elif t[0] == "op":
        term_vars(t[2], out)
        term_vars(t[3], out)
    return out


def literal_vars(lit):
    out = []
    if lit[0] in ("atom", "not"):
        for a in lit[2]:
            term_vars(a, out)
    elif lit[0] == "cmp":
        term_vars(lit[2], out)
        term_vars(lit[3], out)
    elif lit[0] == "agg":
        out.append(lit[1])
        term_vars(lit[3], out)
        for l in lit[4]:
            out.extend(literal_vars(l))
    return out


def bound_by(body):
    """Variables bound by positive atoms, `X = expr` and aggregates (fixpoint)."""
    bound = set()
    for lit in body:
        if lit[0] == "atom":
            bound.update(literal_vars(lit))
    changed = True
    while changed:
        changed = False
        for lit in body:
            if lit[0] == "cmp" and lit[1] == "=":
                for a, b in ((lit[2], lit[3]), (lit[3], lit[2])):
                    if a[0] == "var" and a[1] not in bound and set(term_vars(b, [])) <= bound:
                        bound.add(a[1])
                        changed = True
            if lit[0] == "agg" and lit[1] not in bound:
                bound.add(lit[1])
                changed = True
    return bound


def unsafe_vars(head_args, body):
    bound = bound_by(body)
    need = []
    for a in head_args:
        term_vars(a, need)
    for lit in body:
        if lit[0] in ("not", "cmp"):
            need.extend(v for v in literal_vars(lit) if not v.startswith("_#") or lit[0] == "cmp")
    return sorted({v for v in need if v not in bound})


# ---------------------------------------------------------------------------
# Evaluator
# ---------------------------------------------------------------------------

def eval_term(t, env):
    if t[0] == "val":
        return t[1]
    if t[0] == "var":
        return env.get(t[1])
    l, r = eval_term(t[2], env), eval_term(t[3], env)
    if l is None or r is None:
        return None
    if l[0] != "n" or r[0] != "n":
        raise CheckError("arithmetic on a non-number")
    a, b, op = l[1], r[1], t[1]
    if op == "+":
        return ("n", a + b)
    if op == "-":
        return ("n", a - b)
    if op == "*":
        return ("n", a * b)
    if b == 0:
        raise CheckError("division by zero")
    if op == "/":
        if a.denominator == 1 and b.denominator == 1:
            q = abs(a.numerator) // abs(b.numerator)
            return ("n", Fraction(q if (a >= 0) == (b >= 0) else -q))
        return ("n", a / b)
    return ("n", Fraction(a.numerator % b.numerator))


def compare(op, a, b):
    if op == "=":
        return a == b
    if op == "!=":
        return a != b
    ka, kb = order_key(a), order_key(b)
    return {"<": ka < kb, "<=": ka <= kb, ">": ka > kb, ">=": ka >= kb}[op]


class Database:
    def __init__(self):
        self.rel = {}

    def get(self, name):
        return self.rel.setdefault(name, set())

    def match(self, args, env, name):
        for row in list(self.get(name)):
            e = dict(env)
            ok = True
            for a, v in zip(args, row):
                if a[0] == "var":
                    cur = e.get(a[1])
                    if cur is None:
                        e[a[1]] = v
                    elif cur != v:
                        ok = False
                        break
                else:
                    if eval_term(a, e) != v:
                        ok = False
                        break
            if ok:
                yield e

    def solve(self, body, env):
        pending = list(body)
        yield from self._solve(pending, env)

    def _ready(self, lit, env):
        if lit[0] == "atom":
            return True
        if lit[0] == "not":
            return all(v in env or v.startswith("_#") for v in literal_vars(lit))
        if lit[0] == "cmp":
            vs = literal_vars(lit)
            if all(v in env for v in vs):
                return True
            if lit[1] == "=":
                for a, b in ((lit[2], lit[3]), (lit[3], lit[2])):
                    if a[0] == "var" and a[1] not in env and all(v in env for v in term_vars(b, [])):
                        return True
            return False
        if lit[0] == "agg":
            return True
        return False

    def _solve(self, pending, env):
        if not pending:
            yield env
            return
        # Ready comparisons and negations first, then atoms, aggregates last (so that
        # their grouping variables are bound by the rest of the body).
        idx = next((k for k, l in enumerate(pending)
                    if l[0] in ("cmp", "not") and self._ready(l, env)), None)
        if idx is None:
            idx = next((k for k, l in enumerate(pending) if l[0] == "atom"), None)
        if idx is None:
            idx = next((k for k, l in enumerate(pending) if l[0] == "agg"), None)
        if idx is None:
            raise CheckError(f"cannot order body literals: {pending}")
        lit, rest = pending[idx], pending[:idx] + pending[idx + 1:]
        if lit[0] == "atom":
            for e in self.match(lit[2], env, lit[1]):
                yield from self._solve(rest, e)
        elif lit[0] == "not":
            if not any(True for _ in self.match(lit[2], env, lit[1])):
                yield from self._solve(rest, env)
        elif lit[0] == "cmp":
            op, l, r = lit[1], lit[2], lit[3]
            if op == "=" and l[0] == "var" and l[1] not in env:
                e = dict(env)
                e[l[1]] = eval_term(r, env)
                yield from self._solve(rest, e)
            elif op == "=" and r[0] == "var" and r[1] not in env:
                e = dict(env)
                e[r[1]] = eval_term(l, env)
                yield from self._solve(rest, e)
            elif compare(op, eval_term(l, env), eval_term(r, env)):
                yield from self._solve(rest, env)
        elif lit[0] == "agg":
            var, fn, target, body = lit[1], lit[2], lit[3], lit[4]
            local = sorted({v for l in body for v in literal_vars(l)} |
                           set(term_vars(target, [])))
            seen = set()
            values = []
            for e in self.solve(body, env):
                key = tuple(e.get(v) for v in local)
                if key in seen:
                    continue
                seen.add(key)
                if target is not None:
                    values.append(eval_term(target, e))
            if fn == "count":
                result = num(len(seen))
            elif fn == "sum":
                result = ("n", sum((v[1] for v in values), Fraction(0)))
            elif not values:
                return
            else:
                pick = min if fn == "min" else max
                result = pick(values, key=order_key)
            if var in env:
                if env[var] == result:
                    yield from self._solve(rest, env)
            else:
                e = dict(env)
                e[var] = result
                yield from self._solve(rest, e)


def stratify(rules):
    preds = {r[1][1] for r in rules}
    stratum = {p: 0 for p in preds}
    for _ in range(len(preds) + 2):
        changed = False
        for _, head, body, _ in rules:
            p = head[1]
            for lit in body:
                deps = []
                if lit[0] == "atom":
                    deps.append((lit[1], 0))
                elif lit[0] == "not":
                    deps.append((lit[1], 1))
                elif lit[0] == "agg":
                    deps.extend((l[1], 1) for l in lit[4] if l[0] in ("atom", "not"))
                for q, strict in deps:
                    if q in stratum and stratum[q] + strict > stratum[p]:
                        stratum[p] = stratum[q] + strict
                        changed = True
        if not changed:
            return stratum
    raise CheckError("negation or aggregation through recursion")


def evaluate(facts, rules):
    db = Database()
    for name, row in facts:
        db.get(name).add(row)
    stratum = stratify(rules)
    for level in sorted(set(stratum.values())):
        layer = [r for r in rules if stratum[r[1][1]] == level]
        changed = True
        while changed:
            changed = False
            for _, head, body, _ in layer:
                new = set()
                for env in db.solve(body, {}):
                    new.add(tuple(eval_term(a, env) for a in head[2]))
                target = db.get(head[1])
                if not new <= target:
                    target |= new
                    changed = True
    return db


def outer_vars(body):
    """Variables of a body in order of first appearance, without aggregate-local ones."""
    outside = set()
    for lit in body:
        if lit[0] != "agg":
            outside.update(literal_vars(lit))
        else:
            outside.add(lit[1])
    order = []
    for lit in body:
        vs = literal_vars(lit) if lit[0] != "agg" else [lit[1]] + [
            v for v in literal_vars(lit)[1:] if v in outside]
        for v in vs:
            if v not in order:
                order.append(v)
    return order


def answer(db, body):
    shown = [v for v in outer_vars(body) if not v.startswith("_")]
    rows = set()
    for env in db.solve(body, {}):
        rows.add(tuple(env[v] for v in shown))
    if not shown:
        return ["true" if rows else "false"]
    lines = ["\t".join(shown)]
    for row in sorted(rows, key=lambda r: tuple(order_key(v) for v in r)):
        lines.append("\t".join(show(v) for v in row))
    return lines


# ---------------------------------------------------------------------------
# Dataset reading
# ---------------------------------------------------------------------------

DECL_RE = re.compile(r'^\.decl\s+([a-z][A-Za-z0-9_]*)\s*\(([^)]*)\)\s*"((?:[^"\\]|\\.)*)"\s*$')
STRING_RE = re.compile(r'"((?:[^"\\]|\\.)*)"')


def read_dataset(path, seeds, errors, notes):
    name = os.path.relpath(path, REPO)
    lines = open(path, encoding="utf-8").read().split("\n")
    decls = {}
    facts, rules, items = [], [], []
    citation = None
    chunk, chunk_line = [], None
    in_block = False

    def flush_chunk():
        nonlocal chunk, chunk_line
        if chunk:
            items.append(("text", "\n".join(chunk), chunk_line))
        chunk, chunk_line = [], None

    for n, line in enumerate(lines, 1):
        if not in_block and line.startswith("."):
            flush_chunk()
            items.append(("directive", line, n))
            continue
        if chunk_line is None:
            chunk_line = n
        chunk.append(line)
        # Track block comments crudely so a '.' line inside one is not a directive.
        stripped = re.sub(r'"(?:[^"\\\n]|\\.)*"|%[^\n]*', "", line)
        for m in re.finditer(r"/\*|\*/", stripped):
            in_block = m.group(0) == "/*"
    flush_chunk()

    pending_tokens = []
    fact_citations = []
    for kind, text, line in items:
        if kind == "directive":
            if pending_tokens:
                errors.append(f"{name}:{line}: directive inside an unfinished clause "
                              f"(clause from line {pending_tokens[0][2]} lacks its final '.')")
                pending_tokens = []
            if text.startswith(".decl"):
                m = DECL_RE.match(text)
                if not m:
                    errors.append(f"{name}:{line}: malformed .decl")
                    continue
                rel = m.group(1)
                cols = [c.strip() for c in m.group(2).split(",") if c.strip()]
                if rel in decls:
                    errors.append(f"{name}:{line}: {rel} declared twice")
                if len(set(cols)) != len(cols):
                    errors.append(f"{name}:{line}: {rel} repeats a column name")
                if not m.group(3).strip():
                    errors.append(f"{name}:{line}: {rel} lacks a description")
                decls[rel] = (len(cols), cols, line)
            elif text.startswith(".source"):
                rest = text[len(".source"):].strip()
                if not rest:
                    citation = None
                    continue
                strs = STRING_RE.findall(rest)
                if len(strs) != 2 or STRING_RE.sub("", rest).strip():
                    errors.append(f"{name}:{line}: .source needs \"FILE\" \"QUOTE\" or nothing")
                    continue
                try:
                    file_ = unescape(strs[0], f"{name}:{line}")
                    quote = unescape(strs[1], f"{name}:{line}")
                except CheckError as e:
                    errors.append(str(e))
                    continue
                if file_ in CODEBOOKS:
                    citation = (file_, quote, line)
                    continue
                if file_ not in seeds:
                    errors.append(f"{name}:{line}: unknown seed file {file_!r}")
                    citation = None
                    continue
                if quote not in seeds[file_]:
                    errors.append(f"{name}:{line}: quote not found verbatim in {file_}: {quote!r}")
                words = len(quote.split())
                if not 4 <= words <= 25:
                    notes.append(f"{name}:{line}: quote has {words} words")
                citation = (file_, quote, line)
            else:
                errors.append(f"{name}:{line}: unknown directive {text.split()[0]!r}")
            continue
        try:
            tokens = tokenize(text, name, line)
        except CheckError as e:
            errors.append(str(e))
            continue
        pending_tokens.extend(tokens)
        # Parse every complete clause in the pending tokens.
        while pending_tokens:
            ends = [k for k, t in enumerate(pending_tokens) if t[0] == "punct" and t[1] == "."]
            if not ends:
                break
            p = Parser(pending_tokens, name)
            try:
                clause = p.clause()
            except CheckError as e:
                errors.append(str(e))
                cut = ends[0] + 1
                pending_tokens = pending_tokens[cut:]
                continue
            pending_tokens = pending_tokens[p.i:]
            ckind, head, body, cline = clause
            if ckind == "query":
                errors.append(f"{name}:{cline}: the dataset must not contain queries")
                continue
            used = [head] + [l for l in body if l[0] in ("atom", "not")]
            for l in body:
                if l[0] == "agg":
                    used.extend(x for x in l[4] if x[0] in ("atom", "not"))
            for a in used:
                rel, arity = a[1], len(a[2])
                if rel not in decls:
                    errors.append(f"{name}:{cline}: {rel}/{arity} used before any .decl")
                elif decls[rel][0] != arity:
                    errors.append(f"{name}:{cline}: {rel} used with arity {arity}, "
                                  f"declared with {decls[rel][0]}")
            if ckind == "fact":
                if any(t[0] != "val" for t in head[2]):
                    errors.append(f"{name}:{cline}: fact {head[1]} is not ground")
                    continue
                row = tuple(t[1] for t in head[2])
                if citation is None and head[1] not in VOCABULARY:
                    errors.append(f"{name}:{cline}: fact {head[1]} has no citation")
                if citation is not None and citation[0] in CODEBOOKS:
                    if head[1] not in CODEBOOKS[citation[0]]:
                        errors.append(f"{name}:{cline}: fact {head[1]} cited to {citation[0]!r}, "
                                      f"which only covers {', '.join(sorted(CODEBOOKS[citation[0]]))}")
                elif citation is not None and head[1] in VOCABULARY:
                    notes.append(f"{name}:{cline}: vocabulary fact {head[1]} under a citation")
                facts.append((head[1], row))
                fact_citations.append((head[1], row, citation, cline))
            else:
                bad = unsafe_vars(head[2], body)
                if bad:
                    errors.append(f"{name}:{cline}: unsafe variable(s) {', '.join(bad)} "
                                  f"in rule for {head[1]}")
                rules.append(clause)
    if pending_tokens:
        errors.append(f"{name}:{pending_tokens[0][2]}: clause does not end with '.'")
    return decls, facts, rules, fact_citations


# ---------------------------------------------------------------------------
# Semantic checks on the facts
# ---------------------------------------------------------------------------

def check_facts(name, facts, fact_citations, errors, notes):
    by = {}
    for rel, row in facts:
        by.setdefault(rel, set()).add(row)
    s = lambda v: v[1] if v[0] == "s" else None

    actors = {}
    for row in by.get("actor", ()):
        aid = s(row[0])
        if aid in actors:
            errors.append(f"{name}: actor {aid} defined twice")
        actors[aid] = row
        if s(row[2]) not in KINDS:
            errors.append(f"{name}: actor {aid} has unknown kind {show(row[2])}")
    events = {}
    for row in by.get("event", ()):
        eid = s(row[0])
        if eid in events:
            errors.append(f"{name}: event {eid} defined twice")
        events[eid] = row
        if not re.fullmatch(r"e\d{3}", eid or ""):
            errors.append(f"{name}: event id {show(row[0])} is not eNNN")
    codes = {s(r[0]) for r in by.get("cameo", ())}

    def ref_ok(rel, col, v, allowed):
        x = s(v)
        if x is None:
            return False
        if x == "unknown" and (rel, col) in ALLOW_UNKNOWN:
            return True
        return x in allowed

    for rel, cols in ACTOR_COLUMNS.items():
        for row in by.get(rel, ()):
            for c in cols:
                if not ref_ok(rel, c, row[c], actors):
                    errors.append(f"{name}: {rel}{tuple(show(v) for v in row)}: "
                                  f"column {c + 1} is not an actor id")
    for rel, cols in EVENT_COLUMNS.items():
        for row in by.get(rel, ()):
            for c in cols:
                if s(row[c]) not in events:
                    errors.append(f"{name}: {rel}{tuple(show(v) for v in row)}: "
                                  f"column {c + 1} is not an event id")
    for rel, cols in EVENT_OR_ACTOR_COLUMNS.items():
        for row in by.get(rel, ()):
            for c in cols:
                if s(row[c]) not in events and s(row[c]) not in actors:
                    errors.append(f"{name}: {rel}{tuple(show(v) for v in row)}: "
                                  f"column {c + 1} is neither an event nor an actor id")
    for rel, a, b in DATE_PAIRS:
        for row in by.get(rel, ()):
            if row[a][0] != "d" or row[b][0] != "d":
                errors.append(f"{name}: {rel}{tuple(show(v) for v in row)}: dates expected")
            elif row[a][1] > row[b][1]:
                errors.append(f"{name}: {rel}{tuple(show(v) for v in row)}: first after last")
    for row in by.get("reported_on", ()):
        if row[2][0] != "d":
            errors.append(f"{name}: reported_on{tuple(show(v) for v in row)}: date expected")

    for eid, row in events.items():
        if s(row[3]) not in codes:
            errors.append(f"{name}: event {eid} uses code {show(row[3])} without a cameo label")
        for rel in ("event_status", "event_label", "event_article", "event_evidence"):
            n = sum(1 for r in by.get(rel, ()) if s(r[0]) == eid)
            if n != 1:
                errors.append(f"{name}: event {eid} has {n} {rel} facts (want 1)")
    for row in by.get("event_status", ()):
        if s(row[1]) not in EVENT_STATUSES:
            errors.append(f"{name}: event_status {show(row[0])} has unknown status {show(row[1])}")
    for c in sorted({s(r[0]) for r in by.get("meeting_code", ())} - codes):
        errors.append(f"{name}: meeting_code {c} has no cameo row")
    # cameo(Code, Root, Label, QuadClass, Goldstein): the root is the code's first two digits,
    # the quad class follows the root, the score is a number in -10..10, one row per code.
    seen = set()
    for row in by.get("cameo", ()):
        code, root = s(row[0]), s(row[1])
        if code in seen:
            errors.append(f"{name}: cameo code {code} has two rows")
        seen.add(code)
        if not code or not re.fullmatch(r"\d{2,4}[a-z]?", code) or root != code[:2]:
            errors.append(f"{name}: cameo{tuple(show(v) for v in row)}: root must be the code's first two digits")
            continue
        r = int(root)
        want = 1 if 1 <= r <= 5 else 2 if 6 <= r <= 9 else 3 if 10 <= r <= 14 else 4 if 15 <= r <= 20 else None
        if want is None or row[3] != num(want):
            errors.append(f"{name}: cameo{tuple(show(v) for v in row)}: quad class must be {want}")
        if row[4][0] != "n" or not -10 <= row[4][1] <= 10 or not s(row[2]):
            errors.append(f"{name}: cameo{tuple(show(v) for v in row)}: label and a score in -10..10 expected")

    # Citation-sensitive checks: event_article matches the cited file; verbatim names.
    for rel, row, citation, line in fact_citations:
        file_ = citation[0] if citation else None
        text = SEEDS.get(file_, "")
        if rel == "event_article" and s(row[1]) != file_:
            errors.append(f"{name}:{line}: event_article {show(row[0])} names {show(row[1])} "
                          f"but is cited from {file_}")
        if rel == "article" and s(row[0]) != file_:
            errors.append(f"{name}:{line}: article {show(row[0])} cited from {file_}")
        if rel == "event_evidence" and (citation is None or (s(row[1]), s(row[2])) != citation[:2]):
            errors.append(f"{name}:{line}: event_evidence {show(row[0])} is not the citation above it")
        if rel == "relayed_by" and (s(row[0]), s(row[1])) not in {
                (s(r[0]), s(r[2])) for r in by.get("said", ())}:
            errors.append(f"{name}:{line}: relayed_by {show(row[0])} has no said/3 fact with that quote")
        if rel == "said" and s(row[2]) not in text:
            errors.append(f"{name}:{line}: said/3 quote not verbatim in {file_}: {show(row[2])!r}")
        if rel == "alias" and s(row[1]) not in text:
            errors.append(f"{name}:{line}: alias name not verbatim in {file_}: {show(row[1])!r}")
        if rel == "name_used" and s(row[1]) not in text:
            errors.append(f"{name}:{line}: name_used name not verbatim in {file_}: {show(row[1])!r}")
    return by


# ---------------------------------------------------------------------------
# QUESTIONS.md
# ---------------------------------------------------------------------------

BLOCK_RE = re.compile(r"```dq\n(.*?)```\s*```tsv\n(.*?)```", re.DOTALL)


def check_questions(path, facts, rules, decls, errors):
    name = os.path.relpath(path, REPO)
    text = open(path, encoding="utf-8").read()
    blocks = BLOCK_RE.findall(text)
    if len(blocks) < 20:
        errors.append(f"{name}: only {len(blocks)} question blocks (want at least 20)")
    db = evaluate(facts, rules)
    for k, (query, expected) in enumerate(blocks, 1):
        try:
            toks = tokenize(query, name)
            p = Parser(toks, name)
            clause = p.clause()
            if clause[0] != "query" or not p.at_end():
                raise CheckError("expected exactly one query")
            for lit in clause[2]:
                atoms = [lit] if lit[0] in ("atom", "not") else (
                    [x for x in lit[4] if x[0] in ("atom", "not")] if lit[0] == "agg" else [])
                for a in atoms:
                    if a[1] not in decls or decls[a[1]][0] != len(a[2]):
                        raise CheckError(f"{a[1]}/{len(a[2])} is not a declared relation")
            bad = unsafe_vars([], [l for l in clause[2]])
            if bad:
                raise CheckError(f"unsafe variable(s) {', '.join(bad)}")
            got = answer(db, clause[2])
        except CheckError as e:
            errors.append(f"{name}: question {k}: {e}")
            continue
        want = [l for l in expected.split("\n") if l != ""]
        if got != want:
            errors.append(f"{name}: question {k}: {query.strip()}\n  expected:\n    "
                          + "\n    ".join(want) + "\n  got:\n    " + "\n    ".join(got))
    return len(blocks)


# ---------------------------------------------------------------------------

SEEDS = {}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default=os.environ.get(
        "DQ_SEEDS", os.path.join(os.path.dirname(REPO), "shared", "seeds")))
    ap.add_argument("--dataset", default=os.path.join(HERE, "relations.dq"))
    ap.add_argument("--questions", default=os.path.join(HERE, "QUESTIONS.md"))
    ap.add_argument("-v", "--verbose", action="store_true", help="print notes and counts")
    ap.add_argument("--eval", metavar="QUERY", help="print the answer to one query and exit")
    args = ap.parse_args()

    if not os.path.isdir(args.seeds):
        print(f"check_quotes: seed folder not found: {args.seeds}", file=sys.stderr)
        return 2
    for f in sorted(os.listdir(args.seeds)):
        if f.endswith(".txt"):
            SEEDS[f] = open(os.path.join(args.seeds, f), encoding="utf-8").read()

    errors, notes = [], []
    decls, facts, rules, cites = read_dataset(args.dataset, SEEDS, errors, notes)
    by = check_facts(os.path.relpath(args.dataset, REPO), facts, cites, errors, notes)
    for rel in decls:
        if rel not in by and rel not in {r[1][1] for r in rules} and rel not in IMPORTED:
            errors.append(f"{os.path.relpath(args.dataset, REPO)}:{decls[rel][2]}: "
                          f"{rel} is declared but has no facts and no rules")

    try:
        stratify(rules)
    except CheckError as e:
        errors.append(f"{os.path.relpath(args.dataset, REPO)}: {e}")

    if args.eval:
        db = evaluate(facts, rules)
        p = Parser(tokenize(args.eval, "query"), "query")
        print("\n".join(answer(db, p.clause()[2])))
        return 0

    nq = 0
    if os.path.exists(args.questions):
        try:
            nq = check_questions(args.questions, facts, rules, decls, errors)
        except CheckError as e:
            errors.append(f"QUESTIONS.md: {e}")
    else:
        errors.append(f"{args.questions} not found")

    if args.verbose:
        for n in notes:
            print("note:", n)
        counts = {}
        for rel, _ in facts:
            counts[rel] = counts.get(rel, 0) + 1
        for rel in decls:
            kind = "derived" if rel in {r[1][1] for r in rules} else "base"
            print(f"{rel}/{decls[rel][0]}\t{kind}\t{len(by.get(rel, ()))} distinct facts")
    for e in errors:
        print("error:", e, file=sys.stderr)
    sources = sum(1 for l in open(args.dataset, encoding="utf-8")
                  if l.startswith(".source \""))
    distinct = len(set(facts))
    print(f"check_quotes: {sources} quotes, {len(facts)} fact clauses ({distinct} distinct), "
          f"{len(rules)} rules, {len(decls)} relations, {nq} questions: "
          + ("OK" if not errors else f"{len(errors)} error(s)"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
